"""Permissions: the policy the record service asks what an actor may do with a form
(runtime/permissions/policy.py), enforced once, in runtime, for every caller; the
role-based policy from the app's permission sets (runtime/permissions/roles.py)."""
from runtime.permissions.errors import PermissionDenied  # noqa: F401
from runtime.permissions.policy import (ACTIONS, CREATE, DELETE, EDIT, EXPORT, FULL, FULL_ACCESS,  # noqa: F401
                                        HISTORY, IMPORT, VIEW, FormAccess, FullAccess, Policy)
from runtime.permissions.roles import ROLE_POLICY, RolePolicy, accessible_forms, policy_for  # noqa: F401
