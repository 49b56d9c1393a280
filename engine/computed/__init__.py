"""Computed values inside apps: formula and rollup fields, default formulas,
validation rules and visibility conditions (docs/formula-fields.md).

    paths     what a field path such as `customer.level` walks through
    env       the type environment of a form's formulas (for the checker)
    derive    result types only the whole app can tell (held by the compiled app)
    checks    definition checks: formulas with positions, rollups, rules, cycles
    graph     the dependency graph over (form, field), built once per compiled app
    results   a formula's value converted to the type a field stores
    inputs    loading formula inputs for a batch of records (one query per relation)
    idsets    matching a column against thousands of ids in one bound parameter
    rollups   the SQL that keeps rollups current
    upkeep    after a write: computing formulas, rollups and what depends on them
    rows      formula columns of subforms, computed per row from the row's columns
    record_rules  default formulas, visibility and validation rules of records
    migration recompute steps of migration plans, and full recomputes
"""
