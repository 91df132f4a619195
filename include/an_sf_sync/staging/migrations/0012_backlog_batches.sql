-- A first sync's backlog comes back a batch at a time: each run re-stages only the records the
-- next runs' write budget can take, oldest first, instead of re-planning the whole backlog hourly.
-- people: the activist and Contact ids a record waits for (a BACKLOG pair, the person whose
-- pair waits, the person a taker waits to see synced); writes: the Action Network writes it was
-- deferred with; queued_at, rank: its place.
ALTER TABLE sync.pending ADD COLUMN people text[];
ALTER TABLE sync.pending ADD COLUMN writes int NOT NULL DEFAULT 0;
ALTER TABLE sync.pending ADD COLUMN queued_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sync.pending ADD COLUMN rank bigint;
UPDATE sync.pending SET writes = 1 WHERE reason_code = 'BACKLOG';
