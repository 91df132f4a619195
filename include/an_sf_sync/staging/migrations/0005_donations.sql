-- When a donation pair was linked: a synced donation that changes after this instant was edited
-- on one side, which the sync reports (and never sends), while the records a run only re-reads
-- (window overlap, its own writes coming back) are skipped quietly.
ALTER TABLE sync.donation_links ADD COLUMN linked_at timestamptz NOT NULL DEFAULT now();
