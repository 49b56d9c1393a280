"""The REST API's workflow endpoints: the caller's task inbox, acting on a task, and the
workflow of a record (its instances, their log and flow).

Thin over runtime/workflow (`uow.workflows`, acting as the caller): the runtime decides
who may act (not the assignee: 403; no such task: 404; already handled or the flow over:
409 with its message, runtime.api.errors). Bodies come from runtime/api/workflow.py.
"""
from __future__ import annotations

from flask import Blueprint, request

from runtime.api.requests import parse_json_body
from runtime.api.workflow import jsonable, parse_action_body, tasks_body, workflow_body
from runtime.session import UnitOfWork
from web.api.limits import check_rate_limit, rate_headers
from web.api.views import RECORD, form_of, json_response
from web.context import login_required, runtime_session

bp = Blueprint("api_tasks", __name__, url_prefix="/api/v1")
bp.before_request(check_rate_limit)
bp.after_request(rate_headers)

TASK = "/tasks/<int(max=9223372036854775807):task_id>"


@bp.get("/tasks")
@login_required
def list_tasks():
    box = request.args.get("status", "pending")
    with runtime_session().read() as uow:
        return json_response(tasks_body(box, uow.workflows.tasks(box)))


@bp.post(TASK + "/<action>")
@login_required
def act_on_task(task_id: int, action: str):
    raw = request.get_data(cache=False)           # an empty body: the action without a comment
    arguments = parse_action_body(parse_json_body(raw) if raw.strip() else None, action)
    instance = runtime_session().write(lambda uow: uow.workflows.act(task_id, action, **arguments))
    return json_response({"instance": jsonable(instance)})


def record_workflow(uow: UnitOfWork, app_key: str, form_key: str, record_id: int) -> dict:
    """The record's workflow as the caller may see it: the record must be theirs to view
    (else 404, as the record itself)."""
    _app, form = form_of(uow, app_key, form_key)
    uow.records(app_key).get(form.key, record_id)
    flows = uow.workflows
    instances = flows.instances_of(app_key, form.key, record_id)
    return workflow_body(instances, flows.log(app_key, form.key, record_id),
                         [flows.flow(i["id"]) for i in instances])


@bp.get(RECORD + "/workflow")
@login_required
def get_record_workflow(app_key: str, form_key: str, record_id: int):
    with runtime_session().read() as uow:
        return json_response(record_workflow(uow, app_key, form_key, record_id))
