"""Validating app definitions: the flagship app (~30 KB) and a large app made of copies
of its forms (no aliases, written out in full), step by step, against two baselines
measured in the same run:

- libyaml: parsing the same text with PyYAML's C loader, nothing checked, with the
  cyclic garbage collector paused as the validator's reader does (with it running,
  libyaml takes about three times as long on the large app): the least any YAML reader
  costs;
- published schema: jsonschema with the published JSON Schema as it is (one `if` per
  field type on every field), which the validator replaces by a field-by-field dispatch
  giving the same errors (tests/engine/definition/test_definition_fuzz.py compares them).

    .venv/bin/python bench/bench_definitions.py [--copies 40]
"""
from __future__ import annotations

import argparse
import copy
import gc
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import median_ms, paired_medians  # noqa: E402
from engine.definition.loader import load_text  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from engine.validation import check_definition_text  # noqa: E402
from engine.validation.schema import definition_schema  # noqa: E402
from engine.validation.schema_errors import schema_problems  # noqa: E402
from engine.validation.semantic import check_app  # noqa: E402

FLAGSHIP = Path(__file__).resolve().parent.parent / "apps" / "crm_referral.yaml"


def large_app(copies: int) -> str:
    """`copies` copies of the flagship's forms, each copy relating to its own forms."""
    data = load_text(FLAGSHIP.read_bytes()).data
    keys = {form["key"] for form in data["forms"]}
    forms = []
    for n in range(copies):
        rename = (lambda key: f"{key}_{n}"[:30]) if n else (lambda key: key)
        for form in copy.deepcopy(data["forms"]):
            form["key"] = rename(form["key"])
            for field in form["fields"]:
                if field.get("target") in keys:
                    field["target"] = rename(field["target"])
            forms.append(form)
    return yaml.safe_dump({**data, "forms": forms}, allow_unicode=True, sort_keys=False, width=100)


def libyaml_parse(raw: bytes) -> None:
    gc.disable()
    try:
        yaml.load(raw, yaml.CSafeLoader)
    finally:
        gc.enable()


def measure(name: str, text: str) -> None:
    raw = text.encode()
    loaded = load_text(raw)
    assert not loaded.problems, loaded.problems
    app = AppDef.from_dict(loaded.data)
    fields = sum(len(f.fields) for f in app.forms)
    published = Draft202012Validator(definition_schema())
    repeat = 9 if len(raw) < 200_000 else 3
    total, libyaml = paired_medians(lambda: check_definition_text(raw), lambda: libyaml_parse(raw),
                                    repeat=repeat, warmup=1)
    shape, naive = paired_medians(lambda: schema_problems(loaded.data),
                                  lambda: list(published.iter_errors(loaded.data)), repeat=repeat, warmup=1)
    load = median_ms(lambda: load_text(raw), repeat=repeat, warmup=1)
    meaning = median_ms(lambda: check_app(AppDef.from_dict(loaded.data)), repeat=repeat, warmup=1)
    print(f"\n{name}: {len(raw) / 1024:,.0f} KB, {len(app.forms)} forms, {fields:,} fields")
    print(f"  {'libyaml parse (baseline)':<34}{libyaml:9.1f} ms")
    print(f"  {'read with positions':<34}{load:9.1f} ms")
    print(f"  {'shape: published schema as is':<34}{naive:9.1f} ms")
    print(f"  {'shape: field by field':<34}{shape:9.1f} ms   {naive / shape:5.1f}x faster than as is")
    print(f"  {'meaning (model + semantic pass)':<34}{meaning:9.1f} ms")
    print(f"  {'formwork validate, in all':<34}{total:9.1f} ms   {total / libyaml:5.1f}x the libyaml parse, "
          f"{total / fields * 1000:.0f} µs per field")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=40, help="copies of the flagship's forms in the large app")
    args = parser.parse_args()
    measure("flagship apps/crm_referral.yaml", FLAGSHIP.read_text(encoding="utf-8"))
    measure(f"large app ({args.copies} copies of the flagship's forms)", large_app(args.copies))


if __name__ == "__main__":
    main()
