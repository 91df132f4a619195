-- A waiting first match is also found from its Contact: a Contact staged alone (its email changed in
-- Salesforce, say) is read with the match it waits in, and its reject stays open while it waits.
CREATE INDEX first_matches_sf_id ON sync.first_matches (sf_id);
