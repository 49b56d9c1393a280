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
  compares the SHA-256 of the secret with that of the environment variable the trigger
  names, in constant time (neither length nor content leaks through timing; Formwork
  keeps no copy of the secret), and enqueues a run with the JSON as `payload.*`;
  `accept_webhook(...)` is the same for the web endpoint (web/hooks), answering the
  job, its status and the run it logged when it ran inline;
- buttons: `buttons_for(uow, app, form, record_id)` the buttons the user may press on
  a record (they see it and may edit the form's records), `run_button(session, app,
  automation, record_id)` as the clicking user, `press_button(...)` the same answering
  the job's status and the run it logged;
- workflows: `on_workflow_event(uow, app, form, record_id, event, node=None,
  outcome=None)`, called by the workflow interpreter in its own transaction.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from datetime import date, datetime, time as dt_time, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.definition.model import Label
from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.storage import system
from runtime import jobs
from runtime.apps import installed_apps, load_installed
from runtime.automations.compiled import RUN_KIND, automations_for
from runtime.automations.listener import enqueue_run
from runtime.jobs import outbox
from runtime.permissions import EDIT

LOOKBACK_DAYS = 7
SCHEDULE_PREFIX = "automation:"

register_messages({
    "automation_not_found": {
        "zh": "应用“{app}”没有名为“{automation}”的{what}自动化",
        "en": "app '{app}' has no {what} automation '{automation}'"},
    "webhook_secret_wrong": {
        "zh": "自动化“{automation}”的 Webhook 密钥不正确；请使用配置在 {env} 中的密钥",
        "en": "the webhook secret for automation '{automation}' is wrong; send the secret configured in {env}"},
    "webhook_bad_json": {
        "zh": "请求体不是有效的 JSON（第 {line} 行第 {column} 列：{detail}）；请发送一个 JSON 对象，例如 {{\"name\": \"王\"}}",
        "en": "The body is not valid JSON (line {line}, column {column}: {detail}); send a JSON object such as "
              "{{\"name\": \"Wang\"}}"},
    "webhook_not_object": {
        "zh": "请求体应是一个 JSON 对象（{{...}}），收到的是 {got}；自动化以 payload.键名 读取它的键",
        "en": "The body must be a JSON object ({{...}}), not {got}; the automation reads its keys as payload.KEY"},
    "webhook_secret_unset": {
        "zh": "自动化“{automation}”的 Webhook 未启用：服务器没有设置环境变量 {env}",
        "en": "the webhook of automation '{automation}' is disabled: {env} is not set on the server"},
})


class AutomationNotFound(CodedError, NotFound):
    def __init__(self, app: str, automation: str, what: str):
        super().__init__("automation_not_found", app=app, automation=automation, what=what)


class WebhookRefused(CodedError):
    """A webhook call without the right secret, or to a webhook whose secret is not set
    (the endpoint answers 404, as for an automation that does not exist)."""


class WebhookBodyInvalid(CodedError):
    """A webhook body that is not a JSON object (`line` and `column` when it does not parse)."""

    def __init__(self, code: str, *, line: int | None = None, column: int | None = None, **params):
        self.line, self.column = line, column
        super().__init__(code, line=line, column=column, **params)


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def parse_webhook_body(raw: bytes) -> dict:
    """The JSON object of a webhook body (an empty body is {}); WebhookBodyInvalid saying
    where it stops parsing, or what came instead of an object."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise WebhookBodyInvalid("webhook_bad_json", line=1, column=exc.start + 1,
                                 detail="not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise WebhookBodyInvalid("webhook_bad_json", line=exc.lineno, column=exc.colno, detail=exc.msg) from None
    if not isinstance(value, dict):
        raise WebhookBodyInvalid("webhook_not_object", got=_JSON_TYPES.get(type(value), "?"))
    return value


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
        if not secret_matches(expected, secret):
            raise WebhookRefused("webhook_secret_wrong", automation=automation_key, env=env)
        return enqueue_run(uow, app, automation, "webhook", None, payload=payload,
                           key=delivery_id or uuid.uuid4().hex)
    return session.write(work)


def secret_matches(expected: str, given) -> bool:
    """`given` is the secret `expected`: their SHA-256 digests compared in constant time
    (equal lengths, so the comparison says nothing of the secret's length either)."""
    return hmac.compare_digest(hashlib.sha256(expected.encode()).digest(),
                               hashlib.sha256(str(given or "").encode()).digest())


def accept_webhook(session, app_key: str, automation_key: str, secret: str, payload, *,
                   delivery_id: str | None = None) -> dict:
    """receive_webhook, then what became of it: {"job": id | None, "status": the job's
    status (done when it ran inline), "run": the run it logged | None, "duplicate":
    True when `delivery_id` was received before}."""
    job_id = receive_webhook(session, app_key, automation_key, secret, payload, delivery_id=delivery_id)
    return _outcome(session, job_id)


def buttons_for(uow, app_key: str, form_key: str, record_id: int) -> list:
    """The button automations of `form_key` the unit of work's user may press on record
    `record_id`: none unless they may edit the form's records (the run acts as them with
    the job's full access, so viewing is not enough) and see the record."""
    app = uow.app(app_key)
    found = [a for a in automations_for(app).triggered(form_key, "button")]
    if not found:
        return []
    records = uow.records(app_key)
    if not records.access(form_key).can(EDIT):
        return []
    records.get(form_key, record_id)        # NotFound outside the user's rows
    return found


def button_label(automation) -> Label:
    """The text on an automation's button: its trigger's `label`, else the automation's."""
    raw = automation.trigger.option("label")
    return Label.parse(raw) if raw else automation.label


def run_button(session, app_key: str, automation_key: str, record_id: int, *,
               form_key: str | None = None) -> int | None:
    """The button of `automation_key` pressed on record `record_id` (of `form_key`, when
    given: a button of another form is not found) by the session's user, who must be able
    to see the record and edit the form's records (PermissionDenied); the run acts as them."""
    def work(uow):
        app, automation = _automation(uow, app_key, automation_key, "button")
        if form_key is not None and automation.form != form_key:
            raise AutomationNotFound(app_key, automation_key, "button")
        records = uow.records(app_key)
        records.access(automation.form, EDIT)               # PermissionDenied
        records.get(automation.form, record_id)             # NotFound
        return enqueue_run(uow, app, automation, "button", record_id, as_actor=True, key=uuid.uuid4().hex,
                           extra={"by": uow.actor.user_id})
    return session.write(work)


def press_button(session, app_key: str, form_key: str, automation_key: str, record_id: int) -> dict:
    """run_button, then what became of it (as accept_webhook answers), with the button's
    `label` ({"zh", "en"})."""
    outcome = _outcome(session, run_button(session, app_key, automation_key, record_id, form_key=form_key))
    with session.read() as uow:
        label = button_label(automations_for(uow.app(app_key)).by_key[automation_key])
    return {**outcome, "label": {"zh": label.get("zh"), "en": label.get("en")}}


def _outcome(session, job_id: int | None) -> dict:
    if job_id is None:
        return {"job": None, "status": None, "run": None, "duplicate": True}
    with session.read() as uow:
        job = outbox.get(uow.conn, job_id)
        run = uow.conn.execute(sa.select(system.automation_runs.c.id, system.automation_runs.c.status,
                                         system.automation_runs.c.error)
                               .where(system.automation_runs.c.job_id == job_id)
                               .order_by(system.automation_runs.c.id.desc()).limit(1)).mappings().first()
    return {"job": job_id, "status": job.status if job else None, "run": dict(run) if run else None,
            "duplicate": False}


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

__all__ = ["receive_webhook", "accept_webhook", "parse_webhook_body", "WebhookBodyInvalid", "secret_matches", "run_button", "press_button", "buttons_for", "button_label", "on_workflow_event", "WorkflowEvent", "sync_schedules",
           "due_dates", "due_schedules", "forget_synced"]
