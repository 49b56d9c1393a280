"""docs/workflows.md stays true: each ```yaml workflow block is a valid `workflows:` of
the expenses form; the ```yaml broken block gives the message in the ```text block after
it; the node types and actions listed are the registry's and the service's."""
from __future__ import annotations

import re

import pytest
import yaml

from engine.errors import DefinitionError
from engine.validation import load_definition
from engine.workflow.nodes import node_types
from runtime.workflow import ACTIONS
from tests.support.paths import DOCS
from tests.support.workflow_app import definition

DOC = (DOCS / "workflows.md").read_text(encoding="utf-8")
_FENCE = re.compile(r"^```yaml ([a-z]+)\n(.*?)^```$", re.M | re.S)


def blocks(kind: str) -> list[str]:
    return [m.group(2) for m in _FENCE.finditer(DOC) if m.group(1) == kind]


def as_definition(block: str) -> str:
    document = definition([])
    document["forms"][0]["workflows"] = yaml.safe_load(block)["workflows"]
    return yaml.safe_dump(document, allow_unicode=True)


@pytest.mark.parametrize("block", blocks("workflow"))
def test_each_example_is_valid(block):
    assert load_definition(as_definition(block)).forms[0].workflows


def test_the_broken_example_gives_the_message_shown():
    [block] = blocks("broken")
    shown = DOC[DOC.index(block) + len(block):].split("```text\n", 1)[1].split("\n```", 1)[0]
    with pytest.raises(DefinitionError) as refused:
        load_definition(as_definition(block))
    [problem] = refused.value.problems
    assert problem.text("en") == shown


def test_the_tables_list_every_node_type_and_action():
    for name in node_types():
        assert f"| `{name}` |" in DOC
    for action in ACTIONS:
        assert f"`{action}`" in DOC
