"""The widget descriptions of a form as the actor sees it: what the form page renders
its inputs from, as JSON-able data.

Each field type describes its own widget (`FieldType.widget`, engine/fields: the kind
of input, its limits, choices, file limits, a relation's target...); this module adds
what only the actor's permissions tell: fields the actor may not see are left out
(never described, not even their key), fields they may see but not set are marked
read-only (and so not required of them).
"""
from __future__ import annotations

from typing import Any

from engine.fields.base import WidgetContext
from runtime.permissions import FormAccess
from runtime.records.service import Records


def describe_form(uow, app_key: str, form_key: str, *, lang: str | None = None) -> dict[str, Any]:
    """{"app", "form", "label", "help", "title_field", "fields": [widget, ...]} for
    `uow`'s actor, labels in `lang` (default the actor's language)."""
    records = uow.records(app_key)
    return form_description(records, form_key, lang=lang or records.ctx.lang)


def form_description(records: Records, form_key: str, *, lang: str) -> dict[str, Any]:
    app = records.app
    form = app.require_form(form_key)
    access = records.access(form_key)
    ctx = WidgetContext(lang, app.definition)
    fields = [_for_actor(app.types.of(fdef).widget(ctx), access)
              for fdef in form.fields if access.can_see(fdef.key)]
    title = form.title_key()
    return {"app": app.key, "form": form.key, "label": form.label.get(lang),
            "help": form.description.get(lang) if form.description else None,
            "title_field": title if title is None or access.can_see(title) else None,
            "fields": fields}


def _for_actor(widget: dict[str, Any], access: FormAccess) -> dict[str, Any]:
    if not access.can_edit(widget["key"]):
        widget["read_only"] = True
        widget["required"] = False
    return widget
