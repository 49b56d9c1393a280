"""Presentation helpers of the form page's templates: the address cascader's options
from the division data, the text of computed values, and the issues by field path."""
from __future__ import annotations

from typing import Any

from engine.errors import FieldIssue
from runtime.forms.draft import issue_path
from runtime.forms.pickers import division_children

LEVELS = ("province", "city", "district")


def address_levels(value: Any, levels: list[str]) -> list[dict]:
    """For each level of the field: its options (code, name) and the chosen code, the
    names of `value` ({"province": "广东省", ...}) matched to their codes."""
    value = value if isinstance(value, dict) else {}
    out, codes = [], []
    for level in levels:
        if len(codes) < len(out):           # the level above is not chosen: nothing to offer
            out.append({"level": level, "options": [], "chosen": None})
            continue
        try:
            children = division_children(*codes)["children"] if len(codes) < 3 else []
        except Exception:                   # a stored name the division data no longer has
            children = []
        chosen = next((c["code"] for c in children if c["name"] == value.get(level)), None)
        out.append({"level": level, "options": children, "chosen": chosen})
        if chosen is not None:
            codes.append(chosen)
    return out


def shown(field: dict, value: Any) -> str:
    """A computed (read-only) value as text: the unit after numbers, "—" when empty."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    choices = {c["value"]: c["label"] for c in (field.get("options") or {}).get("choices") or []}
    if isinstance(value, list):
        return "、".join(str(choices.get(v, v)) for v in value)
    if isinstance(value, (str, int)) and value in choices:
        return str(choices[value])
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values() if v)
    options = field.get("options") or {}
    text = str(value)
    if options.get("percent"):
        return f"{text}%"
    unit = options.get("unit")
    return f"{text} {unit}" if unit else text


def issues_by_path(issues: list[FieldIssue], lang: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for issue in issues:
        out.setdefault(issue_path(issue), []).append(issue.as_dict(lang)["message"])
    return out


def draft_issue_texts(issues: dict[str, list[dict]]) -> dict[str, list[str]]:
    return {path: [i["message"] for i in found] for path, found in issues.items()}
