"""What the filter builder is given by the runtime (runtime/views/filters.py through the
table page's setup): the widget of each field (member and department fields choose ids
from the form's pickers), the day shortcuts of "last N days", and the filters it builds
(a member by id, nested and/or groups) answered by the table."""
from __future__ import annotations

import json
from urllib.parse import quote

from tests.support.table_pages import add_customers, crm_site, signed_in
from tests.support.table_pages import BASE, html, names


def setup_of(page: str) -> dict:
    return json.loads(page.split('id="table-setup">')[1].split("</script>")[0])


def test_fields_say_their_widget_and_the_pickers_answer(db):
    app, crm = crm_site(db)
    client = signed_in(app)
    setup = setup_of(html(client.get(BASE)))
    fields = {f["key"]: f for f in setup["filterFields"]}
    assert (fields["owner"]["input"], fields["dept"]["input"]) == ("member", "department")
    assert fields["level"]["input"] == "option" and fields["credit"]["input"] == "number"
    last = next(o for o in fields["created_at"]["operators"] if o["op"] == "last_n_days")
    assert (last["operand"], last["presets"]) == ("days", [7, 30])
    assert all("presets" not in o for o in fields["created_at"]["operators"] if o["op"] != "last_n_days")
    members = client.get(setup["pickers"]["member"] + "?q=韩").get_json()["members"]
    assert [(m["id"], m["name"]) for m in members] == [(crm.han.user_id, "韩梅梅")]
    departments = client.get(setup["pickers"]["department"] + "?q=华东").get_json()["departments"]
    assert [d["id"] for d in departments] == [crm.dept_id]


def test_a_member_filter_and_nested_groups_as_the_builder_writes_them(db):
    app, crm = crm_site(db)
    add_customers(crm, [{"name": "甲", "level": "vip", "owner": crm.li.user_id, "credit": 10},
                        {"name": "乙", "level": "normal", "owner": crm.han.user_id, "credit": 500},
                        {"name": "丙", "level": "normal", "owner": crm.han.user_id, "credit": 20},
                        {"name": "丁", "level": "vip", "dept": crm.dept_id, "credit": 30}])
    client = signed_in(app)
    by_member = {"and": [{"field": "owner", "op": "in", "value": [crm.han.user_id]}]}
    assert sorted(names(client, "?filter=" + quote(json.dumps(by_member)))) == ["丙", "乙"]
    nested = {"or": [{"field": "dept", "op": "eq", "value": crm.dept_id},
                     {"and": [{"field": "owner", "op": "eq", "value": crm.han.user_id},
                              {"or": [{"field": "credit", "op": "gt", "value": 100},
                                      {"field": "level", "op": "eq", "value": "vip"}]}]}]}
    assert sorted(names(client, "?filter=" + quote(json.dumps(nested)))) == ["丁", "乙"]
    recent = {"and": [{"field": "created_at", "op": "last_n_days", "value": 30}]}
    assert len(names(client, "?filter=" + quote(json.dumps(recent)))) == 4
