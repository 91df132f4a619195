"""The embedded Postgres (the ``pgserver`` wheel): one server per data folder, stopped by its last user.

pgserver records the processes using a server in ``<pgdata>/.handle_pids.json``; when the last of
them exits, it stops the server. A process that dies without running its exit handlers (SIGKILL,
an execution timeout) would stay in that list for ever and keep the server alive, so dead
processes are dropped from the list when a process joins and again just before one leaves.

So ``airflow dags test`` or a lone task starts the server and stops it when it exits; the demo and
``an-sf-sync airflow`` hold it for their whole life (one server, started once), and the tasks and
Airflow processes they start join and leave without restarting it.
"""

from __future__ import annotations

import atexit
import logging
import warnings
from pathlib import Path
from typing import Any

HANDLES_FILE = ".handle_pids.json"


def _pgserver() -> Any:
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers; harmless
        warnings.simplefilter("ignore")
        try:
            import pgserver  # only when the embedded server is wanted
        except ImportError:
            from an_sf_sync.errors import SetupError
            from an_sf_sync.staging.db import SERVER_ADVICE

            raise SetupError("The connection 'an_sf_staging' names no server and the embedded Postgres is not "
                             "installed (it is the development extra: pip install 'an-sf-sync[embedded]'). "
                             + SERVER_ADVICE) from None
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its start-up chatter is not news
    return pgserver


def _forget_dead_users(data_dir: Path) -> None:
    import psutil
    from pgserver.utils import DiskList

    with _pgserver().postgres_server.PostgresServer._lock:
        handles = DiskList(data_dir / HANDLES_FILE)
        pids = handles.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)


def conninfo(data_dir: Path) -> str:
    """Start the server for ``data_dir`` (or join the running one) and return its connection string.

    The calling process stays a user until it exits or calls :func:`leave`.
    """
    pgserver = _pgserver()
    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    known = data_dir in pgserver.postgres_server.PostgresServer._instances
    if not known and data_dir.exists():
        _forget_dead_users(data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    if not known:
        # registered after pgserver's own exit handler, so it runs first (atexit is last-in, first-out)
        atexit.register(_forget_dead_users, data_dir)
    return server.get_uri()


def leave(data_dir: Path) -> None:
    """Stop using the server now; the server stops if no other live process uses it."""
    pgserver = _pgserver()
    data_dir = data_dir.resolve()
    server = pgserver.postgres_server.PostgresServer._instances.get(data_dir)
    if server is not None:
        _forget_dead_users(data_dir)
        server.cleanup()


def running(data_dir: Path) -> bool:
    """Whether a Postgres server runs on ``data_dir`` (whoever started it)."""
    import psutil

    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().split()[0])
    except (ValueError, IndexError, OSError):
        return False
    try:
        return psutil.Process(pid).name() == "postgres"
    except psutil.Error:
        return False
