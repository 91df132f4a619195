"""Test session set-up: an isolated Airflow home, then the project's fixtures.

Airflow reads its configuration at import time, so the environment is fixed here, before any
test module imports airflow.
"""

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
_airflow_home = Path(tempfile.mkdtemp(prefix="an-sf-sync-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_airflow_home / 'airflow.db'}"
os.environ.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)

pytest_plugins = [
    "tests.fixtures.actionnetwork",
    "tests.fixtures.salesforce",
    "tests.fixtures.smtp",
    "tests.fixtures.staging",
]
