"""Orders of a few customers over a year, written by the tests (not the seeded data), for
the flagship's repurchase dashboard: some buy once, some come back, one stopped long ago."""
from __future__ import annotations

CUSTOMERS = [{"name": n, "level": lvl} for n, lvl in
             [("上海明达", "vip"), ("杭州云帆", "key"), ("苏州恒信", "normal"), ("南京瑞丰", "normal"),
              ("宁波海川", "vip"), ("无锡金桥", "normal"), ("合肥新元", "key")]]
_PLAN = {"上海明达": ["2025-04-02", "2025-06-10", "2025-09-01", "2025-12-12", "2026-02-20", "2026-03-15"],
         "杭州云帆": ["2025-05-05", "2025-08-18", "2026-01-09"],
         "苏州恒信": ["2025-07-21"],
         "南京瑞丰": ["2025-10-03", "2025-10-30"],
         "宁波海川": ["2025-11-11", "2026-01-11", "2026-03-01", "2026-03-18"],
         "无锡金桥": ["2025-06-30"],
         "合肥新元": ["2026-02-02", "2026-03-03"]}
CHANNELS = ["online", "store", "sales"]


def orders() -> list[dict]:
    made, n = [], 0
    for customer, days in _PLAN.items():
        for i, day in enumerate(days):
            n += 1
            made.append({"order_no": f"SO{n:04d}", "customer": customer, "ordered_on": day,
                         "amount": f"{(n * 137) % 900 + 100}.50", "channel": CHANNELS[(n + i) % 3]})
    return made
