"""Record events -> a `rewards.settle` job, in the write's own transaction.

Every created record of a rule's source form, and every updated or derived (a rollup
recomputed: a payment changing a contract's net_paid) change of one that gives a new value
to a field the form's rules read (`AppRewards.reads`, worked out from the compiled
programme: their formulas' names, the customer, date and campaign fields), enqueues one
settle job for that record; a change of other fields (a note, an owner) enqueues nothing. The job reads the record as committed and settles every rule of its
form; settling is idempotent (the ledger's unique key), so a job per change, run twice or
concurrently, enters each reward once. A job with a record version is keyed by it; a
derived change (no version) enqueues a job of its own.

An update of a rule's ledger form (runtime/rewards/mirror.py) giving a row `approved` or
`paid` moves its entry in fw_reward_entries in the same transaction (or refuses the write).
"""
from __future__ import annotations

from runtime.records.events import Batch, EventKind
from runtime.rewards.compiled import SETTLE_KIND, rewards_for
from runtime.rewards.mirror import flow_back, ledger_forms

SETTLING_EVENTS = (EventKind.CREATED, EventKind.UPDATED, EventKind.DERIVED)


def reward_listener(uow):
    def listen(batch: Batch) -> None:
        rules = rewards_for(batch.app).by_source
        if not rules:
            return
        ledgers = ledger_forms(batch.app)
        for event in batch.events:
            if event.kind is EventKind.UPDATED and event.form_key in ledgers:
                flow_back(batch.conn, batch.app, event.form_key, event.changes,
                          event.at.astimezone(uow.session.tz).date())
            if event.kind not in SETTLING_EVENTS or event.form_key not in rules:
                continue
            reads = rewards_for(batch.app).reads[event.form_key]
            for change in event.changes:
                if event.kind is not EventKind.CREATED and reads.isdisjoint(change.new):
                    continue
                key = (f"rewards:{batch.app.key}:{event.form_key}:{change.record_id}:{change.version}"
                       if change.version is not None else None)
                uow.enqueue(SETTLE_KIND, {"app": batch.app.key, "form": event.form_key,
                                          "record": change.record_id}, key=key)
    return listen
