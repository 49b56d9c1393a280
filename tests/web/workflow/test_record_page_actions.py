"""Every workflow action from the record page, with Flask's test client on SQLite and
PostgreSQL: the page shows what the runtime offers each person (and nothing else), each
action posts to the one act view and comes back with a message; a refusal (a task done
by someone else, not allowed, a required field empty, an unknown or inactive member, a
missing signature) shows the page again with the message and everything typed; the
inbox shows record titles, pages by keyset and costs the same statements per page."""
from __future__ import annotations

import io
import re

import pytest

from runtime.org import Org
from tests.support.web import csrf_from, post_form, sign_in
from tests.support.workflow_web import APP, FORM, submit, workflow_world

RECORD = f"/apps/{APP}/forms/{FORM}/records"
NODES = [
    {"key": "submit", "type": "start", "next": "lead"},
    {"key": "lead", "type": "approve", "label": {"zh": "主管审批", "en": "Lead"}, "approvers": [{"users": ["bob"]}],
     "fields": {"note": "editable", "status": "required", "secret": "hidden"}, "next": "finance"},
    {"key": "finance", "type": "approve", "label": {"zh": "财务审批", "en": "Finance"},
     "approvers": [{"role": "finance"}], "mode": "any", "signature": True, "next": "done"},
    {"key": "done", "type": "end"},
]
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def world(db):
    built = workflow_world(db, NODES)
    yield built
    built.app.extensions["formwork"].engine.dispose()


def client_of(world, account):
    client = world.app.test_client()
    assert sign_in(client, account).status_code == 302
    return client


def html_of(client, path):
    answer = client.get(path, headers={"Accept": "text/html"})
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def offers(html):
    """{task id or 'instance': the actions offered} from the page."""
    return {m.group(1): m.group(2).split() for m in re.finditer(r'data-offer="(\w+)"[^>]*data-actions="([^"]*)"', html)}


def task_of(html, action="approve"):
    return re.search(rf'/tasks/(\d+)/{action}"', html).group(1)


def act(client, record_id, task, action, data=None):
    return post_form(client, f"{RECORD}/{record_id}/tasks/{task}/{action}", data or {})


def text(answer):
    return answer.get_data(as_text=True)


def test_each_person_sees_only_what_the_runtime_offers_them(world):
    rid = submit(world.engine)
    bob = html_of(client_of(world, "bob"), f"{RECORD}/{rid}")
    [(task, actions)] = [(k, v) for k, v in offers(bob).items() if k != "instance"]
    assert actions == ["approve", "reject", "return", "transfer", "add_before", "add_after"]
    for action in actions:
        assert f'/tasks/{task}/{action}"' in bob
    assert "/reassign\"" not in bob and "/end\"" not in bob and "/withdraw\"" not in bob
    assert 'name="status"' in bob and 'name="note"' in bob and 'name="secret"' not in bob   # the node's fields
    assert 'name="signature"' not in bob                                                   # lead signs nothing
    ann = html_of(client_of(world, "ann"), f"{RECORD}/{rid}")
    assert offers(ann) == {"instance": ["withdraw", "urge"]} and 'class="stack task-form"' not in ann
    root = html_of(client_of(world, "root"), f"{RECORD}/{rid}")
    assert offers(root) == {task: ["reassign"], "instance": ["end"]} and "Bob 的任务" in root
    assert offers(html_of(client_of(world, "dan"), f"{RECORD}/{rid}")) == {}


def test_a_required_field_left_empty_keeps_what_was_typed_then_approving_saves_it(world):
    rid = submit(world.engine)
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    refused = act(bob, rid, task, "approve", {"_fields": ["note", "status"], "note": "已核对发票", "status": "",
                                             "comment": "先看看"})
    assert refused.status_code == 422
    page = text(refused)
    assert "请先填写必填字段：状态（status）" in page
    assert "已核对发票" in page and ">先看看</textarea>" in page                  # nothing typed is lost
    done = act(bob, rid, task, "approve", {"_fields": ["note", "status"], "note": "已核对发票", "status": "ok",
                                          "comment": "同意"})
    assert done.status_code == 303
    page = html_of(bob, f"{RECORD}/{rid}")
    assert "已同意。" in page and "已核对发票" in page and "同意" in page
    assert 'data-node="finance" aria-current="step"' in page


