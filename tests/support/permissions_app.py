"""A help-desk app with permission sets (docs/permissions.md), and an organisation whose
people hold its roles, for the permission tests.

    总部 ─ 支持部 (head: lead) ─ 一组 (agent_a, agent_b, both)
         └ 财务部 (auditor)

Roles: agent (manage_own tickets, hidden cost), lead (their departments and below),
auditor (view_all + export, history), clerk (submit_only, sees own), editor (custom:
view and edit open tickets, only `status` and `title` editable, `cost` not visible),
importer (manage_all), desk_admin (the app's admins). `both` holds agent and auditor.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.compiled import compiled
from engine.validation import load_definition
from runtime.actor import Actor, actor_for
from runtime.apps import apply_app
from runtime.org import Org

DESK = """\
format_version: 1
app: {key: desk, label: {zh: 服务台, en: Help desk}}
forms:
  - key: tickets
    label: {zh: 工单, en: Tickets}
    title_field: title
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}, required: true}
      - {key: agent, type: member, label: {zh: 处理人, en: Agent}}
      - {key: team, type: department, label: {zh: 小组, en: Team}}
      - key: status
        type: select
        label: {zh: 状态, en: Status}
        options:
          - {value: open, label: {zh: 处理中, en: Open}}
          - {value: closed, label: {zh: 已关闭, en: Closed}}
      - {key: cost, type: number, label: {zh: 成本, en: Cost}, precision: 2}
      - key: cost_x2
        type: formula
        label: {zh: 双倍成本, en: Double cost}
        formula: cost * 2
  - key: notes
    label: {zh: 备注, en: Notes}
    fields:
      - {key: body, type: text, label: {zh: 内容, en: Body}, required: true}
      - {key: ticket, type: relation, label: {zh: 工单, en: Ticket}, target: tickets}
admins: [desk_admin]
permissions:
  - key: agents
    label: {zh: 客服, en: Agents}
    roles: [agent]
    forms:
      tickets:
        preset: manage_own
        filter: {or: [{field: agent, value: $me}, {field: owner_id, value: $me}]}
        hidden: [cost]
      notes: manage_own
  - key: leads
    roles: [lead]
    forms:
      tickets:
        actions: [view, edit, history]
        filter: {or: [{field: team, op: in, value: $my_departments},
                      {field: agent, op: in, value: $my_departments}]}
  - key: auditors
    roles: [auditor]
    forms:
      tickets: {preset: view_all, actions: [view, export, history]}
      notes: view_all
  - key: clerks
    roles: [clerk]
    forms:
      tickets: {preset: submit_only, actions: [create, view], read_only: [cost]}
  - key: editors
    roles: [editor]
    forms:
      tickets:
        actions: [view, edit]
        filter: {field: status, value: open}
        visible: [title, status, agent]
        editable: [title, status]
  - key: importers
    roles: [importer]
    forms:
      tickets: manage_all
"""

ROLES = ("agent", "lead", "auditor", "clerk", "editor", "importer", "desk_admin")
PEOPLE = {  # account -> (roles, department)
    "agent_a": (("agent",), "一组"), "agent_b": (("agent",), "一组"), "both": (("agent", "auditor"), "一组"),
    "lead": (("lead",), "支持部"), "auditor": (("auditor",), "财务部"), "clerk": (("clerk",), None),
    "editor": (("editor",), None), "importer": (("importer",), None), "boss": (("desk_admin",), None),
    "nobody": ((), "一组"),
}


@dataclass
class Desk:
    engine: object
    app: object
    users: dict[str, int]
    departments: dict[str, int]
    actors: dict[str, Actor]

    def actor(self, account: str) -> Actor:
        """The actor of a person, as read from the org model once the organisation was made."""
        return self.actors[account]


def desk_definition():
    return load_definition(DESK, "desk.yaml")


def install_desk(engine) -> Desk:
    """The desk app installed, its organisation made, and the people in it."""
    app = desk_definition()
    apply_app(engine, app)
    with engine.begin() as conn:
        org = Org(conn)
        root = org.departments.create("总部")
        support = org.departments.create("支持部", root.id)
        group = org.departments.create("一组", support.id)
        finance = org.departments.create("财务部", root.id)
        departments = {"总部": root.id, "支持部": support.id, "一组": group.id, "财务部": finance.id}
        for key in ROLES:
            org.roles.create(key, key)
        users = {account: org.users.add(account, account).id for account in PEOPLE}
        users["wsadmin"] = org.users.add("wsadmin", "wsadmin", is_admin=True).id
        for account, (roles, department) in PEOPLE.items():
            for role in roles:
                org.roles.assign(role, [users[account]])
            if department:
                org.departments.add_members(departments[department], [users[account]])
        org.departments.set_head(support.id, users["lead"])
    with engine.connect() as conn:
        actors = {account: actor_for(conn, account) for account in users}
    return Desk(engine, compiled(app), users, departments, actors)
