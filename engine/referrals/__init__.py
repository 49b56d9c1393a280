"""The referral programme (转介绍) as the app definition declares it in its `referrals`
block (docs/referrals.md): which forms and fields hold the customers, the campaigns and
the referral records, how a referral is attributed (first or last touch within a window),
what the friend consents to, and what each fraud check does.

    schema   the JSON Schema of the block (part of the published definition schema)
    model    the block read into ReferralProgramme (never raises)

The checks of meaning are engine/validation/referral_checks.py; the mechanics (codes,
links, attribution, fraud checks, the portal) are runtime/referrals.
"""
from engine.referrals.model import Check, FormMap, ReferralProgramme, referral_programme_of
from engine.referrals.schema import referrals_schema

__all__ = ["Check", "FormMap", "ReferralProgramme", "referral_programme_of", "referrals_schema"]
