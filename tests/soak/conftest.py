"""The soak drives the DAG through Airflow, with the same fixtures as the DAG tests."""

from tests.dags.conftest import airflow_db, dag  # noqa: F401
