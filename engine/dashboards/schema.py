"""The JSON Schema of the definition's `dashboards` list (docs/dashboards.md)."""
from __future__ import annotations

from typing import Any

from engine.dashboards.model import (
    AGGREGATES, BUCKETS, CONTROL_KINDS, DERIVED_FNS, MAX_LIMIT, RANGE_DEFAULTS, WIDGET_KINDS, WINDOWS,
)

_KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 40}
_LABEL = {"$ref": "#/$defs/label"}
_PATH = {"type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$", "maxLength": 200,
         "description": "A field of the form, or a path through its relations: customer.level."}


def _dimension() -> dict[str, Any]:
    return {"oneOf": [_PATH, {
        "type": "object", "required": ["field"], "additionalProperties": False,
        "properties": {"field": _PATH,
                       "bucket": {"enum": list(BUCKETS),
                                  "description": "For a date or datetime field: group by day, week "
                                                 "(starting Monday), month, quarter or year."}}}]}


def dashboard_defs() -> dict[str, Any]:
    """The $defs a dashboard needs, to merge into the definition schema's."""
    return {
        "dashboard": {
            "type": "object", "required": ["key", "label", "widgets"], "additionalProperties": False,
            "properties": {
                "key": {**_KEY, "description": "The dashboard's stable identifier (its URL)."},
                "label": _LABEL,
                "controls": {"type": "array", "maxItems": 10, "items": {"$ref": "#/$defs/dashboard_control"},
                             "description": "Filters shown above the widgets, applied to every widget."},
                "widgets": {"type": "array", "minItems": 1, "maxItems": 50,
                            "items": {"$ref": "#/$defs/dashboard_widget"}},
            },
        },
        "dashboard_control": {
            "type": "object", "required": ["key", "kind", "label", "fields"], "additionalProperties": False,
            "properties": {
                "key": _KEY, "kind": {"enum": list(CONTROL_KINDS)}, "label": _LABEL,
                "fields": {"type": "object", "minProperties": 1, "additionalProperties": _PATH,
                           "description": "Form key -> the field (or path) of that form the control "
                                          "filters; widgets over other forms ignore it."},
                "default": {"description": "A date range's default: " + ", ".join(RANGE_DEFAULTS) + "."},
            },
        },
        "dashboard_widget": {
            "type": "object", "required": ["key", "kind", "label", "form"], "additionalProperties": False,
            "properties": {
                "key": _KEY, "kind": {"enum": list(WIDGET_KINDS)}, "label": _LABEL,
                "form": {**_KEY, "description": "The form whose records the widget aggregates."},
                "filter": {"description": "A filter of the form's records, in the filter language."},
                "dimensions": {"type": "array", "maxItems": 3, "items": _dimension(),
                               "description": "What to group by (a pivot's rows)."},
                "columns": {"type": "array", "maxItems": 1, "items": _dimension(),
                            "description": "A pivot's column dimension."},
                "measures": {"type": "array", "maxItems": 10, "items": {
                    "type": "object", "required": ["key"], "additionalProperties": False,
                    "properties": {
                        "key": _KEY, "label": _LABEL, "agg": {"enum": list(AGGREGATES)}, "field": _PATH,
                        "filter": {"description": "Aggregate only the records this filter matches "
                                                  "(a conditional count or sum)."},
                        "formula": {"type": "string", "minLength": 1, "maxLength": 1000,
                                    "description": "A formula over the other measures' keys, "
                                                   "e.g. won / total."},
                        "window": {"enum": list(WINDOWS),
                                   "description": "A window over the groups: ntile (the group's bucket, "
                                                  "1..buckets, by the measure `of`) or rank."},
                        "of": {**_KEY, "description": "The measure a window orders the groups by."},
                        "buckets": {"type": "integer", "minimum": 2, "maximum": 100,
                                    "description": "ntile's number of buckets: 5 gives quintiles."},
                        "dir": {"enum": ["asc", "desc"],
                                "description": "The window's order (asc: the smallest values get 1)."}}}},
                "derived": {"type": "array", "maxItems": 10, "items": {
                    "type": "object", "required": ["key", "fn"], "additionalProperties": False,
                    "description": "A value of each record from a window over the form's records (the "
                                   "customer's number of orders, the days since their previous order); "
                                   "named by its key in dimensions and measures.",
                    "properties": {
                        "key": _KEY, "label": _LABEL, "fn": {"enum": list(DERIVED_FNS)}, "field": _PATH,
                        "partition": {"type": "array", "maxItems": 3, "items": _PATH,
                                      "description": "The fields whose records form one window: [customer]."},
                        "order": {"type": "array", "maxItems": 3, "items": {"oneOf": [_PATH, {
                            "type": "object", "required": ["by"], "additionalProperties": False,
                            "properties": {"by": _PATH, "dir": {"enum": ["asc", "desc"]}}}]}}}}},
                "sort": {"type": "array", "maxItems": 3, "items": {
                    "type": "object", "required": ["by"], "additionalProperties": False,
                    "properties": {"by": {"type": "string"}, "dir": {"enum": ["asc", "desc"]}}}},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                          "description": "Top N: keep the first N groups (or rows of a table)."},
                "fields": {"type": "array", "maxItems": 30, "items": _PATH,
                           "description": "A detail table's columns."},
                "compare": {"enum": ["previous_period"],
                            "description": "A KPI: the change against the period before the date range."},
            },
        },
    }
