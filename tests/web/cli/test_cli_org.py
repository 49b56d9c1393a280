"""`formwork users / departments / roles` end to end, on SQLite and PostgreSQL."""
import io
import json

from click.testing import CliRunner

from runtime.org import Org
from web.cli import cli, main


def run(capsys, url, *args) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_an_org_built_from_the_command_line(db, db_url, capsys):
    ok = lambda *args: run(capsys, db_url, *args)   # noqa: E731
    assert ok("users", "add", "li.lei", "--name", "李雷", "--email", "li.lei@example.com") == \
        (0, "added user #1 李雷 (li.lei)\n", "")
    ok("users", "add", "han.meimei", "--name", "韩梅梅", "--phone", "139 0000 1111")
    ok("users", "add", "lucy", "--name", "露西")
    assert ok("departments", "add", "总部", "--head", "li.lei")[1] == "added department #1 总部\n"
    ok("departments", "add", "总部/销售部")
    assert ok("departments", "add", "华东组", "--parent", "销售部", "--head", "韩梅梅")[1] == \
        "added department #3 总部/销售部/华东组\n"
    ok("departments", "add", "总部/客户成功部")
    assert ok("departments", "members", "add", "华东组", "lucy", "han.meimei")[1] == \
        "总部/销售部/华东组: 1 member(s) added, 1 already there\n"
    assert ok("departments", "tree")[1] == (
        "总部 (#1): head 李雷 (li.lei), 1 member\n"
        "├─ 销售部 (#2): 0 members\n"
        "│  └─ 华东组 (#3): head 韩梅梅 (han.meimei), 2 members\n"
        "└─ 客户成功部 (#4): 0 members\n")
    assert ok("departments", "move", "华东组", "客户成功部", "--position", "0")[1] == "moved to 总部/客户成功部/华东组\n"
    assert ok("departments", "rename", "3", "华东服务组")[1] == "renamed to 总部/客户成功部/华东服务组\n"
    assert ok("departments", "delete", "销售部")[1] == "deleted department 总部/销售部\n"
    assert ok("roles", "add", "sales_manager", "--name", "销售经理")[1] == "added role #1 sales_manager (销售经理)\n"
    assert ok("roles", "assign", "销售经理", "lucy", "#2")[1] == "sales_manager: assigned to 2 user(s)\n"
    code, shown, _ = ok("users", "show", "lucy")
    assert code == 0 and shown.splitlines()[3:] == [
        "  departments: 总部/客户成功部/华东服务组 (primary)", "  roles:       销售经理 (sales_manager)",
        "  managers:    韩梅梅 (han.meimei) > 李雷 (li.lei)"]
    listed = ok("users", "list", "--search", "1390000")[1].splitlines()
    assert listed[0].split() == ["ID", "ACCOUNT", "NAME", "DEPARTMENT", "EMAIL", "PHONE", "STATUS"]
    assert listed[1].split() == ["2", "han.meimei", "韩梅梅", "总部/客户成功部/华东服务组", "13900001111", "active"]
    assert listed[2] == "1 user(s)"
    with db.connect() as conn:   # what the commands did is what the service sees
        org = Org(conn)
        assert org.departments.manager_of("lucy").account == "han.meimei"
        assert [u.account for u in org.roles.members("sales_manager")] == ["han.meimei", "lucy"]


def test_json_output_and_paging(db, db_url, capsys):
    run(capsys, db_url, "departments", "add", "总部")
    for i in range(5):
        run(capsys, db_url, "users", "add", f"user{i}", "--name", f"用户{i}", "--department", "总部",
            *(["--admin"] if i == 0 else []))
    page = json.loads(run(capsys, db_url, "users", "list", "--json", "--limit", "2", "--page", "3")[1])
    assert page["total"] == 5 and [u["account"] for u in page["users"]] == ["user4"]
    assert page["users"][0]["primary_department"] == "总部" and "password_hash" not in page["users"][0]
    text = run(capsys, db_url, "users", "list", "--limit", "2")[1]
    assert text.endswith("users 1-2 of 5; next: --page 2\n") and "active, admin" in text
    tree = json.loads(run(capsys, db_url, "departments", "tree", "--json")[1])
    assert tree[0]["path"] == "总部" and tree[0]["member_count"] == 5
    shown = json.loads(run(capsys, db_url, "users", "show", "user0", "--json")[1])
    assert shown["is_admin"] and shown["departments"] == [{"id": 1, "path": "总部", "primary": True}]
    run(capsys, db_url, "roles", "add", "auditor", "--name", "审计", "--description", "只读")
    assert json.loads(run(capsys, db_url, "roles", "list", "--json")[1]) == [
        {"id": 1, "key": "auditor", "name": "审计", "description": "只读", "members": 0}]


