#!/usr/bin/env bash
# Installs what the tests and the service need from outside the repo. Idempotent; silent when nothing is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=false
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [[ $apt_updated == false ]]; then apt-get update -qq; apt_updated=true; fi
  apt-get install -y -qq "$@" >/dev/null
}

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
  apt_install postgresql-common
  # The package would otherwise create and start a system-wide "main" cluster that nothing here uses.
  conf=/etc/postgresql-common/createcluster.conf
  sed -i 's/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/' "$conf"
  grep -q '^create_main_cluster = false' "$conf" || echo 'create_main_cluster = false' >>"$conf"
  apt_install postgresql-15
  have_postgres || { echo "PostgreSQL installation did not provide initdb" >&2; exit 1; }
fi

# PgBouncer (Debian's package, 1.18): the tests run the service through one in transaction pooling mode. Only the
# binary is used; the package's own service is not started here (the tests start theirs on a free loopback port).
if ! command -v pgbouncer >/dev/null 2>&1 && [[ ! -x /usr/sbin/pgbouncer ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "PgBouncer is missing; the PgBouncer test will fail. Install it, e.g.: sudo apt-get install pgbouncer" >&2
  else
    echo "Installing PgBouncer..."
    apt_install pgbouncer
  fi
fi

# Node runs Banana Cake Pop's package install and the HTTP transport's external checks (tests/http-audit).
if ! command -v npm >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "Node.js 20+ and npm are missing. Install them, e.g.: sudo apt-get install nodejs npm" >&2
    exit 1
  fi
  echo "Installing Node.js and npm..."
  apt_install nodejs npm
fi

# npm packages the repo pins (package-lock.json) but does not commit: the IDE served at /graphql and the test tools.
# npm ci again only when the lock file is newer than the last install.
for project in src/WorkflowGraph/Transport/Ide tests/http-audit tests/frontend-clients; do
  if [[ ! $project/node_modules/.package-lock.json -nt $project/package-lock.json ]]; then
    echo "Installing npm packages in $project..."
    npm ci --prefix "$project" --no-audit --no-fund --loglevel=error >/dev/null
  fi
done

# Chromium (Debian's package) runs the browser test of Banana Cake Pop; the service itself does not need it.
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "Installing Chromium (for the browser test)..."
    apt_install chromium
  else
    echo "Chromium is missing; the browser test will fail. Install it, e.g.: sudo apt-get install chromium" >&2
  fi
fi
