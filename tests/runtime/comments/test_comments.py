"""Comments on records: plain text up to a limit, @mentions as user ids, newest first in
keyset pages, edited and deleted by their author only, and only on records the
reader may see."""
from __future__ import annotations

import pytest

from engine.errors import NotFound
from runtime.comments import MAX_BODY, CommentError, CommentNotFound, Comments, mentioned_accounts
from runtime.permissions import FULL_ACCESS
from tests.support.record_pages_app import Salesperson, install_crm


@pytest.fixture
def crm(db):
    return install_crm(db)


def _customer(crm, actor):
    with crm.engine.begin() as conn:
        return crm.records(conn, actor, FULL_ACCESS).create("customers", {"name": "上海明达科技"})["id"]


def test_add_list_edit_delete(crm):
    rid = _customer(crm, crm.li)
    with crm.engine.begin() as conn:
        li = Comments(crm.records(conn, crm.li))
        first = li.add("customers", rid, "  @han.meimei 请跟进，<b>不是</b>标签  ")
        assert first["body"] == "@han.meimei 请跟进，<b>不是</b>标签"       # stored as given, trimmed
        assert first["mentions"] == [crm.han.user_id]
        assert first["author"] == {"id": crm.li.user_id, "name": "李雷"} and not first["deleted"]
        second = li.add("customers", rid, "第二条 🚀")
        edited = li.edit(second["id"], "第二条（改）@li.lei @nobody")
        assert edited["edited_at"] and edited["mentions"] == [crm.li.user_id]
        li.delete(first["id"])
        listed = li.list("customers", rid)["comments"]
        assert [c["id"] for c in listed] == [second["id"], first["id"]]
        assert listed[1]["deleted"] and listed[1]["body"] is None and listed[1]["mentions"] == []


def test_only_the_author_edits_or_deletes(crm):
    rid = _customer(crm, crm.li)
    with crm.engine.begin() as conn:
        made = Comments(crm.records(conn, crm.li)).add("customers", rid, "我的评论")
        han = Comments(crm.records(conn, crm.han, FULL_ACCESS))
        for call in (lambda: han.edit(made["id"], "改"), lambda: han.delete(made["id"])):
            with pytest.raises(CommentError) as refused:
                call()
            assert refused.value.code == "comment_not_author"
        with pytest.raises(CommentNotFound):
            han.edit(10_000, "x")


def test_bodies_are_checked(crm):
    rid = _customer(crm, crm.li)
    with crm.engine.begin() as conn:
        comments = Comments(crm.records(conn, crm.li))
        for body, code in (("", "comment_empty"), ("   ", "comment_empty"), (None, "comment_empty"),
                           ("长" * (MAX_BODY + 1), "comment_too_long")):
            with pytest.raises(CommentError) as refused:
                comments.add("customers", rid, body)
            assert refused.value.code == code
        assert "5000" in refused.value.message("en") and "5001" in refused.value.message("zh")
        assert len(comments.add("customers", rid, "长" * MAX_BODY)["body"]) == MAX_BODY


def test_comments_go_with_the_records_scope(crm):
    theirs = _customer(crm, crm.han)
    with crm.engine.begin() as conn:
        made = Comments(crm.records(conn, crm.han, FULL_ACCESS)).add("customers", theirs, "韩的评论")
        li = Comments(crm.records(conn, crm.li, Salesperson()))
        for call in (lambda: li.add("customers", theirs, "x"), lambda: li.list("customers", theirs),
                     lambda: li.get(made["id"])):
            with pytest.raises(NotFound):
                call()


def test_pages_are_keyset_and_cost_the_same_whatever_their_size(crm, count_statements):
    rid = _customer(crm, crm.li)
    with crm.engine.begin() as conn:
        comments = Comments(crm.records(conn, crm.li))
        made = [comments.add("customers", rid, f"评论{i}")["id"] for i in range(25)]
    with crm.engine.connect() as conn:
        comments = Comments(crm.records(conn, crm.li))
        seen, cursor, used = [], None, set()
        while True:
            with count_statements(crm.engine) as counter:
                page = comments.list("customers", rid, cursor=cursor, limit=10)
            used.add(counter.count)
            seen += [c["id"] for c in page["comments"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == list(reversed(made)) and len(used) == 1


def test_mentions_are_parsed_from_accounts():
    assert mentioned_accounts("@li.lei 和 @han.meimei，还有 @li.lei。") == ["li.lei", "han.meimei"]
    assert mentioned_accounts("写信给 a@b.com") == []
    assert mentioned_accounts("@li.lei.") == ["li.lei"]
