"""`formwork users`, `formwork departments` and `formwork roles`: the org model.

People are named by id, account or (unique) display name; departments by id,
path ("总部/销售部/华东组") or a name only one department has; roles by id, key or
name. Every command runs in one transaction: on an error nothing is changed.
"""
from __future__ import annotations

import functools
import json
import unicodedata

import click

from engine.errors import RecordValidationError
from engine.i18n import render
from runtime.org import DepartmentNode, User
from runtime.session import Session
from web.cli._common import with_engine

PAGE_SIZE = 50


def with_org(func=None, *, read_only: bool = False):
    """Decorator: pass an `Org` bound to a unit of work of the system (runtime/session.py);
    values refused by the org model are printed one per line (with the option that gave
    them) and exit 1. Commands that only read say `@with_org(read_only=True)`: they read
    in a read unit of work, so on SQLite they never make writers wait (engine/storage/db.py).
    A write is not run again when the database aborts it (the command prints as it goes):
    it is reported as ConcurrentWriteError, "try again"."""
    if func is None:
        return functools.partial(with_org, read_only=read_only)

    @with_engine
    @functools.wraps(func)
    def wrapper(engine, *args, **kwargs):
        try:
            session = Session(engine)
            with session.read() if read_only else session.write() as uow:
                return func(uow.org, *args, **kwargs)
        except RecordValidationError as exc:
            for issue in exc.issues:
                where = _input_name(issue.subfield or issue.field)
                click.echo(f"error: {where}: {render(issue.code, issue.params, 'en')}", err=True)
            raise click.exceptions.Exit(1) from None
    return wrapper


def _input_name(field: str) -> str:
    """How the running command calls the input a refused value came from: `--email`,
    `ACCOUNT`, or the value's own name (`password`) when no parameter carries it."""
    for param in click.get_current_context().command.params:
        if param.name == field:
            return param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    return field


def _user_label(user: User) -> str:
    return f"{user.name} ({user.account})"


