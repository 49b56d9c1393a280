"""Where the files the tests read are, in one place, so that a test module can move
between folders without counting its parent folders again."""
from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO_ROOT = TESTS.parent
DOCS = REPO_ROOT / "docs"
APPS = REPO_ROOT / "apps"
FLAGSHIP_APP = APPS / "crm_referral.yaml"
# The corpus of broken definitions (its README says how to add a case).
BROKEN_DEFINITIONS = TESTS / "engine" / "validation" / "broken"
# Formulas whose results a real spreadsheet engine computed (its README says how).
FORMULA_ORACLE = TESTS / "engine" / "formula" / "oracle"