def test_a_field_the_node_does_not_open_is_refused(world):
    rid = submit(world.engine)
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    refused = act(bob, rid, task, "approve", {"_fields": ["amount"], "amount": "1", "comment": "改金额"})
    assert refused.status_code == 403 and "不能修改字段“amount”" in text(refused)
    assert ">改金额</textarea>" in text(refused)


def _to_finance(world, rid):
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    assert act(bob, rid, task, "approve", {"_fields": ["status"], "status": "ok"}).status_code == 303
    return bob


def test_the_signature_is_asked_for_and_an_uploaded_one_is_accepted(world):
    rid = submit(world.engine)
    _to_finance(world, rid)
    fay = client_of(world, "fay")
    page = html_of(fay, f"{RECORD}/{rid}")
    assert 'data-widget="signature"' in page and 'name="signature"' in page
    task = task_of(page)
    refused = act(fay, rid, task, "approve", {"comment": "签字前"})
    assert refused.status_code == 422 and "要求签名" in text(refused) and ">签字前</textarea>" in text(refused)
    uploaded = fay.post("/api/v1/files", data={"file": (io.BytesIO(PNG), "signature.png", "image/png")},
                        headers={"X-CSRF-Token": csrf_from(fay, "/")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.data
    done = act(fay, rid, task, "approve", {"signature": str(uploaded.get_json()["id"]), "comment": "已签"})
    assert done.status_code == 303
    assert 'data-workflow-status="approved"' in html_of(fay, f"{RECORD}/{rid}")


def test_return_to_the_submitter_who_resubmits(world):
    rid = submit(world.engine)
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    page = html_of(bob, f"{RECORD}/{rid}")
    assert '<option value="submitter"' in page and "提交人" in page
    assert act(bob, rid, task, "return", {"to": "submitter", "comment": "请补充发票"}).status_code == 303
    assert "已退回" in html_of(bob, f"{RECORD}/{rid}")
    ann = client_of(world, "ann")
    page = html_of(ann, f"{RECORD}/{rid}")
    assert "请补充发票" in page and "重新提交" in page
    resubmit = task_of(page)
    assert [a for k, a in offers(page).items() if k != "instance"] == [["approve"]]
    assert act(ann, rid, resubmit, "approve", {"kind": "resubmit", "comment": "已补充"}).status_code == 303
    assert "已重新提交" in html_of(ann, f"{RECORD}/{rid}")
    assert task_of(html_of(bob, f"{RECORD}/{rid}")) != task                  # bob has it again


def test_return_with_come_back_to_me_skips_the_steps_between(world):
    rid = submit(world.engine)
    _to_finance(world, rid)
    fay = client_of(world, "fay")
    page = html_of(fay, f"{RECORD}/{rid}")
    assert '<option value="lead" selected>主管审批</option>' in page and 'name="back"' in page
    assert act(fay, rid, task_of(page), "return", {"to": "lead", "back": "1", "comment": "主管再看"}).status_code == 303
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    assert act(bob, rid, task, "approve", {"_fields": ["status"], "status": "ok"}).status_code == 303
    page = html_of(fay, f"{RECORD}/{rid}")
    assert 'data-node="finance" aria-current="step"' in page


def test_transfer_by_member_id_and_the_refused_members(world):
    rid = submit(world.engine)
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    for user, words, status in (("", "需要指定一个人", 422), ("999999", "找不到成员 #999999", 422),
                                ("dna", "找不到账号“dna”", 422)):
        refused = act(bob, rid, task, "transfer", {"user": user, "comment": "请你处理"})
        assert refused.status_code == status and words in text(refused), user
        assert ">请你处理</textarea>" in text(refused) and 'data-group="transfer" open' in text(refused)
    with world.engine.begin() as conn:
        Org(conn).users.deactivate(["carl"])
    refused = act(bob, rid, task, "transfer", {"user": str(world.people["carl"])})
    assert refused.status_code == 422 and "已停用" in text(refused)
    assert act(bob, rid, task, "transfer", {"user": str(world.people["dan"])}).status_code == 303
    assert "已转交" in html_of(bob, f"{RECORD}/{rid}")
    assert offers(html_of(client_of(world, "dan"), f"{RECORD}/{rid}"))


def test_add_a_signer_before_and_after(world):
    rid = submit(world.engine)
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    assert act(bob, rid, task, "add_before", {"user": str(world.people["dan"])}).status_code == 303
    assert "先由其审批" in html_of(bob, f"{RECORD}/{rid}")
    dan = client_of(world, "dan")
    dan_task = task_of(html_of(dan, f"{RECORD}/{rid}"))
    assert act(dan, rid, dan_task, "add_after", {"user": str(world.people["carl"])}).status_code == 303
    assert "你同意后由其审批" in html_of(dan, f"{RECORD}/{rid}")


def test_an_admin_reassigns_and_ends_and_others_may_not(world):
    rid = submit(world.engine)
    bob = client_of(world, "bob")
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    refused = act(bob, rid, task, "reassign", {"user": str(world.people["dan"])})
    assert refused.status_code == 403 and "只有管理员" in text(refused)
    root = client_of(world, "root")
    assert act(root, rid, task, "reassign", {"user": str(world.people["dan"]), "comment": "bob 休假"}).status_code == 303
    assert "已改派" in html_of(root, f"{RECORD}/{rid}")
    stale = act(bob, rid, task, "approve", {"_fields": ["status"], "status": "ok", "comment": "我来批"})
    assert stale.status_code == 409 and "已经被处理" in text(stale)         # done by someone else meanwhile
    page = html_of(root, f"{RECORD}/{rid}")
    assert act(root, rid, task_of(page, "end"), "end", {"comment": "作废"}).status_code == 303
    assert 'data-workflow-status="ended"' in html_of(root, f"{RECORD}/{rid}")


def test_the_submitter_urges_then_withdraws(world):
    rid = submit(world.engine)
    ann = client_of(world, "ann")
    page = html_of(ann, f"{RECORD}/{rid}")
    assert act(ann, rid, task_of(page, "urge"), "urge", {"comment": "请尽快"}).status_code == 303
    assert "已催办审批人" in html_of(ann, f"{RECORD}/{rid}")
    assert act(ann, rid, task_of(page, "withdraw"), "withdraw").status_code == 303
    page = html_of(ann, f"{RECORD}/{rid}")
    assert "已撤回" in page and 'data-workflow-status="withdrawn"' in page and offers(page) == {}
    assert post_form(ann, f"{RECORD}/{rid}/tasks/1/fly").status_code == 404


def test_english_messages(world):
    rid = submit(world.engine)
    bob = client_of(world, "bob")
    post_form(bob, "/lang", {"lang": "en", "next": "/tasks"})
    task = task_of(html_of(bob, f"{RECORD}/{rid}"))
    refused = act(bob, rid, task, "transfer", {"user": "999999"})
    assert "there is no member #999999" in text(refused) and "More actions" in text(refused)


def test_the_inbox_shows_titles_and_pages_by_keyset(world, count_statements):
    engine = world.app.extensions["formwork"].engine
    bob = client_of(world, "bob")
    counts = []
    for n in range(25):
        submit(world.engine, f"差旅报销 {n:02d}")
        if n in (0, 24):
            with count_statements(engine) as counter:
                html_of(bob, "/tasks")
            counts.append(counter.count)
    assert counts[0] == counts[1], counts                 # titles: one statement for the page
    first = html_of(bob, "/tasks")
    assert first.count('class="card task-item"') == 20 and "差旅报销 24" in first and "差旅报销 05" in first
    more = re.search(r'data-next href="([^"]+)"', first).group(1).replace("&amp;", "&")
    with count_statements(engine) as counter:
        second = html_of(bob, more)
    [inbox] = [s for s in counter.statements if "ORDER BY fw_workflow_tasks.created_at DESC" in s]
    assert "fw_workflow_tasks.created_at <" in inbox          # the keyset, from where the first page ended
    assert second.count('class="card task-item"') == 5 and "差旅报销 04" in second and "差旅报销 05" not in second
    assert "data-next" not in second
    assert bob.get("/tasks?cursor=garbage", headers={"Accept": "text/html"}).status_code in (400, 422)
