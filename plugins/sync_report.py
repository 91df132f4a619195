"""The "Sync report" page of the Airflow UI: per run, counts, rejects and conflicts from staging.

A small FastAPI app served by the api-server under ``/sync-report``, shown inside the UI through
two external views: a "Sync report" entry in the Browse menu (every run) and a "Sync report" tab
on each DAG run (that run). It needs the same login as the UI and read access to the DAG's runs;
the data comes from :mod:`an_sf_sync.report`.
"""

from __future__ import annotations

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from an_sf_sync import report

DAG_ID = "actionnetwork_salesforce_sync"
URL_PREFIX = "/sync-report"

app = FastAPI(title="an-sf-sync sync report", docs_url=None, redoc_url=None, openapi_url=None,
              dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID))])


@app.get("/", response_class=HTMLResponse)
def all_runs() -> str:
    """The latest runs. A plain ``def``: FastAPI runs it in a thread, off the event loop."""
    with report.connect() as conn:
        return report.render_runs(report.runs(conn))


@app.get("/run", response_class=HTMLResponse)
def one_run(run_id: str) -> str:
    with report.connect() as conn:
        return report.render_run(report.run_detail(conn, run_id), run_id)


class SyncReportPlugin(AirflowPlugin):
    name = "an_sf_sync_report"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Sync report"}]
    external_views = [
        {"name": "Sync report", "href": f"{URL_PREFIX}/", "url_route": "sync-report", "destination": "nav",
         "category": "browse"},
        {"name": "Sync report", "href": f"{URL_PREFIX}/run?run_id={{RUN_ID}}", "url_route": "sync-report-run",
         "destination": "dag_run"},
    ]
