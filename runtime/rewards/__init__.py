"""Settling referral rewards (engine/rewards, docs/rewards.md).

    listener   record events of a rule's source form -> a rewards.settle job, same transaction
    settle     the settle job (earn, cancel, claw back, with caps under row locks and the
               ledger's unique key) and the vest job (a scheduler due source enqueues it on vests_on)
    ledger     entries, approval before payout, payout, the referral chain report
"""
from runtime.rewards.compiled import SETTLE_KIND, VEST_KIND, rewards_for
from runtime.rewards.ledger import LedgerRefused, approve, chain_report, entries, pay
from runtime.rewards.settle import referral_chain, referral_chains, settle_form, settle_record, settle_records

__all__ = ["SETTLE_KIND", "VEST_KIND", "rewards_for", "LedgerRefused", "approve", "chain_report", "entries",
           "pay", "referral_chain", "referral_chains", "settle_form", "settle_record", "settle_records"]
