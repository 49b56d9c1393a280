"""A referral programme on the flagship for the referral tests: two referrers (张三, 李四)
and one campaign (SPR25), optionally ended or with a campaign image in a file store."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine

from engine.storage.files import FileStore
from engine.validation import load_definition
from runtime.apps import apply_app
from runtime.referrals.codes import share_code
from runtime.session import Session
from tests.support.paths import FLAGSHIP_APP

APP = "crm_referral"


@dataclass(frozen=True)
class Programme:
    referrers: list[int]         # 张三, 李四
    campaign: int
    codes: list[str]             # their share codes


def install(engine: Engine, definition=None) -> None:
    apply_app(engine, definition or load_definition(FLAGSHIP_APP))


def make_programme(engine: Engine, *, ended: bool = False, starts_on: date = date(2026, 3, 1),
                   image_store: FileStore | None = None, image: bytes | None = None) -> Programme:
    def make(uow):
        records = uow.records(APP)
        people = [records.create("customers", {"name": name, "kind": "person", "phone": phone})
                  for name, phone in (("张三", "13800000001"), ("李四", "13800000002"))]
        poster = []
        if image_store is not None and image is not None:
            poster = [image_store.put(uow.conn, io.BytesIO(image), "poster.png", "image/png",
                                      max_bytes=10_000_000)["id"]]
        campaign = records.create("referral_campaigns", {
            "name": "春季推荐有礼", "code_prefix": "SPR25", "status": "running", "starts_on": starts_on,
            "ends_on": date(2026, 5, 1) if ended else None, "poster": poster,
            "rules": "每成功推荐一位好友签约，推荐人奖励 500 元，好友首单立减 200 元。"})
        codes = [share_code("SPR25", records.get("customers", p["id"])["fields"]["referral_code"]) for p in people]
        return Programme([p["id"] for p in people], campaign["id"], codes)
    return Session(engine).write(make)


def referrals(engine: Engine) -> list[dict]:
    with Session(engine).read() as uow:
        return [r["fields"] | {"id": r["id"]} for r in uow.records(APP).list("referrals").records]
