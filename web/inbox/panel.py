"""The workflow panel of a record page: the record's workflow status, the log of its
instances (who, what, when, comment), the latest instance's flow with its current nodes
marked, and what the viewer may do now.

What may be done is the runtime's answer (Workflows.offers): one entry per task the
viewer may act on, each with its actions, the nodes a return may go back to, whether a
signature is asked for and the fields the node lets them edit; here they only get
their labels and, for those fields, their widgets (runtime/forms describe_form) and
current values. `typed`: what the viewer posted in an action that was refused, shown
again so that nothing typed is lost."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _

from runtime.forms.chosen import chosen_labels
from runtime.forms.widgets import describe_form
from runtime.session import UnitOfWork
from web.inbox.labels import Labels, action_label, status_label


def workflow_panel(uow: UnitOfWork, app_key: str, form_key: str, record_id: int, lang: str,
                   typed: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """None when no workflow ever ran on the record."""
    flows = uow.workflows
    instances = flows.instances_of(app_key, form_key, record_id)
    if not instances:
        return None
    labels, latest = Labels(uow, lang), instances[-1]
    workflow_of = {i["id"]: i["workflow"] for i in instances}
    log = [{**entry, "action_label": action_label(entry["action"]),
            "node_label": labels.node(app_key, form_key, workflow_of[entry["instance_id"]], entry["node_key"])}
           for entry in flows.log(app_key, form_key, record_id)]
    flow = flows.flow(latest["id"])
    nodes = [{**n, "label_text": _node_text(n, lang)} for n in flow["nodes"]]
    offers = flows.offers(app_key, form_key, record_id)
    node_label = lambda key: labels.node(app_key, form_key, latest["workflow"], key)   # noqa: E731
    widgets, values, chosen = _field_widgets(uow, app_key, form_key, record_id, offers, lang, typed)
    tasks, instance_actions = [], None
    for offer in offers:
        if offer["kind"] == "instance":
            instance_actions = offer
            continue
        tasks.append({**offer, "node_label": node_label(offer["node_key"]),
                      "return_choices": [{"key": key, "label": _return_label(key, node_label)}
                                         for key in offer["return_to"]],
                      "widgets": [widgets[key] for key in offer["fields"] if key in widgets]})
    return {"status": latest["status"], "status_label": status_label(latest["status"]),
            "workflow_label": labels.workflow(app_key, form_key, latest["workflow"]),
            "log": log, "nodes": nodes, "tasks": tasks, "instance": instance_actions,
            "typed": typed or {},
            # what forms/_widgets.html's widget macro reads as `page`
            "page": SimpleNamespace(app_key=app_key, form_key=form_key, values=values, labels=chosen,
                                    draft={"titles": {}, "visible": {}})}


def _node_text(node: dict[str, Any], lang: str) -> str:
    """A node's label; a start node left unnamed (its label is its key) reads "Submit"."""
    text = (node["label"] or {}).get(lang) or node["key"]
    return _("Submit") if node["type"] == "start" and text == node["key"] else text


def _return_label(key: str, node_label) -> str:
    return _("The submitter") if key == "submitter" else node_label(key)


def _field_widgets(uow: UnitOfWork, app_key: str, form_key: str, record_id: int, offers: list[dict],
                   lang: str, typed: dict[str, Any] | None) -> tuple[dict[str, dict], dict[str, Any], dict]:
    """The fields any offer lets the viewer edit (the node's access deciding: editable or
    required): {key: widget}, their values (the ones typed in a refused action first) and
    the labels of the members, departments and files among them. No query when no offer
    has fields."""
    wanted = {key: access for offer in offers for key, access in offer["fields"].items()}
    if not wanted:
        return {}, {}, {"users": {}, "departments": {}, "files": {}}
    description = describe_form(uow, app_key, form_key, lang=lang)
    stored = uow.records(app_key).get(form_key, record_id)["fields"]
    widgets = {w["key"]: {**w, "read_only": False, "required": wanted[w["key"]] == "required"}
               for w in description["fields"] if w["key"] in wanted}
    values = {key: stored.get(key) for key in widgets}
    values.update((typed or {}).get("values") or {})
    return widgets, values, chosen_labels(uow, {"fields": list(widgets.values())}, values)
