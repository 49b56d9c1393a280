"""Import headers that match no field: a header naming a subform column ("subform.column",
by key or label) suggests a column of that subform."""
import pytest

from engine.compiled.app import compiled
from runtime.import_export.mapping import MappingError, map_columns
from tests.support.records_app import shop_app


def refusal(headers):
    app = compiled(shop_app())
    with pytest.raises(MappingError) as refused:
        map_columns(app.require_form("orders"), headers, types=app.types)
    return str(refused.value)


@pytest.mark.parametrize("header, suggestion", [
    ("items.qtty", "items.qty"),        # by key
    ("明细.数最", "明细.数量"),          # by label
    ("明细.prodct", "明细.product"),     # the column by key under the subform's label
])
def test_a_misspelt_subform_column_suggests_a_column_of_that_subform(header, suggestion):
    assert f"{header!r} matches no field of 'orders' (did you mean {suggestion!r}?)" in \
        refusal(["标题", "明细.产品", header])


def test_a_misspelt_field_still_suggests_a_field():
    assert "'标提' matches no field of 'orders' (did you mean '标题'?)" in refusal(["标提"])