def _width(text: str) -> int:
    """Terminal columns of a text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(_width(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for row in [headers, *rows]:
        cells = [str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths)]
        click.echo("  ".join(cells).rstrip())


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return click.get_text_stream("stdin").readline().rstrip("\r\n")
    return click.prompt("New password", hide_input=True, confirmation_prompt=True)


# ---- users ---------------------------------------------------------------------------------
@click.group()
def users() -> None:
    """Add, edit, find and deactivate users (people who sign in and own records)."""


@users.command("add")
@click.argument("account")
@click.option("--name", required=True, help="Display name, e.g. 李雷.")
@click.option("--email")
@click.option("--phone", help="Mobile or landline; stored in canonical form.")
@click.option("--department", "departments", multiple=True,
              help="A department to join (path or id); repeat for several, the first is primary.")
@click.option("--role", "roles", multiple=True, help="A role to give (key or name); repeatable.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--password-stdin", is_flag=True, help="Read a password from the first line of stdin.")
@with_org
def add_user(org, account, name, email, phone, departments, roles, admin, password_stdin):
    """Add a user who signs in as ACCOUNT (2-64 letters, digits, dots, underscores, hyphens
    or @, starting with a letter; stored in lower case)."""
    password = _read_password(True) if password_stdin else None
    user = org.users.add(account, name, email=email, phone=phone, password=password, is_admin=admin)
    for index, department in enumerate(departments):
        org.departments.add_members(department, [user.id], primary=index == 0)
    for role in roles:
        org.roles.assign(role, [user.id])
    click.echo(f"added user #{user.id} {_user_label(user)}")


@users.command("edit")
@click.argument("user")
@click.option("--account", help="A new account (sign-in name).")
@click.option("--name")
@click.option("--email", help='A new email; "" clears it.')
@click.option("--phone", help='A new phone; "" clears it.')
@click.option("--admin/--no-admin", default=None, help="Grant or withdraw administration.")
@with_org
def edit_user(org, user, account, name, email, phone, admin):
    """Change some details of USER (id, account or name); the others are kept."""
    changes = {k: v for k, v in {"account": account, "name": name, "email": email, "phone": phone,
                                 "is_admin": admin}.items() if v is not None}
    if not changes:
        raise click.UsageError("nothing to change: give --account, --name, --email, --phone or --admin/--no-admin")
    edited = org.users.edit(user, **changes)
    click.echo(f"updated user #{edited.id} {_user_label(edited)}")


@users.command("deactivate")
@click.argument("user_refs", metavar="USER...", nargs=-1, required=True)
@with_org
def deactivate_users(org, user_refs):
    """Deactivate users: they cannot sign in; their records and memberships are kept."""
    click.echo(f"deactivated {org.users.deactivate(user_refs)} user(s)")


@users.command("activate")
@click.argument("user_refs", metavar="USER...", nargs=-1, required=True)
@with_org
def activate_users(org, user_refs):
    """Reactivate deactivated users."""
    click.echo(f"activated {org.users.reactivate(user_refs)} user(s)")


@users.command("list")
@click.option("--search", help="Text to look for in account, name, email and phone.")
@click.option("--inactive", "status", flag_value="inactive", help="Only deactivated users.")
@click.option("--all", "status", flag_value="all", help="Active and deactivated users.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--limit", default=PAGE_SIZE, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_org(read_only=True)
def list_users(org, search, status, page, limit, as_json):
    """List users by account, with their primary department."""
    active = {"inactive": False, "all": None}.get(status, True)
    result = org.users.list(search=search, active=active, limit=limit, offset=(page - 1) * limit)
    memberships = org.departments.memberships_of([u.id for u in result.users])
    primary = {uid: next((m.path for m in ms if m.is_primary), "") for uid, ms in memberships.items()}
    if as_json:
        _echo_json({"total": result.total, "page": page,
                    "users": [{**u.as_dict(), "primary_department": primary[u.id] or None} for u in result.users]})
        return
    if result.users:
        _table(["ID", "ACCOUNT", "NAME", "DEPARTMENT", "EMAIL", "PHONE", "STATUS"],
               [[u.id, u.account, u.name, primary[u.id], u.email or "", u.phone or "",
                 ("active" if u.is_active else "inactive") + (", admin" if u.is_admin else "")]
                for u in result.users])
    if len(result.users) == result.total:
        click.echo(f"{result.total} user(s)")
    else:
        last = result.offset + len(result.users)
        more = f"; next: --page {page + 1}" if last < result.total else ""
        click.echo(f"users {result.offset + 1}-{last} of {result.total}{more}" if result.users
                   else f"no users on page {page} of {result.total} user(s)")


@users.command("show")
@click.argument("user")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_org(read_only=True)
def show_user(org, user, as_json):
    """Show a user with their departments, roles and managers."""
    found = org.users.get(user)
    memberships = org.departments.memberships(found)
    roles = org.roles.roles_of(found)
    managers = org.departments.manager_chain(found)
    if as_json:
        _echo_json({**found.as_dict(), "departments": [{"id": m.department.id, "path": m.path,
                                                        "primary": m.is_primary} for m in memberships],
                    "roles": [r.key for r in roles], "managers": [m.account for m in managers]})
        return
    click.echo(f"#{found.id} {_user_label(found)}{'' if found.is_active else ' [deactivated]'}"
               f"{' [admin]' if found.is_admin else ''}")
    click.echo(f"  email:       {found.email or '-'}")
    click.echo(f"  phone:       {found.phone or '-'}")
    click.echo("  departments: " + (", ".join(m.path + (" (primary)" if m.is_primary else "")
                                              for m in memberships) or "-"))
    click.echo("  roles:       " + (", ".join(f"{r.name} ({r.key})" for r in roles) or "-"))
    click.echo("  managers:    " + (" > ".join(_user_label(m) for m in managers) or "-"))


@users.command("set-password")
@click.argument("user")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin "
                                                     "(for scripts); otherwise it is asked for twice.")
@with_org
def set_password(org, user, password_stdin):
    """Set USER's password (at least 8 characters; stored as a salted scrypt hash)."""
    found = org.users.get(user)
    org.users.set_password(found, _read_password(password_stdin))
    click.echo(f"password set for {_user_label(found)}")


# ---- departments -------------------------------------------------------------------------
@click.group()
def departments() -> None:
    """Build the department tree: add, rename, move, delete, heads and members."""


