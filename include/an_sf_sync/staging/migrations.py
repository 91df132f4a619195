"""Versioned schema migrations, applied automatically, once, in order.

Files are ``migrations/NNNN_name.sql``. The pending ones run in order in one transaction under an
advisory lock, so concurrent task processes starting at once apply every migration exactly once,
and a failing one leaves the schema as it was. After them, every
person field declared in ``synced`` gets its staging columns if it has none yet: a new field needs
no migration of its own.
"""

from __future__ import annotations

import re
from importlib import resources

import psycopg
from psycopg.sql import SQL, Identifier

from an_sf_sync import synced

_LOCK_KEY = 0x616E5F7366  # "an_sf": one advisory lock for all migrators
_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("an_sf_sync.staging").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply pending migrations; return the versions applied now (empty when up to date)."""
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS sync")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS sync.schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM sync.schema_migrations")}
        for version, name, sql in available():
            if version in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO sync.schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied_now.append(version)
        _add_field_columns(conn)
    return applied_now


def _add_field_columns(conn: psycopg.Connection) -> None:
    """Give each declared person field its staging columns. Only missing ones are altered: an ALTER
    would wait for every running transaction on the table, even with nothing to add."""
    wanted = {(table, column) for f in synced.person_fields()
              for table, column in (("an_people", f.an_column), ("sf_contacts", f.sf_column))}
    present = set(conn.execute("SELECT table_name, column_name FROM information_schema.columns"
                               " WHERE table_schema = 'staging' AND table_name IN ('an_people', 'sf_contacts')"))
    for table, column in sorted(wanted - present):
        conn.execute(SQL("ALTER TABLE staging.{} ADD COLUMN IF NOT EXISTS {} text").format(
            Identifier(table), Identifier(column)))
