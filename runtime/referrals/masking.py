"""Masking a referred friend's personal details for the referrer's portal (个人信息保护法:
the referrer sees that their friend came, not the friend's details). The one place that
masks: templates and scripts show what these give.

    mask_name("张三")            "张*"
    mask_name("欧阳娜娜")        "欧***"
    mask_name("Alice Wong")      "A*********"
    mask_phone("13812348000")    "138****8000"
    mask_phone("010-12345678")   "010****5678"
    mask_phone("12345")          "***45"
"""
from __future__ import annotations

MASK = "*"


def mask_name(name: str | None) -> str:
    """The first character, then one star per other character (at least one)."""
    text = (name or "").strip()
    if not text:
        return ""
    return text[0] + MASK * max(1, len(text) - 1)


def mask_phone(phone: str | None) -> str:
    """Mainland style for 7 digits or more: the first 3 and the last 4 digits around four
    stars; a shorter number keeps its last 2 digits only. Separators are dropped."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if not digits:
        return ""
    if len(digits) >= 7:
        return f"{digits[:3]}{MASK * 4}{digits[-4:]}"
    keep = digits[-2:] if len(digits) > 2 else ""
    return MASK * (len(digits) - len(keep)) + keep
