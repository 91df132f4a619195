"""What setup and the extracts learn about the two orgs and keep for later tasks (``sync.settings``:
field lengths, time zone, instance URL, API usage...), and the master records setup ensured
(``sync.masters``). Each call is its own short transaction."""

from __future__ import annotations

import json
from typing import Any

from an_sf_sync.staging.store import StagingStore


def get(store: StagingStore, key: str, default: Any = None) -> Any:
    with store.connect() as conn:
        row = conn.execute("SELECT value FROM sync.settings WHERE key = %s", (key,)).fetchone()
    return row[0] if row else default


def put(store: StagingStore, key: str, value: Any) -> None:
    with store.connect() as conn:
        conn.execute("INSERT INTO sync.settings (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE"
                     " SET value = EXCLUDED.value, updated_at = now()", (key, json.dumps(value)))


def masters(store: StagingStore) -> dict[str, str]:
    """kind -> record id of the master records setup ensured."""
    with store.connect() as conn:
        return dict(conn.execute("SELECT kind, record_id FROM sync.masters").fetchall())


def remember_master(store: StagingStore, kind: str, system: str, record_id: str, name: str) -> None:
    with store.connect() as conn:
        conn.execute("INSERT INTO sync.masters (kind, system, record_id, name) VALUES (%s, %s, %s, %s)"
                     " ON CONFLICT (kind) DO UPDATE SET record_id = EXCLUDED.record_id, name = EXCLUDED.name,"
                     " recorded_at = now()", (kind, system, record_id, name))
