-- Durable sync state for the two-way merge, and each run's plan.

-- The records the sync creates on both sides when it starts, remembered by id so that renaming
-- them in Salesforce does not break the sync.
CREATE TABLE sync.masters (
    kind         text PRIMARY KEY,     -- sf_subscribers_campaign | sf_donations_account | an_users_form | an_donations_page
    system       text NOT NULL,        -- 'salesforce' | 'actionnetwork'
    record_id    text NOT NULL,
    name         text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- Settings resolved by setup (e.g. custom field mapping), read by the other tasks.
CREATE TABLE sync.settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What each side holds, by identity: kept current from every extract, so matching never needs
-- to re-read a side.
CREATE TABLE sync.an_people (
    an_id          text PRIMARY KEY,
    email_key      text,
    email_status   text,
    modified_date  timestamptz
);
CREATE INDEX an_people_email ON sync.an_people (email_key);

CREATE TABLE sync.sf_contacts (
    sf_id               text PRIMARY KEY,
    email_key           text,
    is_deleted          boolean NOT NULL DEFAULT false,
    created_date        timestamptz,
    last_modified_date  timestamptz
);
CREATE INDEX sf_contacts_email ON sync.sf_contacts (email_key);

-- Current members of the Subscribers campaign: contact -> member record.
CREATE TABLE sync.sf_subscribers (
    contact_id  text PRIMARY KEY,
    member_id   text NOT NULL
);

-- One row per synced person: the pair of ids and the last synced value of every field.
CREATE TABLE sync.contact_links (
    an_id           text PRIMARY KEY,
    sf_id           text NOT NULL UNIQUE,
    email_key       text NOT NULL,
    state           text NOT NULL DEFAULT 'active',   -- active | stopped | sf_deleted
    base            jsonb NOT NULL DEFAULT '{}',
    linked_run      text NOT NULL,
    updated_run     text NOT NULL,
    stopped_reason  text
);
CREATE INDEX contact_links_email ON sync.contact_links (email_key);

-- Salesforce contacts that share an email with the one picked to sync: reported, never synced.
CREATE TABLE sync.duplicates (
    sf_id         text PRIMARY KEY,
    email_key     text NOT NULL,
    winner_sf_id  text NOT NULL,
    rule          text NOT NULL,
    run_id        text NOT NULL,
    detected_at   timestamptz NOT NULL DEFAULT now()
);

-- Both sides changed the same field since the last sync; the later change won.
CREATE TABLE sync.conflicts (
    id           bigserial PRIMARY KEY,
    run_id       text NOT NULL,
    an_id        text NOT NULL,
    sf_id        text NOT NULL,
    field        text NOT NULL,
    an_value     text,
    sf_value     text,
    winner       text NOT NULL,       -- 'actionnetwork' | 'salesforce'
    an_modified  timestamptz,
    sf_modified  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, an_id, field)
);

CREATE TABLE sync.action_links (
    an_id       text PRIMARY KEY,
    an_type     text NOT NULL,
    sf_id       text NOT NULL UNIQUE,
    origin      text NOT NULL,          -- where it was created first: 'actionnetwork' | 'salesforce'
    state       text NOT NULL DEFAULT 'active',
    linked_run  text NOT NULL
);

CREATE TABLE sync.member_links (
    an_action_id  text NOT NULL,
    an_person_id  text NOT NULL,
    sf_member_id  text UNIQUE,
    origin        text NOT NULL,
    linked_run    text NOT NULL,
    PRIMARY KEY (an_action_id, an_person_id)
);

CREATE TABLE sync.donation_links (
    an_id       text PRIMARY KEY,
    sf_id       text NOT NULL UNIQUE,
    origin      text NOT NULL,
    linked_run  text NOT NULL
);

-- What a run decided to do, row by row, and what became of it. Loads work through the rows
-- still 'pending' (or 'attempting': written but not confirmed), so a rerun finishes what is left.
CREATE TABLE staging.plan (
    run_id       text   NOT NULL,
    step         text   NOT NULL,      -- contacts | campaigns | opportunities
    seq          bigint NOT NULL,
    pair_id      bigint,               -- rows about the same linked pair share it
    object       text   NOT NULL,      -- contact | person | subscription | campaign | member | ...
    direction    text   NOT NULL,      -- to_salesforce | to_actionnetwork | local
    action       text   NOT NULL,      -- create | update | link | subscribe | unsubscribe | ...
    an_id        text,
    sf_id        text,
    payload      jsonb  NOT NULL DEFAULT '{}',
    status       text   NOT NULL DEFAULT 'pending',   -- pending | attempting | done | failed
    result_id    text,
    error_code   text,
    error        text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step, seq)
);
CREATE INDEX plan_pending ON staging.plan (run_id, step, status);

-- Salesforce external ids the sync writes (Action_Network_ID__c), to recognise its own records.
ALTER TABLE staging.sf_contacts ADD COLUMN an_id text;
ALTER TABLE staging.sf_campaigns ADD COLUMN an_id text;
ALTER TABLE staging.sf_opportunities ADD COLUMN an_id text;

-- Run summaries record the window they covered.
ALTER TABLE sync.runs ADD COLUMN dry_run boolean NOT NULL DEFAULT false;
