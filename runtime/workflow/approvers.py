"""Who handles a node: the approver rules of the definition (engine/workflow/model.py)
resolved against the org model (runtime/org) and the record.

    users              by account (unknown accounts are refused, with a did-you-mean)
    role               every active member of the role
    department_head    `submitter`: the head of the submitter's primary department;
                       a department field: the head of the department(s) in it
    manager            the submitter's manager chain: `levels: N` (the first N heads above
                       them) or `up_to_role: R` (up to and including the first one holding R)
    field              a member field (its people) or a department field (its head)
    chosen             the people the submitter chose when starting (`chosen={node: [...]}`)

The result keeps the order of the rules and of the people (it is the order of
`mode: sequential`), without repeats and without inactive users.
"""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa

from engine.storage import system
from engine.suggest import did_you_mean
from engine.workflow.model import ApproverRule
from runtime.org import Org
from runtime.workflow.errors import WorkflowRefused

_u, _d, _r, _rm = system.users, system.departments, system.roles, system.role_members

# Built once: the queries every human node runs (see runtime/workflow/store.py).
_ACTIVE = sa.select(_u.c.id).where(_u.c.id.in_(sa.bindparam("b_ids", expanding=True)), _u.c.is_active == sa.true())
_ACCOUNTS = sa.select(_u.c.account, _u.c.id, _u.c.is_active).where(
    _u.c.account.in_(sa.bindparam("b_accounts", expanding=True)))
_ROLE = (sa.select(_rm.c.user_id).join(_r, _r.c.id == _rm.c.role_id).where(_r.c.key == sa.bindparam("b_role"))
         .order_by(_rm.c.user_id))


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None]


class Resolver:
    def __init__(self, org: Org, record: dict, submitter_id: int | None, chosen: dict[str, list[int]],
                 department_fields: frozenset[str] = frozenset()):
        self.org, self.record, self.submitter_id, self.chosen = org, record, submitter_id, chosen
        self.department_fields = department_fields
        self._is_active: dict[int, bool] = {}      # users whose activity a rule's query read already

    def people(self, rules: Iterable[ApproverRule], node_key: str) -> list[int]:
        found: list[int] = []
        for rule in rules:
            found.extend(getattr(self, f"_{rule.kind}")(rule, node_key))
        return self._active(list(dict.fromkeys(found)))

    def _active(self, ids: list[int]) -> list[int]:
        unknown = [i for i in ids if i not in self._is_active]
        if unknown:
            active = set(self.org.conn.execute(_ACTIVE, {"b_ids": unknown}).scalars())
            self._is_active.update((i, i in active) for i in unknown)
        return [i for i in ids if self._is_active[i]]

    def _users(self, rule: ApproverRule, node_key: str) -> list[int]:
        rows = _accounts(self.org.conn, rule.value)
        self._is_active.update((row.id, bool(row.is_active)) for row in rows)
        return [row.id for row in rows]

    def _role(self, rule: ApproverRule, node_key: str) -> list[int]:
        return list(self.org.conn.execute(_ROLE, {"b_role": rule.value}).scalars())

    def _department_head(self, rule: ApproverRule, node_key: str) -> list[int]:
        if rule.value == "submitter":
            chain = self._chain()
            return self._heads(self._primary_department()) if chain is None else chain[:1]
        return self._heads(_ids(self.record.get(rule.value)))

    def _primary_department(self) -> list[int]:
        if self.submitter_id is None:
            return []
        dm = system.department_members
        return list(self.org.conn.execute(sa.select(dm.c.department_id).where(
            dm.c.user_id == self.submitter_id, dm.c.is_primary == sa.true())).scalars())

    def _heads(self, department_ids: list[int]) -> list[int]:
        if not department_ids:
            return []
        rows = self.org.conn.execute(sa.select(_d.c.id, _d.c.head_user_id).where(_d.c.id.in_(department_ids))).all()
        heads = {r.id: r.head_user_id for r in rows}
        return [heads[d] for d in department_ids if heads.get(d) is not None]

    def _chain(self) -> list[int] | None:
        """The submitter's manager chain (the active heads above them, nearest first), or
        None for the system."""
        if self.submitter_id is None:
            return None
        return [u.id for u in self.org.departments.manager_chains([self.submitter_id])[self.submitter_id]]

    def _manager(self, rule: ApproverRule, node_key: str) -> list[int]:
        chain = self._chain() or []
        if rule.manager_levels is not None:
            return chain[:rule.manager_levels]
        holders = set(self.org.conn.execute(sa.select(_rm.c.user_id).join(_r, _r.c.id == _rm.c.role_id)
                                            .where(_r.c.key == rule.manager_up_to_role)).scalars())
        out = []
        for user_id in chain:
            out.append(user_id)
            if user_id in holders:
                break
        return out

    def _field(self, rule: ApproverRule, node_key: str) -> list[int]:
        value = _ids(self.record.get(rule.value))
        return self._heads(value) if rule.value in self.department_fields else value

    def _chosen(self, rule: ApproverRule, node_key: str) -> list[int]:
        return list(self.chosen.get(node_key, []))


_MEMBER = sa.select(_u.c.id, _u.c.account, _u.c.name, _u.c.is_active)


def member_id(conn: sa.Connection, member: int | str | None, action: str) -> int:
    """The user id of the person an action names (a transfer, an added signer, a
    reassignment): a member picker's user id (an int, or digits as a form posts them)
    or an account (the API, the CLI). The one place both are resolved: an unknown
    member or an inactive one is refused, saying which and what to do (one query)."""
    if member is None or (isinstance(member, str) and not member.strip()):
        raise WorkflowRefused("wf_needs_user", action=action)
    if isinstance(member, bool):
        raise WorkflowRefused("wf_unknown_member", member=str(member))
    by_id = isinstance(member, int) or member.strip().isdigit()
    if by_id and not 0 < int(member) < 2 ** 63:          # beyond any id (and PostgreSQL's bigint)
        raise WorkflowRefused("wf_unknown_member", member=f"#{str(member).strip()[:24]}")
    where = _u.c.id == int(member) if by_id else _u.c.account == member.strip()
    row = conn.execute(_MEMBER.where(where)).first()
    if row is None and not by_id:
        known = list(conn.execute(sa.select(_u.c.account).limit(5000)).scalars())
        raise WorkflowRefused("wf_unknown_user", account=member, suggestion=did_you_mean(member.strip(), known))
    if row is None:
        raise WorkflowRefused("wf_unknown_member", member=f"#{int(member)}")
    if not row.is_active:
        raise WorkflowRefused("wf_inactive_member", member=f"{row.name}（{row.account}）")
    return row.id


def ids_of_accounts(conn: sa.Connection, accounts: Iterable[str]) -> list[int]:
    """User ids of accounts, in their order; an unknown account is refused (did-you-mean)."""
    return [row.id for row in _accounts(conn, accounts)]


def _accounts(conn: sa.Connection, accounts: Iterable[str]) -> list:
    """(account, id, is_active) of accounts, in their order, in one query; an unknown
    account is refused (did-you-mean)."""
    accounts = list(accounts)
    rows = {r.account: r for r in conn.execute(_ACCOUNTS, {"b_accounts": accounts}).all()}
    for account in accounts:
        if account not in rows:
            known = list(conn.execute(sa.select(_u.c.account).limit(5000)).scalars())
            raise WorkflowRefused("wf_unknown_user", account=account, suggestion=did_you_mean(account, known))
    return [rows[a] for a in accounts]
