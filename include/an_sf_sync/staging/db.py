"""Where staging lives: a real Postgres named by a connection, or an embedded one started on demand.

The rule is simple and documented in the README: when the Airflow connection ``an_sf_staging`` has a
host, that server is used; otherwise (no connection, or one without a host) the project runs its own
Postgres from the ``pgserver`` wheel, with its data in ``$AN_SF_SYNC_HOME/pgdata`` (default
``./.an_sf_sync``). The embedded server outlives the process that started it, so every Airflow task
process, the CLI and the tests reach the same data.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psycopg

log = logging.getLogger(__name__)

STAGING_CONN_ID = "an_sf_staging"


def project_home() -> Path:
    """The project-local folder for the embedded database and sandbox state."""
    return Path(os.environ.get("AN_SF_SYNC_HOME") or Path.cwd() / ".an_sf_sync").resolve()


def embedded_conninfo(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded Postgres and return its connection string."""
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers; harmless
        warnings.simplefilter("ignore")
        import pgserver  # heavy-ish; only when the embedded server is wanted

    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its start-up chatter is not news
    data_dir = data_dir or project_home() / "pgdata"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    return server.get_uri()


def conninfo_from_connection(conn: Any) -> str | None:
    """A libpq conninfo for an Airflow connection that names a server; None when it has no host."""
    if not getattr(conn, "host", None):
        return None
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    params = {
        "host": conn.host,
        "port": conn.port or 5432,
        "dbname": conn.schema or "postgres",
        "user": conn.login or None,
        "password": conn.password or None,
        "sslmode": extra.get("sslmode"),
        "sslrootcert": extra.get("sslrootcert"),
        "application_name": "an-sf-sync",
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


def resolve_conninfo(conn_id: str = STAGING_CONN_ID) -> str:
    """The staging database for this process: the named connection's server, else the embedded one."""
    conn = None
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # no such connection (or no Airflow context): use the embedded server
        log.debug("connection %s not available (%s); using the embedded Postgres", conn_id, exc)
    conninfo = conninfo_from_connection(conn) if conn is not None else None
    return conninfo or embedded_conninfo()
