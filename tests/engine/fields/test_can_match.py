"""FieldType.can_match: which fields an import may name a related record by (a mapping's
`match:`). A name, a phone, a number: one column compared exactly; never computed values,
files, long text or several values."""
from __future__ import annotations

import pytest

from engine.fields.registry import all_types

MATCHING = {"text", "phone", "email", "url", "idcard", "serial", "number"}


def test_the_types_that_can_identify_a_record():
    assert {name for name, cls in all_types().items() if cls.can_match} == MATCHING


@pytest.mark.parametrize("name", sorted(MATCHING))
def test_a_matching_type_is_one_column_of_typed_in_values(name):
    cls = all_types()[name]
    assert cls.storage == "column" and not cls.computed and cls.can_be_unique
    assert getattr(cls, "cell_importable", True)
