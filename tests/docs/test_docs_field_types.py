"""docs/field-types.md stays true: a section per registered type with its labels, an
options table naming exactly the type's options, the type's filter operators, valid
`yaml fields` definitions, and examples that the engine reproduces."""
import json
import re

import pytest
import yaml

from engine.errors import FieldError
from engine.fields import all_types, type_names
from tests.support.fields import CTX, L, make, valid_definition
from tests.support.paths import DOCS

TYPES: set[str] = set()
DOC = DOCS / "field-types.md"
TEXT = DOC.read_text(encoding="utf-8")
HEADING = re.compile(r"^## `([a-z_]+)` (\S+) · (.+)$", re.M)
BLOCK = re.compile(r"^```(example|import|display) ([a-z_]+)(?: ([^\n]*))?\n(.*?)^```", re.M | re.S)
ARROW = "  →  "
# Forms the `yaml fields` examples may point at.
FORMS = [{"key": "customers", "label": L("客户", "Customers"), "fields": [
    {"key": "name", "type": "text", "label": L("名称", "Name")},
    {"key": "level", "type": "select", "label": L("级别", "Level"), "options": ["vip", "普通"]}]},
    {"key": "tags", "label": L("标签", "Tags"), "fields": [{"key": "name", "type": "text", "label": L("名称")}]}]


def _sections() -> dict[str, str]:
    starts = [(m.start(), m.group(1)) for m in HEADING.finditer(TEXT)]
    ends = [start for start, _ in starts[1:]] + [len(TEXT)]
    return {name: TEXT[start:end] for (start, name), end in zip(starts, ends)}


SECTIONS = _sections()


def test_every_registered_type_has_a_section_with_its_labels():
    assert set(type_names()) <= set(SECTIONS), f"undocumented: {sorted(set(type_names()) - set(SECTIONS))}"
    for name in SECTIONS:
        assert name in all_types(), f"{name} is documented but is no field type"
    for m in HEADING.finditer(TEXT):
        cls = all_types().get(m.group(1))
        if cls is not None:
            assert (m.group(2), m.group(3)) == (cls.label.zh, cls.label.en), m.group(0)
    glance = TEXT[TEXT.index("## At a glance"):TEXT.index("## Conventions")]
    assert re.findall(r"^\| `([a-z_]+)` \|", glance, re.M) == list(SECTIONS)


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_options_table_names_exactly_the_type_options(name):
    cls = all_types().get(name)
    if cls is None:
        pytest.skip(f"{name} is reserved, not yet registered")
    documented = re.findall(r"^\| `([a-z_]+)` \|", SECTIONS[name], re.M)
    assert len(documented) == len(set(documented)), "an option is listed twice"
    assert set(documented) == set(cls.config_schema), name
    for option in cls.config_required:
        row = next(line for line in SECTIONS[name].splitlines() if line.startswith(f"| `{option}` |"))
        assert "required" in row, f"{name}.{option} is required; say so"


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_filter_operators_are_the_type_operators(name):
    cls = all_types().get(name)
    if cls is None or getattr(cls, "computed", False):
        pytest.skip("computed types filter as their result type")
    line = re.search(r"^\*\*Filters:\*\* (.*)$", SECTIONS[name], re.M)
    assert line, f"{name} has no **Filters:** line"
    listed = set(re.findall(r"`([a-z_]+)`", line.group(1)))
    assert listed == set(cls.operators), name
    if not cls.operators:
        assert line.group(1).startswith("none")


@pytest.mark.parametrize("snippet", re.findall(r"^```yaml fields\n(.*?)^```", TEXT, re.M | re.S))
def test_yaml_field_examples_are_valid_definitions(snippet):
    valid_definition(yaml.safe_load(snippet), forms=FORMS)


def _examples():
    for m in BLOCK.finditer(TEXT):
        kind, name, config = m.group(1), m.group(2), json.loads(m.group(3) or "{}")
        for line in m.group(4).strip().splitlines():
            given, expected = line.split(ARROW)
            yield pytest.param(kind, name, config, given.strip(), expected.strip(), id=f"{kind}-{name}-{given.strip()}")


@pytest.mark.parametrize("kind, name, config, given, expected", list(_examples()))
def test_examples(kind, name, config, given, expected):
    ftype = make(name, **config)
    raw = json.loads(given)
    try:
        if kind == "import":
            result = ftype.to_json(ftype.parse_text(raw, CTX))
        elif ftype.is_empty(raw):     # as the record service does
            result = None
        else:
            value = ftype.clean(raw, CTX)
            result = ftype.display(value, CTX) if kind == "display" else ftype.to_json(value)
    except FieldError as error:
        assert expected == f"error {error.code}", f"{given} was refused with {error.code}: {error}"
        return
    assert not expected.startswith("error "), f"{given} was accepted as {result!r}"
    assert result == json.loads(expected)


def test_the_examples_cover_the_types_that_take_input():
    shown = {m.group(2) for m in BLOCK.finditer(TEXT)}
    quiet = {"multiselect", "departments", "image", "lookup", "formula", "rollup"}   # "as for ..." types
    assert set(type_names()) - quiet <= shown
