-- Schema v1 → v2: runs remember the command line and host, for cron post-mortems.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS command VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS host VARCHAR
