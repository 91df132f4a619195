-- The sync's staging database, next to Airflow's own on the compose file's Postgres.
CREATE DATABASE an_sf_sync OWNER airflow;
