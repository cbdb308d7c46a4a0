#!/bin/bash
# First start of the compose Postgres: a `newsdesk` role and database beside Airflow's.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v pw="$NEWSDESK_DB_PASSWORD" <<'SQL'
CREATE ROLE newsdesk LOGIN PASSWORD :'pw';
CREATE DATABASE newsdesk OWNER newsdesk;
SQL
