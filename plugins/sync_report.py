"""The "Sync report" pages of the Airflow UI: per run, what moved, its open rejects, its conflicts.

A small FastAPI app served by the api-server under ``/sync-report``, shown inside the UI through
two external views: a "Sync report" entry in the Browse menu (every run, with a chart of the last
days) and a "Sync report" tab on each DAG run (that run, its rejects filterable and downloadable as
CSV). It needs the same login as the UI and read access to the DAG's runs; the data comes from
:mod:`an_sf_sync.staging.report`, the pages from :mod:`an_sf_sync.report_pages`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, StreamingResponse

from an_sf_sync import report_pages
from an_sf_sync.staging import report

DAG_ID = "actionnetwork_salesforce_sync"
URL_PREFIX = "/sync-report"

app = FastAPI(title="an-sf-sync sync report", docs_url=None, redoc_url=None, openapi_url=None,
              dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID))])
Scope = Literal["problems", "not_in_scope", "all"]


@app.get("/", response_class=HTMLResponse)
def all_runs() -> str:
    """The latest runs and the chart. A plain ``def``: FastAPI runs it in a thread, off the event loop."""
    with report.connect() as conn:
        return report_pages.render_runs(report.runs(conn), report.history(conn, datetime.now(UTC)))


@app.get("/run", response_class=HTMLResponse)
def one_run(run_id: str, reason: str | None = None, object: str | None = None, scope: Scope = "problems") -> str:
    rejects = report.RejectFilter(reason or None, object or None, scope)
    with report.connect() as conn:
        return report_pages.render_run(report.run_detail(conn, run_id, rejects), run_id, rejects)


@app.get("/rejects.csv")
def rejects_csv(run_id: str, reason: str | None = None, object: str | None = None,
                scope: Scope = "problems") -> StreamingResponse:
    """The run's open rejects matching the filters, every one of them, streamed."""
    rejects = report.RejectFilter(reason or None, object or None, scope)

    def lines():
        with report.connect() as conn:
            links = report.record_links(conn, report.existing_tables(conn))
            yield from report_pages.rejects_csv(run_id, report.iter_rejects(conn, run_id, rejects), links)

    name = quote(f"rejects-{run_id}.csv", safe="")
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


class SyncReportPlugin(AirflowPlugin):
    name = "an_sf_sync_report"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Sync report"}]
    external_views = [
        {"name": "Sync report", "href": f"{URL_PREFIX}/", "url_route": "sync-report", "destination": "nav",
         "category": "browse"},
        {"name": "Sync report", "href": f"{URL_PREFIX}/run?run_id={{RUN_ID}}", "url_route": "sync-report-run",
         "destination": "dag_run"},
    ]
