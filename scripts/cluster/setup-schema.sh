#!/bin/sh
# Schema job, shared by docker-compose.yml (service temporal-admin-tools) and scripts/cluster.sh:
# creates the `temporal` and `temporal_visibility` databases and brings both schemas to the
# newest version. Every step is idempotent, so the job can rerun on every `up`.
# Environment (compose defaults): SQL_TOOL=temporal-sql-tool, SCHEMA_DIR=/etc/temporal/schema/postgresql/v12,
# POSTGRES_SEEDS=postgresql, DB_PORT=5432, POSTGRES_USER=temporal, POSTGRES_PWD=temporal.
set -eu

sql_tool=${SQL_TOOL:-temporal-sql-tool}
schema_dir=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
host=${POSTGRES_SEEDS:-postgresql}
port=${DB_PORT:-5432}
user=${POSTGRES_USER:-temporal}
password=${POSTGRES_PWD:-temporal}

for db in temporal temporal_visibility; do
  case $db in temporal) versioned=$schema_dir/temporal/versioned ;; *) versioned=$schema_dir/visibility/versioned ;; esac
  echo "schema: $db on $host:$port"
  "$sql_tool" --plugin postgres12 --ep "$host" -p "$port" -u "$user" --pw "$password" --db "$db" create-database
  "$sql_tool" --plugin postgres12 --ep "$host" -p "$port" -u "$user" --pw "$password" --db "$db" setup-schema -v 0.0
  "$sql_tool" --plugin postgres12 --ep "$host" -p "$port" -u "$user" --pw "$password" --db "$db" update-schema -d "$versioned"
done
echo "schema: done"
