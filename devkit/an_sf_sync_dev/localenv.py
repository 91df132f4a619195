"""The project-local Airflow environment used by the demo and the local Airflow.

Everything lives under the project folder (``.airflow``, ``.an_sf_sync``), examples are off and
Airflow is sized for a 2-core machine. Values already set in the environment win, so a user can
point any of them elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path


def defaults(root: Path, sqlite: bool = True) -> dict[str, str]:
    """The environment; with ``sqlite``, the metadata database is ``$AIRFLOW_HOME/airflow.db``."""
    home = Path(os.environ.get("AIRFLOW_HOME") or root / ".airflow")
    values = {
        "AIRFLOW_HOME": str(home),
        "AN_SF_SYNC_HOME": str(root / ".an_sf_sync"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    }
    if sqlite:
        values["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    return values


def project_root() -> Path:
    """The project folder: the current directory, which must hold the DAG."""
    root = Path.cwd().resolve()
    if not (root / "dags" / "actionnetwork_salesforce_sync.py").exists():
        raise SystemExit(f"{root} is not the an-sf-sync project folder (no dags/actionnetwork_salesforce_sync.py)")
    return root


def apply(root: Path, sqlite: bool = True) -> dict[str, str]:
    """Set the defaults in this process's environment (without overriding) and return the result."""
    values = defaults(root, sqlite)
    for key, value in values.items():
        os.environ.setdefault(key, value)
    Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return {key: os.environ[key] for key in values}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    for key, value in apply(project_root()).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0
