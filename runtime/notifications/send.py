"""Sending a notification: the templates rendered now, with the record as it is in this
transaction (engine/automations/templates.py), then one job per user and channel (and one
for a robot), each keyed so a run that is retried sends once. The jobs are in
runtime/notifications/jobs.py."""
from __future__ import annotations

from typing import Any

from engine.automations.templates import render
from runtime.notifications.email import smtp_configured
from runtime.notifications.inbox import preferences_of

IN_APP_KIND, EMAIL_KIND, ROBOT_KIND = "notification.in_app", "notification.email", "notification.robot"
DEFAULT_CHANNELS = ("in_app", "email")


def notify(uow, *, recipients: list[int], kind: str, title: str, body: str | None = None,
           link: str | None = None, channels: list[str] | None = None, robot: dict | None = None,
           context: dict[str, Any] | None = None, key: str) -> dict:
    """Render and enqueue; returns what was enqueued (for the run log)."""
    context = context or {}
    text = {"title": render(title, context), "body": render(body or "", context),
            "link": render(link or "", context) or None}
    wanted = list(channels or DEFAULT_CHANNELS)
    if "email" in wanted and not smtp_configured():
        wanted.remove("email")          # e-mail only when FORMWORK_SMTP_HOST is set
    kept = preferences_of(uow.conn, recipients, kind)
    sent = {"in_app": 0, "email": 0, "robot": 0}
    for user_id in recipients:
        for channel in (c for c in wanted if c in kept.get(user_id, wanted)):
            job_kind = IN_APP_KIND if channel == "in_app" else EMAIL_KIND
            payload = {"user": user_id, "kind": kind, **text}
            if channel == "email":
                payload["html"] = render(body or "", context, html=True)
            if uow.enqueue(job_kind, payload, key=f"notify:{key}:{user_id}:{channel}") is not None:
                sent[channel] += 1
    if robot:
        payload = {"format": robot["format"], "url_env": robot["url_env"], **text}
        if uow.enqueue(ROBOT_KIND, payload, key=f"notify:{key}:robot") is not None:
            sent["robot"] += 1
    return {"kind": kind, "sent": sent, "title": text["title"]}
