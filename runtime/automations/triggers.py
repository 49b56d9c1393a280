"""The ways into an automation other than record events:

- date fields: the scheduler's due source `automations.dates` claims, for every `date`
  automation of every installed app, the records whose date plus `offset_days` is
  today or in the last LOOKBACK_DAYS (a scheduler that was down catches up), one
  INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING per automation into
  fw_automation_date_fires: a record and due date fires once, whichever scheduler
  claims it, and again only when its date moves to a new due date;
- cron schedules: `sync_schedules(conn, app)` keeps one runtime/jobs schedule per
  `schedule` automation (named `automation:<app>:<key>`), and the due source
  `automations.schedules` calls it for every installed app whose version it has not
  synced in this process, so installing or upgrading an app needs no other step;
- incoming webhooks: `receive_webhook(session, app, automation, secret, payload)`
  compares the secret in constant time with the one in the environment variable the
  trigger names, and enqueues a run with the JSON as `payload.*` (the web endpoint
  calls it);
- buttons: `run_button(session, app, automation, record_id)` as the clicking user;
- workflows: `on_workflow_event(uow, app, form, record_id, event, node=None,
  outcome=None)`, called by the workflow interpreter in its own transaction.
"""
from __future__ import annotations

import hmac
import os
import uuid
from datetime import date, datetime, time as dt_time, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.storage import system
from runtime import jobs
from runtime.apps import installed_apps, load_installed
from runtime.automations.compiled import RUN_KIND, automations_for
from runtime.automations.listener import enqueue_run

LOOKBACK_DAYS = 7
SCHEDULE_PREFIX = "automation:"

register_messages({
    "automation_not_found": {
        "zh": "应用“{app}”没有名为“{automation}”的{what}自动化",
        "en": "app '{app}' has no {what} automation '{automation}'"},
    "webhook_secret_wrong": {
        "zh": "自动化“{automation}”的 Webhook 密钥不正确；请使用配置在 {env} 中的密钥",
        "en": "the webhook secret for automation '{automation}' is wrong; send the secret configured in {env}"},
    "webhook_secret_unset": {
        "zh": "自动化“{automation}”的 Webhook 未启用：服务器没有设置环境变量 {env}",
        "en": "the webhook of automation '{automation}' is disabled: {env} is not set on the server"},
})


class AutomationNotFound(CodedError, NotFound):
    def __init__(self, app: str, automation: str, what: str):
        super().__init__("automation_not_found", app=app, automation=automation, what=what)


class WebhookRefused(CodedError):
    """A webhook call without the right secret (the endpoint answers 403)."""


def _automation(uow, app_key: str, key: str, kind: str):
    app = uow.app(app_key)
    automation = automations_for(app).by_key.get(key)
    if automation is None or automation.trigger.kind != kind or not automation.enabled:
        raise AutomationNotFound(app_key, key, kind)
    return app, automation


# ---- incoming webhooks and buttons ------------------------------------------------------------

def receive_webhook(session, app_key: str, automation_key: str, secret: str, payload, *,
                    delivery_id: str | None = None) -> int | None:
    """Verify `secret` and enqueue the run; the job's id (None: this delivery id ran already)."""
    def work(uow):
        app, automation = _automation(uow, app_key, automation_key, "webhook")
        env = automation.trigger.option("secret_env")
        expected = os.environ.get(env, "")
        if not expected:
            raise WebhookRefused("webhook_secret_unset", automation=automation_key, env=env)
        if not hmac.compare_digest(expected.encode(), str(secret or "").encode()):
            raise WebhookRefused("webhook_secret_wrong", automation=automation_key, env=env)
        return enqueue_run(uow, app, automation, "webhook", None, payload=payload,
                           key=delivery_id or uuid.uuid4().hex)
    return session.write(work)


def run_button(session, app_key: str, automation_key: str, record_id: int) -> int | None:
    """The button of `automation_key` pressed on record `record_id` by the session's user,
    who must be able to see the record; the run acts as them."""
    def work(uow):
        app, automation = _automation(uow, app_key, automation_key, "button")
        uow.records(app_key).get(automation.form, record_id)     # NotFound / PermissionDenied
        return enqueue_run(uow, app, automation, "button", record_id, as_actor=True, key=uuid.uuid4().hex,
                           extra={"by": uow.actor.user_id})
    return session.write(work)


# ---- workflows --------------------------------------------------------------------------------

class WorkflowEvent(StrEnum):
    NODE_REACHED = "node_reached"
    ENDED = "ended"


def on_workflow_event(uow, app_key: str, form_key: str, record_id: int, event: str, node: str | None = None,
                      outcome: str | None = None, instance: int | str | None = None) -> list[int]:
    """Enqueue the automations of a workflow event in the interpreter's transaction:
    `workflow_node` automations whose `node` is `node`, or `workflow_ended` automations
    whose `outcome` is `outcome` (or any). `instance` (the workflow instance) keys the
    runs, so an event reported twice runs them once."""
    event = WorkflowEvent(event)
    app = uow.app(app_key)
    automations = automations_for(app)
    enqueued = []
    if event is WorkflowEvent.NODE_REACHED:
        chosen = [a for a in automations.triggered(form_key, "workflow_node") if a.trigger.option("node") == node]
    else:
        chosen = [a for a in automations.triggered(form_key, "workflow_ended")
                  if a.trigger.option("outcome", "any") in ("any", outcome)]
    trigger = "workflow_node" if event is WorkflowEvent.NODE_REACHED else "workflow_ended"
    for automation in chosen:
        job = enqueue_run(uow, app, automation, trigger, record_id, key=f"{instance}:{node or outcome}",
                          payload={"node": node, "outcome": outcome, "instance": instance})
        if job is not None:
            enqueued.append(job)
    return enqueued


