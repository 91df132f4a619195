-- Contact Roles looked up by their Opportunity (queueing an Opportunity with its roles, re-staging
-- them, reconcile's join): without it each lookup scanned the run's roles, minutes for a first sync.
CREATE INDEX sf_opportunity_contact_roles_by_opportunity
    ON staging.sf_opportunity_contact_roles (run_id, opportunity_id);
