#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers on 127.0.0.1:5432 for the test suite: installs Debian's package when
# there is none (as root), starts the local cluster when it is down. Does nothing when TEST_DATABASES leaves
# PostgreSQL out or TEST_POSTGRES_URL points elsewhere.
set -euo pipefail

case ",${TEST_DATABASES:-pglite,postgres}," in *,postgres,*) ;; *) exit 0 ;; esac
if [ -n "${TEST_POSTGRES_URL:-}" ]; then exit 0; fi

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if command -v pg_isready >/dev/null && ready; then exit 0; fi

if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "ensure-postgres: PostgreSQL is not installed; install it or set TEST_DATABASES=pglite" >&2; exit 1; fi
  echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  # Local test server: trust auth over TCP on loopback, as the tests expect.
  sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(host\s+all\s+all\s+::1\/128\s+)\S+/\1trust/; s/^(local\s+all\s+postgres\s+)\S+/\1trust/' \
    "/etc/postgresql/$version/main/pg_hba.conf"
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "ensure-postgres: starting PostgreSQL $version" >&2
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
echo "ensure-postgres: PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
