"""``an-sf-sync airflow``: the project's own Airflow on this machine — UI, REST API and scheduler.

It prepares the project-local Airflow (see :mod:`an_sf_sync_dev.localenv`), starts both sandboxes with
generated data, points the connections of ``airflow_settings.yaml`` at them (the Salesforce CA file
filled in as ``ca_bundle``), then runs the four Airflow processes — api-server, scheduler,
dag-processor, triggerer — with the LocalExecutor. Ctrl-C stops every process it started.

Airflow's metadata lives in the embedded Postgres (database ``airflow``) unless
``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` names another: four processes write to it at once, and on
SQLite Airflow refuses a backfill whenever the file is locked (HTTP 503).

Login uses Airflow's SimpleAuthManager with one user, ``admin``, whose password is read from
``$AIRFLOW_HOME/passwords.json`` (created as ``{"admin": "admin"}``; edit it to change the
password). Every Airflow process logs to ``$AIRFLOW_HOME/logs/local/<process>.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from an_sf_sync.staging.db import embedded_held
from an_sf_sync_dev import localenv
from an_sf_sync_dev.demo import AN_KEY, DAG_ID, salesforce_sandbox_args

ADMIN = "admin"
PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0
METADATA_DB = "airflow"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8080, help="port of the Airflow UI and API (default 8080)")
    parser.add_argument("--no-sandboxes", action="store_true",
                        help="start no sandbox; use the connections already configured")
    parser.add_argument("--an-port", type=int, default=8701, help="Action Network sandbox port (0: any free port)")
    parser.add_argument("--sf-port", type=int, default=8702, help="Salesforce sandbox port (0: any free port)")
    parser.add_argument("--people", type=int, default=300, help="Action Network people to generate")
    parser.add_argument("--contacts", type=int, default=300, help="Salesforce contacts to generate")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the generated data")


def configure(root: Path, port: int) -> dict[str, str]:
    """The project-local environment plus what a served Airflow needs; return the Airflow variables.

    The port-dependent URLs are always set: task processes reach the Execution API through
    ``execution_api_server_url``, which otherwise assumes port 8080.
    """
    # the metadata database: the caller's, else the one metadata_database() gives once the server runs
    home = Path(localenv.apply(root, sqlite=False)["AIRFLOW_HOME"])
    base_url = f"http://127.0.0.1:{port}"
    os.environ.update({
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
    })
    for key, value in {
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",  # new DAG files show up within 30 s, not 5 min
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",  # the connection form's Test button
    }.items():
        os.environ.setdefault(key, value)
    return {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW") or k == "AN_SF_SYNC_HOME"}


@contextlib.contextmanager
def metadata_database() -> Iterator[str]:
    """Hold the embedded Postgres and yield the SQLAlchemy URL of its ``airflow`` database (created once)."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import URL

    from an_sf_sync.staging import embedded
    from an_sf_sync.staging.db import embedded_data_dir

    data_dir = embedded_data_dir()
    server = psycopg.conninfo.conninfo_to_dict(embedded.conninfo(data_dir))
    try:
        with psycopg.connect(**server, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (METADATA_DB,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(METADATA_DB)))
        yield URL.create("postgresql+psycopg2", username=server["user"], database=METADATA_DB,
                         query={"host": server["host"]}).render_as_string(hide_password=False)
    finally:
        embedded.leave(data_dir)


def admin_password() -> str:
    """The admin's password from the passwords file, which is created with password ``admin``."""
    path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    if not path.exists():
        path.write_text(json.dumps({ADMIN: "admin"}) + "\n", encoding="utf-8")
    return json.loads(path.read_text(encoding="utf-8"))[ADMIN]


@dataclass
class Children:
    """Child processes, each in its own session so that stopping one stops everything it forked."""

    log_dir: Path
    procs: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], ready_line: bool = False, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> str:
        """Start ``cmd``; with ``ready_line``, return the URL it announces as ``ready <url>``."""
        self.logs[name] = self.log_dir / f"{name}.log"
        log: IO[str] = self.logs[name].open("w", encoding="utf-8")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if ready_line else log, stderr=log, text=True,
                                start_new_session=True, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        log.close()
        self.procs[name] = proc
        if not ready_line:
            return ""
        line = proc.stdout.readline().strip()
        if not line.startswith("ready "):
            raise SystemExit(f"{name} did not start: {line!r}\n{self.tail(name)}")
        return line.removeprefix("ready ")

    def dead(self) -> str | None:
        return next((name for name, proc in self.procs.items() if proc.poll() is not None), None)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs.get(name)
        text = path.read_text(encoding="utf-8", errors="replace") if path and path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *names: str) -> None:
        """SIGTERM the named process groups (all by default), then SIGKILL those alive after STOP_TIMEOUT."""
        procs = [self.procs.pop(name) for name in names] if names else list(self.procs.values())
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in procs:
            _signal_group(proc, signal.SIGKILL)  # stragglers, and anything they forked
            proc.wait()


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _airflow(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "airflow"), *args]


def _check(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"`{' '.join(cmd[-3:])}` failed (exit {result.returncode})")


def start_sandboxes(children: Children, args: argparse.Namespace) -> tuple[str, str, Path]:
    """Both sandboxes, seeded; return the Action Network API URL, the Salesforce URL and its CA file."""
    cli = [sys.executable, "-m", "an_sf_sync.cli", "sandbox"]
    ca_file = Path(os.environ["AN_SF_SYNC_HOME"]) / "sandbox-salesforce-ca.pem"
    ca_file.parent.mkdir(parents=True, exist_ok=True)
    an_url = children.start("sandbox-actionnetwork", [
        *cli, "actionnetwork", "--port", str(args.an_port), "--api-key", AN_KEY,
        "--seed-people", str(args.people), "--seed", str(args.seed)], ready_line=True)
    sf_url = children.start("sandbox-salesforce", [
        *cli, "salesforce", "--port", str(args.sf_port), "--ca-file", str(ca_file),
        *salesforce_sandbox_args(),
        "--custom-field", "Contact.Employer__c=textarea",  # the field airflow_settings.yaml maps
        "--seed-contacts", str(args.contacts), "--seed", str(args.seed)], ready_line=True)
    return an_url, sf_url, ca_file


