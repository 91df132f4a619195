"""Which alerts each run has had (``sync.alerts``), so a rerun of a task sends nothing new."""

from __future__ import annotations

from typing import Any

import psycopg


def claim(conn: psycopg.Connection[Any], run_id: str, kind: str, headline: str) -> bool:
    """Record that ``run_id`` had an alert of ``kind``, committed at once; False if it already had one."""
    claimed = conn.execute("INSERT INTO sync.alerts (run_id, kind, headline) VALUES (%s, %s, %s)"
                           " ON CONFLICT DO NOTHING RETURNING kind", (run_id, kind, headline)).fetchone()
    conn.commit()
    return claimed is not None
