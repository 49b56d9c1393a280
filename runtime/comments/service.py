"""Comments on records: plain text, with @mentions of accounts kept as user ids for the
notifications to come (issue #10).

    comments = Comments(records)              # records: Records of the app, as the user
    c = comments.add("customers", 7, "@li.lei 请跟进这个客户")   # c["mentions"] == [li.lei's id]
    comments.list("customers", 7, cursor=None, limit=20)       # newest first, keyset paged
    comments.edit(c["id"], "改过的内容"); comments.delete(c["id"])

Whoever may see a record may read and write its comments (a record outside the actor's
scope answers NotFound, as the record does). Only its author edits or deletes a
comment; a deleted comment stays in the list as "deleted by its author", without its
text. The body is stored as given (plain text, at most MAX_BODY characters, trimmed);
escaping it is the page's job. A mention is "@" and an account ("@li.lei"), resolved
to user ids in one query; an @word naming nobody is plain text.
"""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages
from engine.query.pages import SortKey, after_clause, decode_cursor, encode_cursor
from engine.storage import system
from runtime.permissions import VIEW
from runtime.permissions.errors import PermissionDenied
from runtime.records.display import Display
from runtime.records.service import Records

MAX_BODY = 5_000
MAX_MENTIONS = 50
MAX_PAGE = 100
# An account after "@", not inside an e-mail address (a letter or digit just before "@").
MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})")
_c, _u = system.record_comments, system.users

register_messages({
    "comment_empty": {
        "zh": "评论内容不能为空；请写点什么",
        "en": "A comment cannot be empty; write something"},
    "comment_too_long": {
        "zh": "评论最多 {max} 个字符，这条有 {length} 个；请缩短它",
        "en": "A comment has at most {max} characters, this one has {length}; shorten it"},
    "comment_not_found": {
        "zh": "找不到评论 #{comment}",
        "en": "Comment #{comment} does not exist"},
    "comment_not_author": {
        "zh": "只有评论的作者才能修改或删除它",
        "en": "Only the author of a comment may edit or delete it"},
    "comment_needs_user": {
        "zh": "只有登录的成员才能评论",
        "en": "Only a signed-in member may comment"},
})


class CommentError(CodedError):
    """A comment refused as given."""


class CommentNotFound(CodedError, NotFound):
    def __init__(self, comment_id):
        super().__init__("comment_not_found", comment=comment_id)


def mentioned_accounts(body: str) -> list[str]:
    """The accounts named by @mentions, in order, each once."""
    found: list[str] = []
    for match in MENTION.finditer(body):
        account = match.group(1).rstrip(".-")
        if account not in found:
            found.append(account)
    return found[:MAX_MENTIONS]