def sandbox_settings(settings: dict[str, list[dict[str, Any]]], an_url: str, sf_url: str,
                     ca_file: Path) -> dict[str, list[dict[str, Any]]]:
    """``airflow_settings.yaml`` with its sandbox connections moved to where the sandboxes listen.

    The Salesforce ``domain`` keeps its trick (a path after host:port that simple-salesforce's login
    URL lands in); only its host:port changes, and the sandbox's CA becomes ``ca_bundle``.
    """
    from an_sf_sync.settings import with_ca_bundle

    connections = []
    for entry in settings["connections"]:
        if entry["conn_id"] == "actionnetwork_default":
            entry = {**entry, "conn_host": an_url}
        elif entry["conn_id"] == "salesforce_default":
            extra = dict(entry.get("conn_extra") or {})
            _, _, rest = extra.get("domain", "").partition("/")
            entry = {**entry, "conn_extra": {**extra, "domain": f"{urlsplit(sf_url).netloc}/{rest}"}}
        connections.append(entry)
    return with_ca_bundle({**settings, "connections": connections}, ca_file)


def trust_for_test_button(ca_file: Path) -> None:
    """Let the provider's own Salesforce hook (the UI's *Test* button) trust the sandbox's CA too.

    That hook knows nothing of our ``ca_bundle`` extra and verifies TLS with requests' defaults, which
    ``REQUESTS_CA_BUNDLE`` names: here the public CAs plus the sandbox's. Our clients keep ``ca_bundle``.
    """
    import certifi

    bundle = ca_file.with_name("ca-bundle-with-sandbox.pem")
    bundle.write_text(Path(certifi.where()).read_text(encoding="utf-8") + ca_file.read_text(encoding="utf-8"),
                      encoding="utf-8")
    os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)


def wait_healthy(children: Children, base_url: str) -> None:
    """Until every Airflow component reports healthy; fail fast if a process dies."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if (name := children.dead()) is not None:
            raise SystemExit(f"{name} exited at start-up:\n{children.tail(name)}")
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=5) as response:
                health = json.load(response)
            if all(part.get("status") == "healthy" for part in health.values()):
                return
        time.sleep(1)
    raise SystemExit(f"Airflow did not become healthy within {START_TIMEOUT:.0f} s:\n"
                     + "\n".join(f"--- {name}\n{children.tail(name, 15)}" for name in PROCESSES))


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Make SIGTERM behave like Ctrl-C, so ``kill`` cleans up too; and Ctrl-C itself, even when the
    process was started with SIGINT ignored (as a shell without job control starts background jobs)."""
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(children: Children, args: argparse.Namespace, root: Path, stack: contextlib.ExitStack) -> int:
    from an_sf_sync import settings

    base_url = os.environ["AIRFLOW__API__BASE_URL"]
    lines = []
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in os.environ:
        os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = stack.enter_context(metadata_database())
        lines.append(f"  metadata                embedded Postgres, database {METADATA_DB}")
    print(f"preparing the Airflow database in {os.environ['AIRFLOW_HOME']} ...", flush=True)
    _check(_airflow("db", "migrate"))
    password = admin_password()
    passwords_file = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    declared = settings.load(root / "airflow_settings.yaml")
    if args.no_sandboxes:
        declared["connections"] = []
    else:
        print("starting the sandboxes ...", flush=True)
        an_url, sf_url, ca_file = start_sandboxes(children, args)
        declared = sandbox_settings(declared, an_url, sf_url, ca_file)
        trust_for_test_button(ca_file)
        lines += [f"  Action Network sandbox  {an_url}  ({args.people} people)",
                  f"  Salesforce sandbox      {sf_url}  ({args.contacts} contacts, CA {ca_file})"]
    settings.apply(declared)
    if (embedded := stack.enter_context(embedded_held())) is not None:
        lines.append(f"  staging                 embedded Postgres ({embedded})")
    print("starting Airflow (api-server, scheduler, dag-processor, triggerer) ...", flush=True)
    for name in PROCESSES:
        children.start(name, _airflow(name))
    wait_healthy(children, base_url)
    _check(_airflow("dags", "reserialize"))
    print("\n".join([
        "",
        f"Airflow is running at {base_url}",
        f"  log in as {ADMIN} / {password}  (passwords file {passwords_file})",
        f"  DAG {DAG_ID}: {base_url}/dags/{DAG_ID} (paused: unpause it to start the hourly runs)",
        f"  sync report: {base_url}/sync-report/",
        *lines,
        f"  process logs in {children.log_dir}",
        "Press Ctrl-C to stop.",
    ]), flush=True)
    while (name := children.dead()) is None:
        time.sleep(1)
    print(f"{name} exited unexpectedly:\n{children.tail(name)}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    root = localenv.project_root()
    configure(root, args.port)
    log_dir = Path(os.environ["AIRFLOW_HOME"]) / "logs" / "local"
    log_dir.mkdir(parents=True, exist_ok=True)
    children = Children(log_dir)
    with _interruptible(), contextlib.ExitStack() as stack:
        try:
            return _serve(children, args, root, stack)
        except KeyboardInterrupt:
            print("\nstopping ...", flush=True)
            return 0
        finally:
            children.stop()  # first the processes that use the embedded Postgres, then (on leaving) it
            print("stopped.", flush=True)
