"""Keeping computed values current in SQL after writes (docs/formula-fields.md).

    upkeep         after a write: formulas, rollups and what depends on them
    inputs         loading formula inputs for a batch of records (one query per relation)
    idsets         matching a column against thousands of ids in one bound parameter
    rollups        the SQL that keeps rollups current
    derived_rules  the rules of records whose computed values another write changed
    recompute      recomputing fields over every stored record, in batches
"""
