-- Rejects are open until the record is seen again without that problem (resolved). A problem seen
-- again in a later run is one row, moved to that run (first_run keeps when it began), so records
-- that wait for many runs do not pile up rows: the open ones are what an admin has to look at.
ALTER TABLE sync.rejects ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'open';
ALTER TABLE sync.rejects ADD COLUMN first_run text;
ALTER TABLE sync.rejects ADD COLUMN IF NOT EXISTS resolved_run text;
ALTER TABLE sync.rejects ADD COLUMN IF NOT EXISTS resolved_at timestamptz;
-- The staged record a reject waits on (staging table, id), when later runs retry it on their own.
ALTER TABLE sync.rejects ADD COLUMN pending_kind text;
ALTER TABLE sync.rejects ADD COLUMN pending_id text;
CREATE INDEX rejects_open ON sync.rejects (record_id) WHERE status = 'open';

-- Records that could not be written yet (a dependency not ready, a per-record error): the last
-- staged copy of each, put back into every run's staging until it goes through.
CREATE TABLE sync.pending (
    kind             text        NOT NULL,   -- the staging table the record comes from
    record_id        text        NOT NULL,
    reason_code      text        NOT NULL,
    row              jsonb       NOT NULL,   -- the staged row (without run_id)
    related          jsonb,                  -- rows staged with it (an Opportunity's Contact Roles)
    first_run        text        NOT NULL,
    last_run         text        NOT NULL,
    attempts         int         NOT NULL DEFAULT 1,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, record_id)
);
