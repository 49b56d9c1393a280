"""engine/automations: the model read from a definition, the formula environment (own
fields, old.* only for updates, payload.* only for webhooks, id), the kinds' schemas in
the published definition schema."""
from __future__ import annotations

import json

from engine.automations import ACTION_KINDS, TRIGGER_KINDS, automations_of
from engine.automations.env import AutomationEnv
from engine.automations.templates import render, syntax_problem
from engine.definition.model import AppDef
from engine.fields.registry import FieldTypes
from engine.computed.derive import derive_types
from engine.formula import check, parse
from engine.validation import check_definition_text
from engine.validation.schema import definition_schema
from tests.support.automations import automation, definition


def _env(**flags):
    app = AppDef.from_dict(definition())
    return AutomationEnv(app, app.form("leads"), FieldTypes(derive_types(app)), **flags)


def _type(env, text):
    result = check(parse(text), env)
    return result.result_type, [p.message for p in result.problems]


def test_old_values_are_read_only_by_update_triggers():
    assert _type(_env(old=True), "old.stage <> stage") == ("boolean", [])
    assert _type(_env(old=True), "old.score + 1") == ("number", [])
    assert _type(_env(), "old.stage")[1][0].startswith("unknown field 'old'")
    assert _type(_env(payload=True), "payload.anything") == ("any", [])
    assert _type(_env(), "id * 2") == ("number", [])


def test_the_model_reads_triggers_actions_and_forms():
    data = definition(automation("a", {"kind": "record_updated", "fields": ["stage"]},
                                 [{"kind": "update_record", "values": {"note": '"x"'}},
                                  {"kind": "create_record", "form": "tasks", "values": {"title": "name"}}],
                                 condition="old.stage <> stage", enabled=False))
    [found] = automations_of(AppDef.from_dict(data))
    assert (found.key, found.form, found.trigger.kind, found.trigger.option("fields"), found.enabled) == \
        ("a", "leads", "record_updated", ["stage"], False)
    assert [(a.kind, found.action_form(a), a.values, a.path) for a in found.actions] == [
        ("update_record", "leads", {"note": '"x"'}, "automations[0].actions[0]"),
        ("create_record", "tasks", {"title": "name"}, "automations[0].actions[1]")]


def test_a_valid_definition_with_every_trigger_kind_passes():
    valid = definition(
        automation("c", {"kind": "record_created"}, [{"kind": "notify", "to": {"fields": ["owner"]},
                                                      "title": "{{ record.name }}"}]),
        automation("u", {"kind": "record_updated", "fields": ["stage"]},
                   [{"kind": "update_record", "values": {"score": "old.score + 1"}}], condition="old.stage <> stage"),
        automation("d", {"kind": "record_deleted"}, [{"kind": "create_record", "form": "tasks",
                                                      "values": {"title": "name"}}]),
        automation("n", {"kind": "workflow_node", "node": "review"}, [{"kind": "start_workflow", "workflow": "x"}]),
        automation("e", {"kind": "workflow_ended", "outcome": "approved"}, [{"kind": "delete_record"}]),
        automation("t", {"kind": "date", "field": "follow_up_on", "offset_days": -3},
                   [{"kind": "assign_round_robin", "field": "owner", "department": "销售部"}]),
        automation("s", {"kind": "schedule", "cron": "0 9 * * 1"}, [
            {"kind": "update_batch", "form": "leads", "filter": {"field": "stage", "op": "eq", "value": "new"},
             "values": {"stage": '"contacted"'}}], form=None),
        automation("w", {"kind": "webhook", "secret_env": "HOOK_SECRET"}, [
            {"kind": "upsert_record", "form": "leads", "match": ["name"], "values": {"name": "payload.name"}},
            {"kind": "call_webhook", "url_env": "HOOK_URL"}], form=None),
        automation("b", {"kind": "button", "label": {"zh": "按", "en": "Press"}}, [{"kind": "delete_record"}]))
    app, problems = check_definition_text(json.dumps(valid))
    assert problems == [] and len(automations_of(app)) == len(TRIGGER_KINDS)


def test_the_published_schema_holds_every_kind():
    automation_schema = definition_schema()["$defs"]["automation"]
    assert automation_schema["properties"]["trigger"]["properties"]["kind"]["enum"] == sorted(TRIGGER_KINDS)
    assert automation_schema["properties"]["actions"]["items"]["properties"]["kind"]["enum"] == sorted(ACTION_KINDS)


def test_templates_render_record_fields_and_report_syntax_errors():
    assert render("{{ record.name }}：{{ record.score }}", {"record": {"name": "王", "score": 3}}) == "王：3"
    assert render("{{ v }}", {"v": "<b>"}, html=True) == "&lt;b&gt;"
    assert syntax_problem("{% if %}") == (1, "Expected an expression, got 'end of statement block'")
