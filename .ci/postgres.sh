#!/usr/bin/env bash
# Install (Debian packages) and start a local PostgreSQL server for the test suite, then
# print the SQLAlchemy URL of a fresh test database on stdout. Idempotent.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q" && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='workbench'\"" | grep -q 1 || \
  su postgres -c "psql -qc \"CREATE ROLE workbench LOGIN SUPERUSER PASSWORD 'workbench'\"" >&2
su postgres -c "psql -qc 'DROP DATABASE IF EXISTS workbench_test'" >&2
su postgres -c "psql -qc 'CREATE DATABASE workbench_test OWNER workbench'" >&2
echo "postgresql+psycopg://workbench:workbench@127.0.0.1:5432/workbench_test"
