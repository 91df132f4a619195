-- Records matched by email whose first sync waits for a later run (the write budget deferred their
-- pair): what the run decided both sides should hold, and what each side held where it differed.
-- When the pair's turn comes, an edit either side made meanwhile is told apart from what the match
-- was waiting to write, as a synced pair's base does. Removed once the pair is linked.
CREATE TABLE sync.first_matches (
    an_id    text PRIMARY KEY,
    sf_id    text NOT NULL,
    decided  jsonb NOT NULL,  -- field (and "subscribed") -> the value both sides are to hold
    held     jsonb NOT NULL,  -- {"actionnetwork": {...}, "salesforce": {...}}: a side's value where it differs
    run_id   text NOT NULL
);