def test_errors_are_clear_exit_non_zero_and_change_nothing(db, db_url, capsys):
    run(capsys, db_url, "users", "add", "li.lei", "--name", "李雷")
    run(capsys, db_url, "departments", "add", "总部")
    run(capsys, db_url, "departments", "add", "总部/销售部")
    code, out, err = run(capsys, db_url, "users", "add", "9lives", "--name", "", "--email", "a@b", "--phone", "123")
    assert code == 1 and out == "" and err.splitlines() == [
        "error: ACCOUNT: The account '9lives' is invalid: use 2-64 characters, starting with a letter, "
        "made of letters, digits and . _ - @",
        "error: --name: This field is required",
        "error: --email: 'a@b' is not a valid email address",
        f"error: --phone: {err.splitlines()[3].split(': ', 2)[2]}"]
    assert "'123' is not a valid phone number" in err
    assert run(capsys, db_url, "users", "add", "LI.LEI", "--name", "x")[2] == \
        "error: ACCOUNT: The account 'li.lei' is already taken\n"
    # the department does not exist: the new user is not kept either (one transaction)
    code, _, err = run(capsys, db_url, "users", "add", "han", "--name", "韩", "--department", "总部/销售")
    assert code == 2 and err == "error: No department '总部/销售' (did you mean '总部/销售部'?)\n"
    assert run(capsys, db_url, "users", "show", "han")[0] == 2
    assert run(capsys, db_url, "roles", "assign", "nobody", "li.lei")[2] == "error: No role 'nobody'\n"
    assert run(capsys, db_url, "departments", "members", "add", "总部", "li.le")[2] == \
        "error: No user 'li.le' (did you mean 'li.lei'?)\n"
    code, _, err = run(capsys, db_url, "departments", "move", "总部", "销售部")
    assert code == 2 and "Cannot move '总部' under '总部/销售部'" in err
    code, _, err = run(capsys, db_url, "departments", "delete", "总部")
    assert code == 2 and "still has 1 sub-department(s) and 0 member(s); move or remove them first" in err
    assert run(capsys, db_url, "departments", "add", "总部/销售部", "--parent", "总部")[0] == 2
    code, _, err = run(capsys, db_url, "departments", "move", "销售部")
    assert code == 2 and "give the new parent department, or --root" in err
    code, _, err = run(capsys, db_url, "users", "edit", "li.lei")
    assert code == 2 and "nothing to change" in err
    code, _, err = run(capsys, db_url, "departments", "add", "a\u202egnp.exe")
    assert code == 1 and "cannot contain line breaks, tabs or other control characters" in err
    assert run(capsys, db_url, "departments", "tree")[1] == "总部 (#1): 0 members\n└─ 销售部 (#2): 0 members\n"


def test_passwords_from_stdin_or_a_prompt(db, db_url, capsys, monkeypatch):
    run(capsys, db_url, "users", "add", "li.lei", "--name", "李雷")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(capsys, db_url, "users", "set-password", "li.lei", "--password-stdin")
    assert code == 1 and "error: password: A password has at least 8 characters" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("first secret\n"))
    assert run(capsys, db_url, "users", "set-password", "li.lei", "--password-stdin")[1] == \
        "password set for 李雷 (li.lei)\n"
    prompted = CliRunner().invoke(cli, ["--database-url", db_url, "users", "set-password", "李雷"],
                                  input="second secret\nsecond secret\n")
    assert prompted.exit_code == 0 and "password set for 李雷 (li.lei)" in prompted.output
    monkeypatch.setattr("sys.stdin", io.StringIO("third secret\n"))
    assert run(capsys, db_url, "users", "add", "han", "--name", "韩", "--password-stdin")[0] == 0
    with db.connect() as conn:
        users = Org(conn).users
        assert users.check_password("li.lei", "second secret") and not users.check_password("li.lei", "first secret")
        assert users.check_password("han", "third secret")


def test_roles_and_members_commands(db, db_url, capsys):
    for account in ("ann", "ben"):
        run(capsys, db_url, "users", "add", account, "--name", account.title())
    run(capsys, db_url, "roles", "add", "finance", "--name", "财务")
    run(capsys, db_url, "users", "add", "cat", "--name", "Cat", "--role", "finance")
    assert run(capsys, db_url, "roles", "assign", "finance", "ann", "cat")[1] == \
        "finance: assigned to 1 user(s), 1 already had it\n"
    assert run(capsys, db_url, "roles", "members", "财务")[1] == "#1     Ann (ann)\n#3     Cat (cat)\n2 user(s) have finance\n"
    code, _, err = run(capsys, db_url, "roles", "delete", "finance")
    assert code == 2 and "still has 2 member(s)" in err
    assert run(capsys, db_url, "roles", "unassign", "finance", "ann")[1] == "finance: removed from 1 user(s)\n"
    assert run(capsys, db_url, "roles", "rename", "finance", "财务部", "--description", "报销审批")[0] == 0
    assert run(capsys, db_url, "roles", "list")[1].splitlines()[1].split() == ["1", "finance", "财务部", "1", "报销审批"]
    assert run(capsys, db_url, "roles", "delete", "finance", "--force")[1] == "deleted role finance\n"
    run(capsys, db_url, "departments", "add", "总部")
    run(capsys, db_url, "departments", "members", "add", "总部", "ann", "ben")
    assert run(capsys, db_url, "departments", "head", "总部", "ben")[1] == "总部: head Ben (ben)\n"
    assert run(capsys, db_url, "users", "deactivate", "ann", "cat")[1] == "deactivated 2 user(s)\n"
    assert run(capsys, db_url, "departments", "members", "list", "总部")[1] == \
        "#2     Ben (ben) [head]\n1 member(s) in 总部\n"
    assert run(capsys, db_url, "departments", "members", "list", "总部", "--all")[1].startswith(
        "#1     Ann (ann) [deactivated]\n")
    assert run(capsys, db_url, "departments", "members", "remove", "总部", "ben")[1] == "总部: 1 member(s) removed\n"
    assert run(capsys, db_url, "departments", "head", "总部")[1] == "总部: head (none)\n"
    assert run(capsys, db_url, "users", "activate", "ann")[1] == "activated 1 user(s)\n"
