"""Notifications: the in-app list (unread count, mark read, mark all read), preferences per
kind, e-mail against a local aiosmtpd server, the DingTalk / WeCom / Feishu robot formats
against a local HTTP server, and templates that cannot reach Python internals."""
from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from jinja2.exceptions import SecurityError

from engine.automations.templates import render
from runtime.notifications import (
    list_notifications, mark_all_read, mark_read, notify, set_preference, unread_count,
)
from runtime.notifications.robots import robot_message
from runtime.session import Session
from tests.support.automations import jobs_of
from tests.support.http_receiver import Receiver


def _users(db, *accounts):
    with Session(db).write() as uow:
        return [uow.org.users.add(a, a, email=f"{a}@example.com") for a in accounts]


def _notify(db, users, key, **more):
    more.setdefault("title", "合同 {{ record.no }} 已签")
    return Session(db).write(lambda uow: notify(uow, recipients=[u.id for u in users], kind="contract",
                                                context={"record": {"no": "HT-1", "amount": "<b>9</b>"}},
                                                key=key, **more))


def test_in_app_list_unread_count_and_marking_read(db):
    li, wang = _users(db, "li", "wang")
    for i in range(3):
        _notify(db, [li, wang], f"k{i}", body="金额 {{ record.amount }}", link="/c/{{ record.no }}")
    _notify(db, [li], "k0")         # the same key again: sent once
    with db.begin() as conn:
        listed = list_notifications(conn, li.id)
        assert listed["unread"] == 3 and len(listed["items"]) == 3
        item = listed["items"][0]
        assert (item["title"], item["body"], item["link"], item["read_at"]) == (
            "合同 HT-1 已签", "金额 <b>9</b>", "/c/HT-1", None)
        assert mark_read(conn, li.id, [item["id"]]) == 1
        assert mark_read(conn, wang.id, [item["id"]]) == 0          # not theirs
        assert unread_count(conn, li.id) == 2
        assert len(list_notifications(conn, li.id, unread_only=True)["items"]) == 2
        assert mark_all_read(conn, li.id) == 2 and unread_count(conn, li.id) == 0
        assert unread_count(conn, wang.id) == 3


def test_preferences_choose_the_channels_per_kind(db, monkeypatch):
    monkeypatch.setenv("FORMWORK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FORMWORK_SMTP_PORT", "1")       # nothing listens: the e-mail job retries
    li, wang, zhao = _users(db, "li", "wang", "zhao")
    with db.begin() as conn:
        set_preference(conn, li.id, "contract", ["email"])
        set_preference(conn, wang.id, "*", ["in_app"])
        set_preference(conn, wang.id, "other", [])
    result = _notify(db, [li, wang, zhao], "p1")
    assert result["sent"] == {"in_app": 2, "email": 2, "robot": 0}
    assert sorted(j["payload"]["user"] for j in jobs_of(db, "notification.email")) == [li.id, zhao.id]
    assert sorted(j["payload"]["user"] for j in jobs_of(db, "notification.in_app")) == [wang.id, zhao.id]
    with pytest.raises(Exception, match="unknown notification channel"):
        with db.begin() as conn:
            set_preference(conn, li.id, "contract", ["pigeon"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):     # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content,
                                                                          policy=email.policy.default)))
        return "250 OK"


def test_email_is_sent_over_smtp_with_an_escaped_html_part(db, monkeypatch):
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("FORMWORK_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("FORMWORK_SMTP_PORT", str(port))
        monkeypatch.setenv("FORMWORK_SMTP_FROM", "crm@example.com")
        [li] = _users(db, "li")
        _notify(db, [li], "m1", body="金额 {{ record.amount }}", channels=["email"])
    finally:
        controller.stop()
    [(to, message)] = mailbox.messages
    assert to == ["li@example.com"] and message["From"] == "crm@example.com"
    assert message["Subject"] == "合同 HT-1 已签"
    assert message.get_body("plain").get_content().strip() == "金额 <b>9</b>"
    assert "金额 &lt;b&gt;9&lt;/b&gt;" in message.get_body("html").get_content()
    assert [j["status"] for j in jobs_of(db, "notification.email")] == ["done"]


def test_without_smtp_no_email_is_enqueued(db):
    [li] = _users(db, "li")
    assert _notify(db, [li], "n1")["sent"] == {"in_app": 1, "email": 0, "robot": 0}
    assert jobs_of(db, "notification.email") == []


@pytest.mark.parametrize("format_, expected, answer", [
    ("dingtalk", {"msgtype": "markdown", "markdown": {"title": "合同 HT-1 已签", "text": "#### 合同 HT-1 已签\n\n请跟进"}},
     {"errcode": 0, "errmsg": "ok"}),
    ("wecom", {"msgtype": "markdown", "markdown": {"content": "**合同 HT-1 已签**\n请跟进"}},
     {"errcode": 0, "errmsg": "ok"}),
    ("feishu", {"msg_type": "text", "content": {"text": "合同 HT-1 已签\n请跟进"}}, {"code": 0, "msg": "success"}),
])
def test_group_robots_receive_their_own_format(db, monkeypatch, format_, expected, answer):
    with Receiver(answer=answer) as receiver:
        monkeypatch.setenv("AUTO_ROBOT_URL", receiver.url)
        _notify(db, [], f"r-{format_}", body="请跟进", robot={"format": format_, "url_env": "AUTO_ROBOT_URL"})
    [got] = receiver.received
    assert got["json"] == expected and got["headers"]["Content-Type"].startswith("application/json")
    assert [j["status"] for j in jobs_of(db, "notification.robot")] == ["done"]


def test_a_robot_that_refuses_is_retried(db, monkeypatch):
    with Receiver(answer={"errcode": 310000, "errmsg": "keywords not in content"}) as receiver:
        monkeypatch.setenv("AUTO_ROBOT_URL", receiver.url)
        _notify(db, [], "r-bad", robot={"format": "dingtalk", "url_env": "AUTO_ROBOT_URL"})
    [job] = jobs_of(db, "notification.robot")
    assert job["status"] == "queued" and "keywords not in content" in job["last_error"]


def test_robot_links_are_part_of_the_message():
    content = robot_message("wecom", "T", "B", "https://x/1")["markdown"]["content"]
    assert content == "**T**\nB\n\n[https://x/1](https://x/1)"


@pytest.mark.parametrize("template", [
    "{{ record.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ record.update({'x': 1}) }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_a_template_cannot_reach_python_internals(template):
    with pytest.raises(SecurityError, match="is unsafe"):
        render(template, {"record": {"name": "王"}})
    assert render("{{ record.name }} {{ record.missing }}", {"record": {"name": "王"}}) == "王 "
