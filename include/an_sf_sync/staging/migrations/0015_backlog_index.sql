-- A run finds the next batch of the write budget's backlog, and the other records it retries,
-- by index: a first sync of a million activists queues as many records.
CREATE INDEX pending_queue ON sync.pending (reason_code, queued_at, rank, kind, record_id);
CREATE INDEX pending_retried ON sync.pending (kind, record_id) WHERE reason_code <> 'BACKLOG';
