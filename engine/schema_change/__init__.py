"""Changing an installed app's tables to a new definition without losing data
(docs/migrations.md).

    plan             what an upgrade would do, step by step, and what it refuses
    recompute_steps  the recompute steps of a plan (computed fields and subform columns)
    apply            running a plan in one transaction (Migrator)
"""