@departments.command("add")
@click.argument("name")
@click.option("--parent", help="The parent department (path or id); default: a new top-level department.")
@click.option("--head", help="The head (负责人): a user's account, name or id.")
@with_org
def add_department(org, name, parent, head):
    """Add a department NAME, or give a path: `add 总部/销售部/华东组` adds 华东组 under 总部/销售部."""
    name = name.strip().strip("/")
    if "/" in name:
        if parent:
            raise click.UsageError("give either a path as NAME or --parent, not both")
        parent, name = name.rsplit("/", 1)
    dept = org.departments.create(name, parent, head=head)
    click.echo(f"added department #{dept.id} {org.departments.path(dept)}")


@departments.command("rename")
@click.argument("department")
@click.argument("new_name")
@with_org
def rename_department(org, department, new_name):
    """Give DEPARTMENT a new name (its members and sub-departments stay)."""
    dept = org.departments.rename(department, new_name)
    click.echo(f"renamed to {org.departments.path(dept)}")


@departments.command("move")
@click.argument("department")
@click.argument("new_parent", required=False)
@click.option("--root", is_flag=True, help="Make it a top-level department.")
@click.option("--position", type=click.IntRange(min=0), help="Place among its new siblings (0 = first).")
@with_org
def move_department(org, department, new_parent, root, position):
    """Move DEPARTMENT, with everything below it, under NEW_PARENT (or --root)."""
    if bool(new_parent) == root:
        raise click.UsageError("give the new parent department, or --root (not both)")
    dept = org.departments.move(department, None if root else new_parent, position=position)
    click.echo(f"moved to {org.departments.path(dept)}")


@departments.command("delete")
@click.argument("department")
@with_org
def delete_department(org, department):
    """Delete an empty DEPARTMENT (move or remove its sub-departments and members first)."""
    path = org.departments.path(department)
    org.departments.delete(department)
    click.echo(f"deleted department {path}")


@departments.command("head")
@click.argument("department")
@click.argument("user", required=False)
@click.option("--clear", is_flag=True, help="Leave the department without a head.")
@with_org
def department_head(org, department, user, clear):
    """Show DEPARTMENT's head, or make USER its head (they join it if needed), or --clear."""
    if user and clear:
        raise click.UsageError("give a USER or --clear, not both")
    if clear:
        org.departments.clear_head(department)
    elif user:
        org.departments.set_head(department, user)
    head = org.departments.head_of(department)
    click.echo(f"{org.departments.path(department)}: head {_user_label(head) if head else '(none)'}")


@departments.group("members")
def members() -> None:
    """Add, remove and list the members of a department."""


@members.command("add")
@click.argument("department")
@click.argument("user_refs", metavar="USER...", nargs=-1, required=True)
@click.option("--primary", is_flag=True, help="Make it these users' primary department.")
@with_org
def add_members(org, department, user_refs, primary):
    """Add users to DEPARTMENT (a user's first department becomes their primary one)."""
    added = org.departments.add_members(department, user_refs, primary=primary)
    already = len(org.users.ids(user_refs)) - added
    click.echo(f"{org.departments.path(department)}: {added} member(s) added"
               + (f", {already} already there" if already else ""))


@members.command("remove")
@click.argument("department")
@click.argument("user_refs", metavar="USER...", nargs=-1, required=True)
@with_org
def remove_members(org, department, user_refs):
    """Remove users from DEPARTMENT (a head who leaves stops being its head)."""
    removed = org.departments.remove_members(department, user_refs)
    click.echo(f"{org.departments.path(department)}: {removed} member(s) removed")


@members.command("list")
@click.argument("department")
@click.option("--recursive", is_flag=True, help="Include the members of every department below it.")
@click.option("--all", "include_inactive", is_flag=True, help="Include deactivated users.")
@with_org(read_only=True)
def list_members(org, department, recursive, include_inactive):
    """List the members of DEPARTMENT."""
    found = org.departments.members(department, recursive=recursive, active_only=not include_inactive)
    head_id = org.departments.get(department).head_user_id
    for user in found:
        click.echo(f"#{user.id:<5} {_user_label(user)}{' [head]' if user.id == head_id else ''}"
                   f"{'' if user.is_active else ' [deactivated]'}")
    click.echo(f"{len(found)} member(s) in {org.departments.path(department)}{' and below' if recursive else ''}")


