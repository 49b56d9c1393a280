"""The workflow panel of a record page: the record's workflow status, the log of its
instances (who, what, when, comment), the latest instance's flow with its current nodes
marked, and the viewer's pending tasks on the record (what they may approve or reject)."""
from __future__ import annotations

from typing import Any

from runtime.session import UnitOfWork
from web.inbox.labels import Labels, action_label, status_label


def workflow_panel(uow: UnitOfWork, app_key: str, form_key: str, record_id: int, lang: str) -> dict[str, Any] | None:
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
    nodes = [{**n, "label_text": (n["label"] or {}).get(lang) or n["key"]} for n in flow["nodes"]]
    mine = [{**t, "node_label": labels.node(app_key, form_key, latest["workflow"], t["node_key"])}
            for t in flows.pending_on(app_key, form_key, record_id)]
    return {"status": latest["status"], "status_label": status_label(latest["status"]),
            "workflow_label": labels.workflow(app_key, form_key, latest["workflow"]),
            "log": log, "nodes": nodes, "my_tasks": mine}