# ---- date fields ------------------------------------------------------------------------------

def due_dates(uow, now: datetime) -> int:
    """The due source: claim and enqueue every date trigger due at `now`."""
    count = 0
    for app_key in (row["key"] for row in installed_apps(uow.conn)):
        app = load_installed(uow.conn, app_key)
        for automation in automations_for(app).of_kind("date"):
            count += _claim_dates(uow, app, automation, now)
    return count


def _claim_dates(uow, app, automation, now: datetime) -> int:
    form = app.require_form(automation.form)
    fdef = form.field(automation.trigger.option("field"))
    ftype = app.types.of(fdef)
    table = app.tables.form_table(form.key)
    column = table.c[ftype.columns()[0].name]
    offset = int(automation.trigger.option("offset_days"))
    today = now.astimezone(uow.session.tz).date()
    # due on = date + offset: due when it is today or in the look-back window.
    latest, earliest = today - timedelta(days=offset), today - timedelta(days=offset + LOOKBACK_DAYS)
    low, high = _bounds(ftype.formula_type, earliest, latest, uow.session.tz)
    due_on = _due_on_expression(uow.conn, column, ftype.formula_type, offset)
    fires = system.automation_date_fires
    chosen = sa.select(sa.literal(app.key), sa.literal(automation.key), table.c.id, due_on, sa.literal(now)) \
        .where(table.c.deleted_at.is_(None), column.isnot(None), column >= low, column < high)
    insert = (postgresql.insert if uow.conn.dialect.name == "postgresql" else sqlite.insert)(fires)
    claimed = uow.conn.execute(
        insert.from_select(["app_key", "automation_key", "record_id", "due_on", "fired_at"], chosen)
        .on_conflict_do_nothing().returning(fires.c.record_id, fires.c.due_on)).all()
    for record_id, due in claimed:
        enqueue_run(uow, app, automation, "date", record_id, key=due, extra={"due_on": due})
    return len(claimed)


def _bounds(formula_type: str, earliest: date, latest: date, tz):
    """[low, high) of the column for dates from `earliest` to `latest`, both included."""
    if formula_type == "datetime":
        return (datetime.combine(earliest, dt_time(), tz), datetime.combine(latest + timedelta(days=1), dt_time(), tz))
    return earliest, latest + timedelta(days=1)


def _due_on_expression(conn, column, formula_type: str, offset: int):
    """The due date as ISO text (the claim's key): the column's date plus the offset."""
    if conn.dialect.name == "postgresql":
        day = sa.cast(column, sa.Date) if formula_type == "date" else sa.func.date(column)
        return sa.func.to_char(day + sa.literal(offset), "YYYY-MM-DD")
    return sa.func.date(column, f"{offset:+d} days")


# ---- cron schedules ---------------------------------------------------------------------------

_synced: dict[str, int] = {}            # app key -> the installed version synced by this process


def sync_schedules(conn: sa.Connection, app, *, now: datetime | None = None) -> int:
    """Make the runtime/jobs schedules of `app`'s schedule automations match its
    definition: one per enabled automation, none for the others. Returns how many exist."""
    wanted = {f"{SCHEDULE_PREFIX}{app.key}:{a.key}": a for a in automations_for(app).of_kind("schedule")}
    table = system.job_schedules
    existing = dict(conn.execute(sa.select(table.c.name, table.c.cron).where(
        table.c.name.like(f"{SCHEDULE_PREFIX}{app.key}:%"))).all())
    for name in existing.keys() - wanted.keys():
        jobs.remove_schedule(conn, name)
    for name, automation in wanted.items():
        if existing.get(name) != automation.trigger.option("cron"):
            jobs.define_schedule(conn, name, automation.trigger.option("cron"), RUN_KIND,
                                 {"app": app.key, "automation": automation.key, "trigger": "schedule",
                                  "record": None, "old": {}, "payload": None, "depth": 0, "chain": []}, now=now)
    return len(wanted)


def due_schedules(uow, now: datetime) -> int:
    """The due source keeping the schedules in step with the installed apps."""
    for row in installed_apps(uow.conn):
        if _synced.get(row["key"]) != row["current_version"]:
            sync_schedules(uow.conn, load_installed(uow.conn, row["key"]), now=now)
            _synced[row["key"]] = row["current_version"]
    return 0


def forget_synced() -> None:
    """Forget which apps this process synced (tests with a new database)."""
    _synced.clear()


jobs.register_due_source("automations.schedules", due_schedules)
jobs.register_due_source("automations.dates", due_dates)

__all__ = ["receive_webhook", "run_button", "on_workflow_event", "WorkflowEvent", "sync_schedules",
           "due_dates", "due_schedules", "forget_synced"]
