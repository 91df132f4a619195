"""The staging database's handle (migrated on first use), and per-run frames in.

Frames land with COPY, never row-by-row INSERTs. Writing a run's rows for a table first deletes
that run's earlier rows in the same transaction, so a retried task replaces what it wrote before
instead of adding to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from an_sf_sync.staging import migrations
from an_sf_sync.staging.db import STAGING_CONN_ID, resolve_conninfo

WORK_MEM_KB = 128 * 1024  # memory for each hash or sort of a staging session


class StagingStore:
    """A handle on the staging database; cheap to create, opens short-lived connections."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._migrated = False

    @classmethod
    def from_connection(cls, conn_id: str = STAGING_CONN_ID) -> StagingStore:
        return cls(resolve_conninfo(conn_id))

    def connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.conninfo)
        # A first sync joins, groups and sorts millions of rows: with Postgres's default 4 MB per hash
        # or sort they spill to disk in batches, a third slower. A server set higher keeps its own.
        conn.execute("SELECT set_config('work_mem', %s, false) FROM pg_settings WHERE name = 'work_mem'"
                     " AND setting::bigint < %s", (f"{WORK_MEM_KB}kB", WORK_MEM_KB))
        if not self._migrated:
            migrations.migrate(conn)
            self._migrated = True
        conn.commit()  # the connection starts idle, as it opened
        return conn

    def replace_run_rows(self, table: str, run_id: str, columns: Sequence[str],
                         chunks: Iterable[Iterable[Sequence[Any]]]) -> int:
        """Replace ``run_id``'s rows of ``staging.<table>`` with the given rows; return the count.

        ``chunks`` is consumed lazily, so a caller can stream millions of rows in bounded memory.
        Rows carry the values for ``columns`` (without ``run_id``, which is prepended here).
        """
        target = sql.Identifier("staging", table)
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            target, sql.SQL(", ").join(map(sql.Identifier, ["run_id", *columns])))
        count = 0
        with self.connect() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {} WHERE run_id = %s").format(target), (run_id,))
            with cur.copy(copy) as cp:
                for chunk in chunks:
                    for row in chunk:
                        cp.write_row((run_id, *row))
                        count += 1
        return count


# ``column IN {MANY}`` with ``many(values)``: a partition's hundred thousand ids or keys go as one JSON
# document, which psycopg sends as it is (a Python list it dumps element by element, for seconds).
MANY = "(SELECT jsonb_array_elements_text(%s::jsonb))"


def many(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def scalar(conn: psycopg.Connection, query: str | sql.Composed, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
    """The first column of a query's first row (None without rows): counts, flags, one value."""
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def frame(conn: psycopg.Connection, query: str | sql.Composed, params: Sequence[Any] | Mapping[str, Any] = ()) -> pd.DataFrame:
    """A query's rows as a frame of Python values: missing values stay None (pandas would make
    text columns NaN-backed strings), so ``x or y`` and ``isinstance`` checks mean what they say."""
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [d.name for d in cur.description or ()]
        return pd.DataFrame(cur.fetchall(), columns=columns, dtype=object)


def copy_rows(conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    schema, name = table.split(".")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    count = 0
    with conn.cursor() as cur, cur.copy(statement) as cp:
        for row in rows:
            cp.write_row(row)
            count += 1
    return count


# From this many rows a bulk insert rebuilds the target's indexes instead of updating them row by row.
BULK_ROWS = 20_000


def bulk_insert(conn: psycopg.Connection, table: str, query: str, rows: int) -> None:
    """``INSERT INTO table <query>`` of ``rows`` rows; for many rows into a table not many times larger
    (a first sync fills an empty one), with the table's indexes dropped and built again after the insert.

    A B-tree updated in random key order touches a different page for every row: once the index
    outgrows shared buffers, a million rows take half a minute, against seconds to build it by
    sorting. The rows must not clash with each other or with the table's (unique indexes are
    rebuilt, and fail the transaction if they do). Dropping an index locks the table, readers
    included, until commit: for tables only the run's own tasks read (not those of the report pages).
    """
    target = sql.Identifier(*table.split("."))
    insert = sql.SQL("INSERT INTO {} ").format(target) + sql.SQL(query)
    if rows < BULK_ROWS or scalar(conn, sql.SQL("SELECT count(*) > %s FROM {}").format(target), (4 * rows,)):
        conn.execute(insert)
        return
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname, c.contype"
        " FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u')"
        " WHERE i.indrelid = %s::regclass", (table,)).fetchall()
    for name, _, constraint, _ in indexes:
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(target, sql.Identifier(constraint))
                     if constraint else sql.SQL("DROP INDEX {}").format(sql.Identifier(*name.split("."))))
    conn.execute(insert)
    for name, definition, constraint, kind in indexes:
        conn.execute(definition)
        if constraint:
            conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}").format(
                target, sql.Identifier(constraint), sql.SQL("PRIMARY KEY" if kind == "p" else "UNIQUE"),
                sql.Identifier(name.split(".")[-1])))
