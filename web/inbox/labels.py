"""Labels of workflows, nodes and forms for the inbox and the record page's panel, in
the page language, from the installed apps (each app loaded once per request)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from runtime.session import UnitOfWork


def status_label(status: str | None) -> str:
    return {"running": _("In progress"), "approved": _("Approved"), "rejected": _("Rejected"),
            "withdrawn": _("Withdrawn"), "ended": _("Ended")}.get(status or "", status or "")


def action_label(action: str) -> str:
    """What a log entry says was done (the runtime's log actions, runtime/workflow)."""
    return {"submit": _("submitted"), "approve": _("approved"), "reject": _("rejected"), "return": _("returned"),
            "transfer": _("transferred"), "add_before": _("added a signer before"),
            "add_after": _("added a signer after"), "urge": _("urged"), "reassign": _("reassigned"),
            "resubmit": _("resubmitted"), "cc": _("copied"), "edit": _("changed fields"),
            "remind": _("reminded"), "branch": _("took a branch"), "skipped": _("skipped"),
            "to_admin": _("handed to the admins"), "set_fields": _("set fields"), "action": _("ran a step"),
            "action_recorded": _("recorded a step"), "subflow": _("started a sub-flow"),
            "timeout_failed": _("timeout failed"), "approved": _("finished: approved"),
            "rejected": _("finished: rejected"), "withdrawn": _("withdrew"), "end": _("ended")}.get(action, action)


class Labels:
    """Form, workflow and node labels of the apps a page names."""

    def __init__(self, uow: UnitOfWork, lang: str):
        self.uow, self.lang, self._apps = uow, lang, {}

    def _app(self, app_key: str):
        if app_key not in self._apps:
            self._apps[app_key] = self.uow.app(app_key)
        return self._apps[app_key]

    def form(self, app_key: str, form_key: str) -> str:
        return self._app(app_key).require_form(form_key).label.get(self.lang)

    def workflow(self, app_key: str, form_key: str, workflow_key: str) -> str:
        flow = self._app(app_key).workflows(form_key).get(workflow_key)
        return flow.label.get(self.lang) if flow else workflow_key

    def node(self, app_key: str, form_key: str, workflow_key: str, node_key: str | None) -> str:
        flow = self._app(app_key).workflows(form_key).get(workflow_key)
        node = flow.node(node_key) if flow and node_key else None
        if node is None:
            return node_key or ""
        text = node.label.get(self.lang)
        return _("Submit") if node.type == "start" and text in (None, "", node.key) else text

    def task(self, row: dict[str, Any]) -> dict[str, Any]:
        """An inbox row with its labels and status words added."""
        app, form, flow = row["app_key"], row["form_key"], row["workflow_key"]
        nodes = row.get("current_nodes") if row.get("node_key") is None else [row["node_key"]]
        return {**row, "form_label": self.form(app, form), "workflow_label": self.workflow(app, form, flow),
                "node_label": ", ".join(self.node(app, form, flow, n) for n in nodes or []),
                "status_label": status_label(row["instance_status"])}
