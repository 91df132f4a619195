-- Salesforce records changed in a run's window, tagged with the run id (deleted rows included,
-- is_deleted true). Column names are the snake_case of the Salesforce fields they hold.

CREATE TABLE staging.sf_contacts (
    run_id               text NOT NULL,
    sf_id                text NOT NULL,
    is_deleted           boolean NOT NULL DEFAULT false,
    system_modstamp      timestamptz,
    created_date         timestamptz,
    last_modified_date   timestamptz,
    first_name           text,
    last_name            text,
    email                text,
    mailing_street       text,
    mailing_city         text,
    mailing_state        text,
    mailing_postal_code  text,
    custom_fields        jsonb,          -- configured custom fields: {"Field__c": value}
    PRIMARY KEY (run_id, sf_id)
);

CREATE TABLE staging.sf_campaigns (
    run_id               text NOT NULL,
    sf_id                text NOT NULL,
    is_deleted           boolean NOT NULL DEFAULT false,
    system_modstamp      timestamptz,
    created_date         timestamptz,
    last_modified_date   timestamptz,
    name                 text,
    parent_id            text,
    type                 text,
    is_active            boolean,
    PRIMARY KEY (run_id, sf_id)
);

CREATE TABLE staging.sf_campaign_members (
    run_id               text NOT NULL,
    sf_id                text NOT NULL,
    is_deleted           boolean NOT NULL DEFAULT false,
    system_modstamp      timestamptz,
    created_date         timestamptz,
    last_modified_date   timestamptz,
    campaign_id          text,
    contact_id           text,
    lead_id              text,
    status               text,
    PRIMARY KEY (run_id, sf_id)
);

CREATE TABLE staging.sf_opportunities (
    run_id                    text NOT NULL,
    sf_id                     text NOT NULL,
    is_deleted                boolean NOT NULL DEFAULT false,
    system_modstamp           timestamptz,
    created_date              timestamptz,
    last_modified_date        timestamptz,
    account_id                text,
    name                      text,
    amount                    numeric(18, 2),
    close_date                date,
    stage_name                text,
    action_network_recurring  text,      -- Action_Network_Recurring__c; NULL when the org lacks it
    PRIMARY KEY (run_id, sf_id)
);

CREATE TABLE staging.sf_opportunity_contact_roles (
    run_id               text NOT NULL,
    sf_id                text NOT NULL,
    is_deleted           boolean NOT NULL DEFAULT false,
    system_modstamp      timestamptz,
    created_date         timestamptz,
    last_modified_date   timestamptz,
    opportunity_id       text,
    contact_id           text,
    role                 text,
    is_primary           boolean,
    PRIMARY KEY (run_id, sf_id)
);
