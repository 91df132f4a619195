"""What each DAG task does, given its Airflow context. The DAG file only wires these together.

Each function returns a small, JSON-able dict (counts and references) for XCom; data itself moves
through the staging tables.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from an_sf_sync.staging.store import StagingStore
from an_sf_sync.window import Window, extract_window

log = logging.getLogger(__name__)

SOURCES = ("actionnetwork",)


def _window(context: dict[str, Any], store: StagingStore, source: str) -> Window:
    dag_run = context["dag_run"]
    overlap = timedelta(minutes=float(context["params"].get("overlap_minutes", 5)))
    return extract_window(
        interval_start=context.get("data_interval_start"),
        interval_end=context.get("data_interval_end"),
        run_after=dag_run.run_after,
        watermark=None if context["params"].get("full_refresh") else store.watermark(source),
        now=datetime.now(UTC),
        overlap=overlap,
    )


def extract_an(context: dict[str, Any]) -> dict[str, Any]:
    from an_sf_sync.actionnetwork.hook import ActionNetworkHook
    from an_sf_sync.extract import extract_actionnetwork

    store = StagingStore.from_connection()
    window = _window(context, store, "actionnetwork")
    client = ActionNetworkHook().get_conn()
    counts = extract_actionnetwork(client, store, context["run_id"], window)
    return {"source": "actionnetwork", "full": window.full, "counts": counts,
            "tables": ["staging.an_people", "staging.an_actions", "staging.an_participations",
                       "staging.an_donations"]}


def finalize(context: dict[str, Any]) -> dict[str, Any]:
    """Advance each source's watermark to the end of what this run extracted, and record the run."""
    import json

    store = StagingStore.from_connection()
    run_id = context["run_id"]
    committed, summary = {}, {}
    for source in SOURCES:
        extract = store.extract_of(run_id, source)
        if extract is None:
            raise RuntimeError(f"run {run_id} has no {source} extract; rerun its extract task first")
        committed[source] = store.commit_watermark(source, extract["window_end"], run_id).isoformat()
        summary[source] = extract["counts"]
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO sync.runs (run_id, status, summary, finished_at) VALUES (%s, 'succeeded', %s, now())"
            " ON CONFLICT (run_id) DO UPDATE SET status = 'succeeded', summary = EXCLUDED.summary,"
            " finished_at = now()",
            (run_id, json.dumps({"extracted": summary, "watermarks": committed})),
        )
    log.info("run %s finished; watermarks now %s", run_id, committed)
    return {"watermarks": committed}
