-- Every Action Network action seen, with when someone last took it: a run re-reads only the
-- actions that changed and the takers of actions taken lately; dormant ones are swept less often.
CREATE TABLE sync.an_actions (
    an_id              text PRIMARY KEY,
    action_type        text NOT NULL,
    title              text,
    origin_system      text,
    event_campaign_id  text,
    created_date       timestamptz,
    modified_date      timestamptz,
    last_taken_at      timestamptz
);
