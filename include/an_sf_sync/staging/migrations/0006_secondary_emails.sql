-- People carry more than one email address; Action Network keys them by the primary one. The other
-- addresses are staged and mirrored so that a Contact holding one of them is never taken for a new
-- activist (the signup helper would match it to the existing person and re-point that person's link).
ALTER TABLE staging.an_people ADD COLUMN other_emails jsonb;

CREATE TABLE sync.an_emails (
    an_id      text NOT NULL,
    email_key  text NOT NULL,
    PRIMARY KEY (an_id, email_key)
);
CREATE INDEX an_emails_email ON sync.an_emails (email_key);
