-- A Subscribers campaign deleted in Salesforce is created again: its former members stay subscribed
-- with no membership (member_id NULL) until the sync adds them to the new campaign.
ALTER TABLE sync.sf_subscribers ALTER COLUMN member_id DROP NOT NULL;
