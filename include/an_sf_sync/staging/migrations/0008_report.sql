-- The sync report lists each run's open rejects; the new-rejects alert asks whether a record was
-- rejected for the same reason before.
CREATE INDEX IF NOT EXISTS rejects_open_run ON sync.rejects (run_id) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS rejects_record ON sync.rejects (record_id, reason_code);

-- The alerts sent about each run (at most one of a kind per run, whatever reruns a task).
CREATE TABLE IF NOT EXISTS sync.alerts (
    run_id    text        NOT NULL,
    kind      text        NOT NULL,   -- rejects | api_allowance | overdue
    headline  text        NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, kind)
);