@departments.command("tree")
@click.argument("department", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_org(read_only=True)
def department_tree(org, department, as_json):
    """Print the department tree (or the part under DEPARTMENT) with heads and member counts."""
    roots = org.departments.tree(department)
    if as_json:
        _echo_json([root.as_dict() for root in roots])
        return
    if not roots:
        click.echo("no departments yet; add one with `formwork departments add NAME`")
    for root in roots:
        _print_node(root, "", "")


def _print_node(node: DepartmentNode, lead: str, child_lead: str) -> None:
    details = [f"head {_user_label(node.head)}"] if node.head else []
    details.append(f"{node.member_count} member{'s' if node.member_count != 1 else ''}")
    click.echo(f"{lead}{node.department.name} (#{node.department.id}): {', '.join(details)}")
    for index, child in enumerate(node.children):
        last = index == len(node.children) - 1
        _print_node(child, child_lead + ("└─ " if last else "├─ "), child_lead + ("   " if last else "│  "))


# ---- roles ---------------------------------------------------------------------------------
@click.group()
def roles() -> None:
    """Roles: groups of users across departments (销售经理, 财务...)."""


@roles.command("add")
@click.argument("key")
@click.option("--name", required=True, help="Display name, e.g. 销售经理.")
@click.option("--description")
@with_org
def add_role(org, key, name, description):
    """Add a role with KEY (snake_case, e.g. sales_manager)."""
    role = org.roles.create(key, name, description)
    click.echo(f"added role #{role.id} {role.key} ({role.name})")


@roles.command("rename")
@click.argument("role")
@click.argument("new_name")
@click.option("--description", help='A new description; "" clears it.')
@with_org
def rename_role(org, role, new_name, description):
    """Give ROLE a new display name (its key never changes)."""
    kwargs = {} if description is None else {"description": description}
    renamed = org.roles.rename(role, new_name, **kwargs)
    click.echo(f"renamed role {renamed.key} to {renamed.name}")


@roles.command("delete")
@click.argument("role")
@click.option("--force", is_flag=True, help="Delete it even though users still have it.")
@with_org
def delete_role(org, role, force):
    """Delete ROLE (refused while users have it, unless --force)."""
    found = org.roles.get(role)
    org.roles.delete(found, force=force)
    click.echo(f"deleted role {found.key}")


@roles.command("assign")
@click.argument("role")
@click.argument("user_refs", metavar="USER...", nargs=-1, required=True)
@with_org
def assign_role(org, role, user_refs):
    """Give ROLE to users."""
    found = org.roles.get(role)
    added = org.roles.assign(found, user_refs)
    already = len(org.users.ids(user_refs)) - added
    click.echo(f"{found.key}: assigned to {added} user(s)" + (f", {already} already had it" if already else ""))


@roles.command("unassign")
@click.argument("role")
@click.argument("user_refs", metavar="USER...", nargs=-1, required=True)
@with_org
def unassign_role(org, role, user_refs):
    """Take ROLE away from users."""
    found = org.roles.get(role)
    click.echo(f"{found.key}: removed from {org.roles.unassign(found, user_refs)} user(s)")


@roles.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_org(read_only=True)
def list_roles(org, as_json):
    """List roles with their number of active members."""
    found = org.roles.list()
    if as_json:
        _echo_json([{**role.as_dict(), "members": count} for role, count in found])
        return
    if found:
        _table(["ID", "KEY", "NAME", "MEMBERS", "DESCRIPTION"],
               [[r.id, r.key, r.name, count, r.description or ""] for r, count in found])
    click.echo(f"{len(found)} role(s)")


@roles.command("members")
@click.argument("role")
@click.option("--all", "include_inactive", is_flag=True, help="Include deactivated users.")
@with_org(read_only=True)
def role_members(org, role, include_inactive):
    """List the users who have ROLE."""
    found = org.roles.get(role)
    people = org.roles.members(found, active_only=not include_inactive)
    for user in people:
        click.echo(f"#{user.id:<5} {_user_label(user)}{'' if user.is_active else ' [deactivated]'}")
    click.echo(f"{len(people)} user(s) have {found.key}")


COMMANDS = [users, departments, roles]
