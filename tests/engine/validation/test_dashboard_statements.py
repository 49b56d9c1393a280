"""`formwork validate` builds each dashboard widget's SQL once, without a database: what
only the SQL can tell (a filter value its operator cannot take, a formula condition the
database cannot run) is reported at the widget's part with its line and column; a widget
that builds is not reported, and the flagship's dashboards all build."""
from __future__ import annotations

from engine.validation.validate import check_text
from tests.support.dashboard_texts import UNBUILDABLE_WIDGETS as TEXT
from tests.support.paths import FLAGSHIP_APP



def test_a_widget_whose_sql_cannot_be_built_is_reported_at_its_line():
    _, problems = check_text(TEXT, "shop.yaml")
    built = [p for p in problems if p.code == "widget_sql"]
    assert {p.path.split(".filter")[0] for p in built} == {"dashboards[0].widgets[1]",
                                                           "dashboards[0].widgets[2].measures[0]"}, \
        [p.format() for p in problems]
    by_widget = {("bad_value" if "widgets[1]" in p.path else "bad_measure"): p for p in built}
    assert by_widget["bad_value"].line == 23 and "'bad_value'" in by_widget["bad_value"].message
    assert "lots" in by_widget["bad_value"].message and by_widget["bad_value"].message_zh
    assert by_widget["bad_measure"].line == 30
    assert all(p.line is not None and p.column is not None for p in built)


def test_the_flagships_widgets_all_build():
    _, problems = check_text(FLAGSHIP_APP.read_text(encoding="utf-8"), "crm_referral.yaml")
    assert problems == [], [p.format() for p in problems]

