-- A Contact merged into another in Salesforce is deleted with MasterRecordId naming the Contact
-- kept: its pair moves to that Contact instead of stopping.
ALTER TABLE staging.sf_contacts ADD COLUMN master_record_id text;
