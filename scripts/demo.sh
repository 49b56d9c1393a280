#!/usr/bin/env bash
# Set up and run the main job on the embedded default (SQLite, inline jobs):
# install the CRM + referral app into instance/formwork.db and show what it made.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/formwork validate apps/crm_referral.yaml
.venv/bin/formwork apply apps/crm_referral.yaml
.venv/bin/formwork status
