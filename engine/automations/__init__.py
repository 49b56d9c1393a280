"""Automations (智能助手) as the app definition declares them: a trigger, a condition
formula, and actions (docs/automations.md).

    model      the definition read into Automation / Trigger / Action (never raises)
    kinds      the trigger kinds and the action kinds, each with the JSON Schema of its
               options (a builder renders a form from it; the runtime registers run())
    env        the formula environment of an automation's formulas (own fields, old.*, payload.*)
    templates  the sandboxed Jinja2 environment of notification templates

The checks of meaning are in engine/validation/automation_checks.py; running them is
runtime/automations.
"""
from engine.automations.kinds import ACTION_KINDS, RECORD_TRIGGERS, TRIGGER_KINDS, automation_schema
from engine.automations.model import Action, Automation, Trigger, automations_of

__all__ = ["ACTION_KINDS", "TRIGGER_KINDS", "RECORD_TRIGGERS", "automation_schema", "Action",
           "Automation", "Trigger", "automations_of"]
