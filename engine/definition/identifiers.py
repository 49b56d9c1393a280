"""The rules for keys: the stable identifiers of apps, forms and fields.

A key names a table or a column and is how formulas refer to a field, so it is
checked before it ever reaches SQL:

- shape (the JSON Schema): lower-case ASCII letters, digits and single underscores,
  starting with a letter, at most APP_KEY_MAX / FORM_KEY_MAX / FIELD_KEY_MAX
  characters. No quotes, spaces, semicolons, dashes or non-ASCII letters, and no
  "__", which separates the parts of physical table names;
- meaning (the semantic pass): not a word SQL reserves, and for fields not the name
  of a system column that every record table already has.
"""
from __future__ import annotations

KEY_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
APP_KEY_MAX = 30
FORM_KEY_MAX = 30
FIELD_KEY_MAX = 40

# The columns every form table (id ... deleted_at) and every subform child table
# (parent_id, position) has besides its fields. A test keeps this in step with
# engine/query/tables.py.
SYSTEM_COLUMN_KEYS = frozenset({"id", "created_at", "updated_at", "created_by", "updated_by",
                                "owner_id", "version", "deleted_at", "parent_id", "position"})

# Reserved key words of PostgreSQL (including those allowed only as function or type
# names), which cannot be identifiers without quoting, and the statement verbs of SQL.
# Names are always quoted when Formwork writes SQL; refusing these keeps hand-written
# reports, exports to other tools and the formula language (whose constants TRUE,
# FALSE, NULL and operators AND, OR, NOT are among them) unambiguous.
SQL_RESERVED_WORDS = frozenset("""
    all analyse analyze and any array as asc asymmetric authorization between binary both
    case cast check collate collation column concurrently constraint create cross
    current_catalog current_date current_role current_schema current_time current_timestamp
    current_user default deferrable delete desc distinct do drop else end except exists false
    fetch for foreign freeze from full grant group having ilike in initially inner insert
    intersect into is isnull join lateral leading left like limit localtime localtimestamp
    natural not notnull null offset on only or order outer overlaps placing primary
    references returning right select session_user set similar some symmetric system_user
    table tablesample then to trailing true truncate union unique update user using values
    variadic verbose when where window with alter
""".split())


def key_problem(key: str, what: str) -> tuple[str, str] | None:
    """(message, code) when the well-shaped `key` of an app, form or field (`what`)
    is a reserved name; None when it may be used."""
    if what == "field" and key in SYSTEM_COLUMN_KEYS:
        return (f"{key!r} is the name of a system column every record has; choose another key "
                f"(e.g. {key + '_value'!r})", "reserved_key")
    if key in SQL_RESERVED_WORDS:
        article = "an" if what[0] in "aeiou" else "a"
        return (f"{key!r} is a reserved word in SQL and cannot be {article} {what} key; make it more specific "
                f"(e.g. {key + '_value'!r})", "reserved_key")
    return None
