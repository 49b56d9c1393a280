#!/usr/bin/env bash
# Set up and run the main job on the embedded default (SQLite, inline jobs):
# install the CRM + referral app into instance/formwork.db, fill it with sample data
# (once: a filled app is left as it is) and show what it made.
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
