-- A reject stays 'open' until its record syncs or a person deals with it ('resolved'); the report
-- lists open rejects. IF NOT EXISTS: the retry queue of pending records adds the same column.
ALTER TABLE sync.rejects ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'open';
CREATE INDEX IF NOT EXISTS rejects_open ON sync.rejects (run_id) WHERE status = 'open';
-- Whether a record was rejected for the same reason before (the alert counts new rejects only).
CREATE INDEX IF NOT EXISTS rejects_record ON sync.rejects (record_id, reason_code);

-- The alerts sent about each run (at most one of a kind per run, whatever reruns a task).
CREATE TABLE IF NOT EXISTS sync.alerts (
    run_id    text        NOT NULL,
    kind      text        NOT NULL,   -- rejects | api_allowance | overdue
    headline  text        NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, kind)
);
