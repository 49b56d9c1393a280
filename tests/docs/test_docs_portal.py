"""docs/referrals.md's section on the referrer's portal stays true: its masking examples,
its durations and limits, its paths and the job kind are the code's."""
from __future__ import annotations

import re
from pathlib import Path

from runtime.referrals import portal
from runtime.referrals.masking import mask_name, mask_phone
from web.portal.views import PORTAL_COOKIE

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "referrals.md").read_text(encoding="utf-8")
SECTION = TEXT[TEXT.index("## The referrer's portal"):]


def test_the_masking_examples_are_what_the_functions_give():
    examples = re.findall(r'`mask_(name|phone)\("([^"]+)"\)`\s+is `([^`]+)`', SECTION)
    assert len(examples) == 2
    for kind, given, shown in examples:
        assert (mask_name if kind == "name" else mask_phone)(given) == shown


def test_the_durations_limits_and_names_are_the_codes():
    assert f"expires after {portal.LINK_MINUTES} minutes" in SECTION
    assert f"portal session of\n{portal.SESSION_DAYS} days" in SECTION or \
        f"portal session of {portal.SESSION_DAYS} days" in SECTION.replace("\n", " ")
    assert f"every {portal.RESEND_MINUTES} minutes" in SECTION
    assert f"newest {portal.LIST_LIMIT} of each" in SECTION
    assert f"`{portal.MESSAGE_KIND}`" in SECTION and f"`{PORTAL_COOKIE}`" in SECTION
    assert "`fw_portal_links`" in SECTION and "(revision 0008)" in SECTION
