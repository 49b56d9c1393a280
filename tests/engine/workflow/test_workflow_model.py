"""The workflow model and the node-type registry, pure: durations, edges, the schema
built from the registry, the compiled app's workflows."""
from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from engine.compiled.app import compiled
from engine.validation import load_definition
from engine.validation.schema import definition_schema
from engine.workflow.model import Workflow, parse_duration
from engine.workflow.nodes import node_type, node_types
from tests.support.workflow_app import definition

NODES = [{"key": "s", "type": "start", "next": "x"},
         {"key": "x", "type": "exclusive", "branches": [{"when": "amount > 1", "next": "a"}], "default": "e"},
         {"key": "a", "type": "approve", "approvers": [{"role": "finance"}], "next": "e"},
         {"key": "e", "type": "end"}]


@pytest.mark.parametrize("text, expected", [("30m", timedelta(minutes=30)), ("4h", timedelta(hours=4)),
                                            ("2d", timedelta(days=2)), ("1w", timedelta(weeks=1)),
                                            ("0d", None), ("2 d", None), ("2y", None), (3, None)])
def test_durations(text, expected):
    assert parse_duration(text) == expected


def test_edges_for_a_page_to_draw():
    flow = Workflow.from_dict({"key": "f", "label": "f", "nodes": NODES}, "forms[0].workflows[0]", "expenses")
    assert flow.edges() == [("s", "x", ""), ("x", "a", "amount > 1"), ("x", "e", "default"), ("a", "e", "")]
    assert flow.start.key == "s" and flow.node("a").mode == "any" and flow.node("a").if_none == "admin"


def test_the_registry_says_which_nodes_wait_for_people():
    assert {name for name, cls in node_types().items() if cls.human} == {"fill", "approve"}
    assert node_type("end").is_end and node_type("nope") is None


def test_the_schema_has_each_node_type():
    node = definition_schema()["$defs"]["workflow_node"]
    assert node["properties"]["type"]["enum"] == sorted(node_types())
    assert {rule["if"]["properties"]["type"]["const"] for rule in node["allOf"]} == set(node_types())


def test_a_compiled_app_holds_its_workflows():
    app = compiled(load_definition(yaml.safe_dump(definition(NODES), allow_unicode=True)))
    assert list(app.workflows("expenses")) == ["flow"] and app.workflows("missing") == {}
