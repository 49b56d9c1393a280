"""What computed values mean, worked out from the definition alone (no SQL): formula
and rollup fields, default formulas, validation rules and visibility conditions
(docs/formula-fields.md). The SQL that keeps them current is in engine/upkeep.

    paths         what a field path such as `customer.level` walks through
    env           the type environment of a form's formulas (for the checker)
    derive        result types only the whole app can tell (held by the compiled app)
    graph         the dependency graph over (form, field), built once per compiled app
    record_rules  default formulas, visibility and validation rules of records
    row_formulas  formula columns of subforms, computed per row from the row's columns
"""
