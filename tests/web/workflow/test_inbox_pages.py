"""The task inbox, acting from the record page, the notification list and the top bar's
counts, with Flask's test client on SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest

from runtime.notifications.inbox import insert_notification, list_notifications
from tests.support.web import post_form, sign_in
from tests.support.workflow_web import APP, FORM, submit, workflow_world

RECORD = f"/apps/{APP}/forms/{FORM}/records"


@pytest.fixture
def world(db):
    built = workflow_world(db)
    yield built
    built.app.extensions["formwork"].engine.dispose()


def signed_in(world, account):
    client = world.app.test_client()
    assert sign_in(client, account).status_code == 302
    return client


def page(client, path):
    answer = client.get(path, headers={"Accept": "text/html"})
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def test_the_inbox_lists_the_pending_task_linking_to_its_record(world):
    record_id = submit(world.engine)
    html = page(signed_in(world, "fay"), "/tasks")
    assert f'href="{RECORD}/{record_id}"' in html
    assert "财务审批" in html and "待办" in html
    assert re.search(r'data-count="tasks">1<', html)


def test_each_box_shows_its_own_rows(world):
    record_id = submit(world.engine)
    ann = signed_in(world, "ann")
    assert f'{RECORD}/{record_id}"' in page(ann, "/tasks?box=started")
    assert f'{RECORD}/{record_id}"' not in page(ann, "/tasks")
    assert "这里还没有内容" in page(signed_in(world, "dan"), "/tasks?box=cc")
    assert ann.get("/tasks?box=later", headers={"Accept": "text/html"}).status_code == 404


def test_approving_from_the_record_page_changes_the_status(world):
    record_id = submit(world.engine)
    fay = signed_in(world, "fay")
    html = page(fay, f"{RECORD}/{record_id}")
    assert 'data-workflow-status="running"' in html and 'aria-current="step"' in html
    task_id = re.search(r'data-task="(\d+)"', html).group(1)
    done = post_form(fay, f"{RECORD}/{record_id}/tasks/{task_id}/approve", {"comment": "同意报销"})
    assert done.status_code == 303
    html = page(fay, f"{RECORD}/{record_id}")
    assert 'data-workflow-status="approved"' in html
    assert "同意报销" in html and "已同意" in html
    assert 'class="stack task-form"' not in html
    assert "同意报销" in page(fay, "/tasks?box=done")
    assert f'{RECORD}/{record_id}"' in page(signed_in(world, "dan"), "/tasks?box=cc")


def test_the_second_approver_is_told_the_task_is_over(world):
    record_id = submit(world.engine)
    fred = signed_in(world, "fred")
    fred_task = re.search(r'data-task="(\d+)"', page(fred, f"{RECORD}/{record_id}")).group(1)
    fay = signed_in(world, "fay")
    fay_task = re.search(r'data-task="(\d+)"', page(fay, f"{RECORD}/{record_id}")).group(1)
    post_form(fay, f"{RECORD}/{record_id}/tasks/{fay_task}/approve")
    late = post_form(fred, f"{RECORD}/{record_id}/tasks/{fred_task}/reject", {"comment": "不行"})
    assert late.status_code == 409                  # the page again, with what happened
    html = late.get_data(as_text=True)
    assert "已结束" in html and 'data-workflow-status="approved"' in html


def test_someone_elses_task_is_refused_on_the_page(world):
    record_id = submit(world.engine)
    fay = signed_in(world, "fay")
    task_id = re.search(r'data-task="(\d+)"', page(fay, f"{RECORD}/{record_id}")).group(1)
    bob = signed_in(world, "bob")
    assert 'class="stack task-form"' not in page(bob, f"{RECORD}/{record_id}")
    refused = post_form(bob, f"{RECORD}/{record_id}/tasks/{task_id}/approve")
    assert refused.status_code == 403 and "不是分配给你的" in refused.get_data(as_text=True)
    assert 'data-workflow-status="running"' in page(fay, f"{RECORD}/{record_id}")


def test_an_action_without_the_csrf_token_is_refused(world):
    record_id = submit(world.engine)
    fay = signed_in(world, "fay")
    task_id = re.search(r'data-task="(\d+)"', page(fay, f"{RECORD}/{record_id}")).group(1)
    assert fay.post(f"{RECORD}/{record_id}/tasks/{task_id}/approve").status_code == 400


def test_notifications_unread_count_mark_read_and_mark_all(world):
    with world.engine.begin() as conn:
        for n in range(3):
            insert_notification(conn, user_id=world.people["fay"], kind="test", title=f"提醒 {n}", body="请处理",
                                link="/tasks", key=f"test-{n}")
        first = list_notifications(conn, world.people["fay"])["items"][0]["id"]
    fay = signed_in(world, "fay")
    html = page(fay, "/notifications")
    assert 'data-unread="3"' in html and re.search(r'data-count="notifications">3<', html)
    post_form(fay, "/notifications/read", {"id": str(first)})
    assert 'data-unread="2"' in page(fay, "/notifications")
    post_form(fay, "/notifications/read-all")
    html = page(fay, "/notifications")
    assert 'data-unread="0"' in html and 'data-count="notifications"' not in html
    assert 'data-unread="0"' in page(signed_in(world, "bob"), "/notifications")


def test_the_pages_speak_english_when_asked(world):
    submit(world.engine)
    fay = signed_in(world, "fay")
    post_form(fay, "/lang", {"lang": "en", "next": "/tasks"})
    html = page(fay, "/tasks")
    assert "To do" in html and "Started by me" in html and "CC to me" in html


def test_the_inbox_and_the_record_panel_do_not_query_per_row(world, count_statements):
    engine = world.app.extensions["formwork"].engine
    fay = signed_in(world, "fay")
    first = submit(world.engine, "一")
    counts = []
    for more in (0, 4):
        for n in range(more):
            submit(world.engine, f"多 {n}")
        with count_statements(engine) as counter:
            html = page(fay, "/tasks")
        assert html.count('class="card task-item"') == 1 + more
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    with count_statements(engine) as counter:
        page(fay, f"{RECORD}/{first}")
    assert counter.count < 40, counter.statements
