-- Each staged activist's and Contact's email key (trimmed, case-folded; NULL when the email cannot be
-- synced), derived once as it is staged: the mirrors, duplicate resolution and reconcile's lookups
-- then work in SQL instead of deriving it again for a million rows.
ALTER TABLE staging.an_people ADD COLUMN email_key text;
ALTER TABLE staging.sf_contacts ADD COLUMN email_key text;
