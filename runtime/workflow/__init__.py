"""Workflows at run time: instances, tasks and their log (docs/workflows.md).

    from runtime.workflow import Workflows, fire_due
"""
from runtime.workflow.processor import AUTOMATED_ACTIONS, register_action
from runtime.workflow.service import ACTIONS, BOXES, Workflows
from runtime.workflow.timeouts import fire_due, next_due

__all__ = ["Workflows", "ACTIONS", "BOXES", "fire_due", "next_due", "AUTOMATED_ACTIONS", "register_action"]
