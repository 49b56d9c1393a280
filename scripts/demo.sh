#!/usr/bin/env bash
# Set up and run Formwork on the embedded default (SQLite, inline jobs): install the
# CRM + referral app into instance/formwork.db, fill it with sample data (once: a filled
# app is left as it is), make the administrator account (its password is printed the
# first time, or taken from FORMWORK_ADMIN_PASSWORD), then serve the web app and print
# the address to open. FORMWORK_DEMO_NO_SERVE=1 stops before serving (tests, CI);
# FORMWORK_DEMO_PORT / FORMWORK_DEMO_HOST choose where it listens.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/formwork validate apps/crm_referral.yaml
.venv/bin/formwork apply apps/crm_referral.yaml
if ! .venv/bin/formwork seed crm_referral --scale "${FORMWORK_DEMO_SCALE:-1000}" 2>/tmp/formwork-seed.$$; then
  if grep -q "already has records" /tmp/formwork-seed.$$; then
    echo "crm_referral already has records: sample data not added again"
  else
    cat /tmp/formwork-seed.$$ >&2; rm -f /tmp/formwork-seed.$$; exit 1
  fi
fi
rm -f /tmp/formwork-seed.$$
.venv/bin/formwork status
.venv/bin/formwork admin ensure
if [ -n "${FORMWORK_DEMO_NO_SERVE:-}" ]; then
  exit 0
fi
exec .venv/bin/formwork serve --host "${FORMWORK_DEMO_HOST:-127.0.0.1}" --port "${FORMWORK_DEMO_PORT:-5000}"
