"""The referral pages (docs/referrals.md), thin over runtime/referrals."""
