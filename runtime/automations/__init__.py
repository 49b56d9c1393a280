"""Running automations (智能助手): the definition's triggers, conditions and actions
(engine/automations, docs/automations.md).

    listener   record events -> an automation job in the write's own transaction
    runner     the job: the condition, then the actions, in the job's unit of work; the run log
    actions    the action kinds: each a JSON Schema (engine/automations/kinds.py) and a run()
    triggers   the other ways in: date fields (a scheduler due source), cron schedules,
               incoming webhooks, buttons, workflow events
    runs       the run log read back, and runs run again (`formwork automations ...`)

A chain of automations (an action's write triggering another automation) carries its
depth in the job payload and stops at MAX_DEPTH with a `stopped` run saying so.
"""
from runtime.automations.compiled import MAX_DEPTH, AppAutomations, automations_for
from runtime.automations.triggers import (
    WorkflowEvent, on_workflow_event, receive_webhook, run_button, sync_schedules,
)

__all__ = ["MAX_DEPTH", "AppAutomations", "automations_for", "WorkflowEvent", "on_workflow_event",
           "receive_webhook", "run_button", "sync_schedules"]
