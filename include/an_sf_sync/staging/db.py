"""Where staging lives: a real Postgres named by a connection, or an embedded one started on demand.

The rule is simple and documented in the README: when the Airflow connection ``an_sf_staging`` has a
host, that server is used; otherwise (no connection, or one without a host) the project runs its own
Postgres from the ``pgserver`` wheel, with its data in ``$AN_SF_SYNC_HOME/pgdata`` (default
``./.an_sf_sync``), started on first use and stopped when its last user exits (see
:mod:`an_sf_sync.staging.embedded`).

The embedded server lives in one machine's folder. With a distributed executor (Celery,
Kubernetes, ...) tasks run on several machines and would each see their own database, so there it is
refused, as it is wherever ``AN_SF_SYNC_EMBEDDED_POSTGRES=refuse`` is set.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from an_sf_sync.errors import SetupError

log = logging.getLogger(__name__)

STAGING_CONN_ID = "an_sf_staging"
EMBEDDED_SWITCH = "AN_SF_SYNC_EMBEDDED_POSTGRES"
# Executors that run every task on the scheduler's machine, where one data folder is shared.
SINGLE_MACHINE_EXECUTORS = {"LocalExecutor", "SequentialExecutor", "DebugExecutor"}
SERVER_ADVICE = (
    "Point the Airflow connection 'an_sf_staging' (type Postgres) at a server every worker reaches: "
    "host, port, database (schema), login and password, e.g. "
    "AIRFLOW_CONN_AN_SF_STAGING='postgres://sync:secret@db.internal:5432/an_sf_sync?sslmode=require'.")


def project_home() -> Path:
    """The project-local folder for the embedded database and sandbox state."""
    return Path(os.environ.get("AN_SF_SYNC_HOME") or Path.cwd() / ".an_sf_sync").resolve()


def embedded_data_dir() -> Path:
    return project_home() / "pgdata"


def distributed_executors() -> list[str]:
    """The configured executors that may run a task on another machine than the scheduler's."""
    try:
        from airflow.configuration import conf

        configured = conf.get("core", "executor", fallback="") or ""
    except Exception:  # no Airflow configuration here: nothing is distributed
        configured = os.environ.get("AIRFLOW__CORE__EXECUTOR", "")
    names = [part.split(":")[-1].strip().rsplit(".", 1)[-1] for part in configured.split(",") if part.strip()]
    return [name for name in names if name not in SINGLE_MACHINE_EXECUTORS]


def embedded_refusal() -> str | None:
    """Why the embedded Postgres may not be used here, or None when it may."""
    if os.environ.get(EMBEDDED_SWITCH, "").strip().lower() == "refuse":
        return (f"The embedded Postgres is refused here ({EMBEDDED_SWITCH}=refuse) and the connection "
                f"'{STAGING_CONN_ID}' names no server. {SERVER_ADVICE}")
    if remote := distributed_executors():
        return (f"Airflow runs tasks with {', '.join(remote)}, so tasks run on several machines and an "
                f"embedded Postgres on each would hold different data. {SERVER_ADVICE}")
    return None


def embedded_conninfo(data_dir: Path | None = None) -> str:
    """Start (or join) the embedded Postgres and return its connection string, where it is allowed."""
    from an_sf_sync.staging import embedded

    if reason := embedded_refusal():
        raise SetupError(reason)
    return embedded.conninfo(data_dir or embedded_data_dir())


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


def named_conninfo(conn_id: str = STAGING_CONN_ID) -> str | None:
    """The server the connection names; None without such a connection or without a host."""
    conn = None
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # no such connection (or no Airflow context): use the embedded server
        log.debug("connection %s not available (%s); using the embedded Postgres", conn_id, exc)
    return conninfo_from_connection(conn) if conn is not None else None


def resolve_conninfo(conn_id: str = STAGING_CONN_ID) -> str:
    """The staging database for this process: the named connection's server, else the embedded one."""
    return named_conninfo(conn_id) or embedded_conninfo()


@contextlib.contextmanager
def embedded_held(conn_id: str = STAGING_CONN_ID) -> Iterator[str | None]:
    """For a long-running command: when staging is embedded, start it once and stop it at the end.

    Yields the embedded server's connection string, or None when the connection names a server.
    The processes started meanwhile join the running server instead of starting their own.
    """
    if named_conninfo(conn_id) is not None:
        yield None
        return
    from an_sf_sync.staging import embedded

    conninfo = embedded_conninfo()
    try:
        yield conninfo
    finally:
        embedded.leave(embedded_data_dir())
