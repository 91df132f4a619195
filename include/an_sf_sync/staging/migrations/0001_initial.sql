-- Two schemas with different lifetimes:
--   staging: what each run extracted and planned, tagged with the run id; safe to delete by run.
--   sync:    durable state that outlives runs (watermarks, run summaries, rejects, links).

CREATE SCHEMA IF NOT EXISTS staging;

-- One row per run and source: the window that was extracted and what landed.
CREATE TABLE staging.extracts (
    run_id        text        NOT NULL,
    source        text        NOT NULL,          -- 'actionnetwork' | 'salesforce'
    window_start  timestamptz,                   -- NULL = full extract
    window_end    timestamptz NOT NULL,
    counts        jsonb       NOT NULL DEFAULT '{}',
    extracted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, source)
);

CREATE TABLE staging.an_people (
    run_id         text NOT NULL,
    an_id          text NOT NULL,
    email          text,
    email_status   text,
    given_name     text,
    family_name    text,
    street         text,
    city           text,
    state          text,
    postal_code    text,
    country        text,
    custom_fields  jsonb,
    created_date   timestamptz,
    modified_date  timestamptz,
    PRIMARY KEY (run_id, an_id)
);

CREATE TABLE staging.an_actions (
    run_id             text NOT NULL,
    an_id              text NOT NULL,
    action_type        text NOT NULL,
    title              text,
    origin_system      text,
    event_campaign_id  text,
    created_date       timestamptz,
    modified_date      timestamptz,
    PRIMARY KEY (run_id, an_id)
);

CREATE TABLE staging.an_participations (
    run_id         text NOT NULL,
    an_id          text NOT NULL,
    action_type    text NOT NULL,
    action_id      text NOT NULL,
    person_id      text,
    status         text,
    created_date   timestamptz,
    modified_date  timestamptz,
    PRIMARY KEY (run_id, an_id)
);

CREATE TABLE staging.an_donations (
    run_id               text NOT NULL,
    an_id                text NOT NULL,
    fundraising_page_id  text,
    person_id            text,
    amount               numeric(14, 2),
    currency             text,
    recurring            boolean NOT NULL DEFAULT false,
    period               text,
    created_date         timestamptz,
    modified_date        timestamptz,
    PRIMARY KEY (run_id, an_id)
);

-- Durable state.
CREATE TABLE sync.watermarks (
    source           text        NOT NULL,
    committed_until  timestamptz NOT NULL,   -- every change before this instant has been synced
    run_id           text        NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source)
);

CREATE TABLE sync.runs (
    run_id        text PRIMARY KEY,
    window_start  timestamptz,
    window_end    timestamptz,
    status        text        NOT NULL,       -- 'running' | 'succeeded' | 'failed'
    summary       jsonb       NOT NULL DEFAULT '{}',
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);

-- Every record a run skipped or could not write, with a reason a CRM admin can act on.
CREATE TABLE sync.rejects (
    id           bigserial   PRIMARY KEY,
    run_id       text        NOT NULL,
    source       text        NOT NULL,       -- where the record came from
    object       text        NOT NULL,       -- 'person', 'contact', 'donation', ...
    record_id    text,
    reason_code  text        NOT NULL,
    message      text        NOT NULL,
    payload      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, source, object, record_id, reason_code)
);
CREATE INDEX rejects_run ON sync.rejects (run_id);