class Comments:
    def __init__(self, records: Records):
        self.records, self.conn, self.app = records, records.conn, records.app
        self.user_id = records.actor.user_id

    # ---- writing ----------------------------------------------------------------------
    def add(self, form_key: str, record_id: int, body: str) -> dict[str, Any]:
        if self.user_id is None:
            raise CommentError("comment_needs_user")
        self._visible(form_key, record_id)
        text = self._body(body)
        row = {"app_key": self.app.key, "form_key": form_key, "record_id": record_id,
               "author_id": self.user_id, "body": text, "mentions": self._mentions(text),
               "created_at": self._now()}
        comment_id = self.conn.execute(_c.insert().returning(_c.c.id), row).scalar_one()
        return self.get(comment_id)

    def edit(self, comment_id: int, body: str) -> dict[str, Any]:
        self._own(comment_id)
        text = self._body(body)
        self.conn.execute(_c.update().where(_c.c.id == comment_id).values(
            body=text, mentions=self._mentions(text), edited_at=self._now()))
        return self.get(comment_id)

    def delete(self, comment_id: int) -> None:
        """Deleted by its author: kept in the list without its text."""
        self._own(comment_id)
        self.conn.execute(_c.update().where(_c.c.id == comment_id).values(
            body="", mentions=[], deleted_at=self._now()))

    # ---- reading ----------------------------------------------------------------------
    def get(self, comment_id: int) -> dict[str, Any]:
        row = self._row(comment_id)
        return self._as_json([row])[0]

    def list(self, form_key: str, record_id: int, *, cursor: str | None = None,
             limit: int = 20) -> dict[str, Any]:
        """The record's comments, newest first: {"comments": [...], "next_cursor"}.
        Two statements for the page (the record's visibility and the comments joined to
        their authors' names) whatever its size."""
        self._visible(form_key, record_id)
        limit = max(1, min(int(limit), MAX_PAGE))
        key = [SortKey("id", _c.c.id, True)]
        query = self._select().where(_c.c.app_key == self.app.key, _c.c.form_key == form_key,
                                     _c.c.record_id == record_id)
        if cursor:
            after, _tail = after_clause(key, decode_cursor(key, cursor), True)
            query = query.where(after)
        rows = self.conn.execute(query.order_by(_c.c.id.desc()).limit(limit + 1)).mappings().all()
        more = len(rows) > limit
        rows = rows[:limit]
        return {"comments": self._as_json(rows),
                "next_cursor": encode_cursor(key, [rows[-1]["id"]]) if more else None}

    # ---- helpers ----------------------------------------------------------------------
    def _visible(self, form_key: str, record_id: Any) -> None:
        """NotFound unless the actor may view the record (live, in their row scope): one
        query of its id, whatever the form's relations and subforms."""
        form = self.app.require_form(form_key)
        access = self.records.access(form)
        if not access.can(VIEW):
            raise PermissionDenied("permission_view_denied", form=form_key)
        table = self.app.tables.form_table(form_key)
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise NotFound(f"{form_key} record #{str(record_id)[:20]} does not exist")
        query = sa.select(table.c.id).where(table.c.id == record_id, table.c.deleted_at.is_(None))
        if access.row_scope is not None:
            query = query.where(access.row_scope)
        if self.conn.execute(query).first() is None:
            raise NotFound(f"{form_key} record #{record_id} does not exist")

    def _now(self):
        return self.records.ctx.current_time()

    @staticmethod
    def _body(body: Any) -> str:
        text = body.strip() if isinstance(body, str) else ""
        if not text:
            raise CommentError("comment_empty")
        if len(text) > MAX_BODY:
            raise CommentError("comment_too_long", max=MAX_BODY, length=len(text))
        return text

    def _mentions(self, text: str) -> list[int]:
        accounts = mentioned_accounts(text)
        if not accounts:
            return []
        by_account = dict(self.conn.execute(sa.select(_u.c.account, _u.c.id).where(
            _u.c.account.in_(accounts), _u.c.is_active)).all())
        return [by_account[a] for a in accounts if a in by_account]

    def _select(self):
        return sa.select(_c, _u.c.name.label("author_name")).select_from(
            _c.outerjoin(_u, _u.c.id == _c.c.author_id))

    def _row(self, comment_id: Any):
        if isinstance(comment_id, bool) or not isinstance(comment_id, int):
            raise CommentNotFound(str(comment_id)[:20])
        row = self.conn.execute(self._select().where(_c.c.id == comment_id, _c.c.app_key == self.app.key)
                                ).mappings().first()
        if row is None:
            raise CommentNotFound(comment_id)
        self._visible(row["form_key"], row["record_id"])    # a comment goes with its record
        return row

    def _own(self, comment_id: int):
        row = self._row(comment_id)
        if row["deleted_at"] is not None:
            raise CommentNotFound(comment_id)
        if row["author_id"] is None or row["author_id"] != self.user_id:
            raise CommentError("comment_not_author")
        return row

    @staticmethod
    def _as_json(rows) -> list[dict[str, Any]]:
        iso = lambda v: v.isoformat() if v is not None else None   # noqa: E731
        return [{"id": r["id"], "record_id": r["record_id"], "form": r["form_key"],
                 "author": Display.person(r["author_id"], {r["author_id"]: r["author_name"]}
                                          if r["author_name"] is not None else {}),
                 "body": None if r["deleted_at"] is not None else r["body"],
                 "mentions": list(r["mentions"] or []), "created_at": iso(r["created_at"]),
                 "edited_at": iso(r["edited_at"]), "deleted": r["deleted_at"] is not None,
                 "deleted_at": iso(r["deleted_at"])} for r in rows]
