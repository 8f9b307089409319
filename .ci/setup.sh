#!/usr/bin/env bash
# Installs what the tests and the service need from outside the repo. Idempotent; silent when nothing is needed.
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if ! have_postgres; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "PostgreSQL server binaries (initdb, pg_ctl) are missing. Install them, e.g.: sudo apt-get install postgresql-15" >&2
    exit 1
  fi
  echo "Installing PostgreSQL 15 (server binaries only; WorkflowGraph runs its own clusters)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql-common >/dev/null
  # The package would otherwise create and start a system-wide "main" cluster that nothing here uses.
  conf=/etc/postgresql-common/createcluster.conf
  sed -i 's/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/' "$conf"
  grep -q '^create_main_cluster = false' "$conf" || echo 'create_main_cluster = false' >>"$conf"
  apt-get install -y -qq postgresql-15 >/dev/null
  have_postgres || { echo "PostgreSQL installation did not provide initdb" >&2; exit 1; }
fi
