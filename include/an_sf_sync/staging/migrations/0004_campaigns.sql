-- The Campaign Name last written for each action, so a title change in Action Network is sent to
-- Salesforce once (and a rename in Salesforce is not overwritten while the title stays the same).
ALTER TABLE sync.action_links ADD COLUMN title text;
