"""Spreadsheets for the import wizard's tests (web and browser): a customers file of the
flagship whose phone column has a header the runtime does not recognise (手机), one good
row, one row of hostile text that is valid, and one row of mistakes."""
from __future__ import annotations

import csv
from pathlib import Path

from runtime.session import Session
from tests.support.web import csrf_from

HEADERS = ["客户名称", "手机", "客户等级", "负责销售", "内部编号"]
ROWS = [
    ["上海明达科技有限公司", "138 1234 5678", "重点客户", "li.lei", "A-1"],
    ["<script>alert(1)</script>", "13987654321", "VIP", "li.lei", "{{7*7}}"],
    ["张伟", "1381234", '"><img src=x onerror=alert(1)>', "{{7*7}}", "A-3"],
]
PHONE_COLUMN = 1   # 手机: mapped to the phone field by hand


def customers_csv(folder: Path, name: str = "customers.csv") -> Path:
    path = Path(folder) / name
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(ROWS)
    return path


# The import wizard of the flagship's customers, driven through the test client.
BASE = "/apps/crm_referral/forms/customers/import"


def upload(client, path, name=None):
    token = csrf_from(client, BASE)
    with open(path, "rb") as handle:
        return client.post(BASE, data={"csrf_token": token, "file": (handle, name or path.name)},
                           content_type="multipart/form-data")


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_from(client, BASE)})


def customers(db):
    with Session(db).read() as uow:
        return uow.records("crm_referral").list("customers").records
