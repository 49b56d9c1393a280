"""Permissions: the policy the record service asks what an actor may do with a form
(runtime/permissions/policy.py), enforced once, in runtime, for every caller."""
from runtime.permissions.errors import PermissionDenied  # noqa: F401
from runtime.permissions.policy import (ACTIONS, CREATE, DELETE, EDIT, FULL, FULL_ACCESS, VIEW,  # noqa: F401
                                        FormAccess, FullAccess, Policy)
