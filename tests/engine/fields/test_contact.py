"""Phone (mainland mobile and landline), email, URL and ID card number."""
from datetime import date

import pytest

from engine.fields import ValueContext
from engine.fields.contact import idcard_problem
from tests.support.fields import CTX, Lab, L, make, problem_at, refused

TYPES = {"phone", "email", "url", "idcard"}


@pytest.mark.parametrize("raw, canonical", [
    ("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("0086 138 1234 5678", "13812345678"),
    ("(+86)13812345678", "13812345678"), ("１３８１２３４５６７８", "13812345678"), (13812345678, "13812345678"),
    ("19912345678", "19912345678"),
    ("010-12345678", "010-12345678"), ("(010) 1234 5678", "010-12345678"), ("+86 10 1234 5678", "010-12345678"),
    ("0755 8888 8888", "0755-88888888"), ("021-63211234", "021-63211234"),
    ("010-12345678转123", "010-12345678-123"), ("010-12345678 ext. 9", "010-12345678-9"),
    ("010-12345678-123", "010-12345678-123"),                           # the canonical form reads back
    ("400-810-8888", "400-810-8888"), ("4008108888", "400-810-8888"), ("800 820 8820", "800-820-8820"),
    ("+852 2123 4567", "+85221234567"), ("+1 650-253-0000", "+16502530000"),
])
def test_phone_spellings(raw, canonical):
    phone = make("phone")
    assert phone.clean(raw, CTX) == canonical
    assert phone.clean(canonical, CTX) == canonical


@pytest.mark.parametrize("raw", ["12345678", "1381234567", "138123456789", "020-8765432", "95588", "电话",
                                 "13812345678转1", "+86 123", "1" * 300, True, [13812345678]])
def test_phone_refused_with_a_hint(raw):
    error = refused(make("phone"), raw, "phone_invalid", zh=["11 位", "区号"], en=["11 digits", "area code"])
    assert len(error.params["value"]) <= 40


def test_phone_kind():
    mobile, landline = make("phone", kind="mobile"), make("phone", kind="landline")
    assert mobile.clean("+86 138 1234 5678", CTX) == "13812345678"
    refused(mobile, "010-12345678", "phone_not_mobile", zh=["手机"], en=["mobile"])
    assert landline.clean("01012345678", CTX) == "010-12345678"
    refused(landline, "13812345678", "phone_not_landline", zh=["010-12345678"], en=["landline"])
    problem_at([{"key": "tel", "type": "phone", "label": L("电话"), "kind": "fax"}], "forms[0].fields[0].kind")


def test_phone_filters_accept_partial_numbers():
    phone = make("phone")
    assert phone.clean_operand("+86 138 1234 5678", CTX) == "13812345678"
    assert phone.clean_operand("1234", CTX) == "1234"      # not a number, still a "contains" needle


@pytest.mark.parametrize("raw, canonical", [
    ("Li.Lei@Example.COM", "li.lei@example.com"), ("  han_mei+crm@163.com ", "han_mei+crm@163.com"),
    ("wang＠qq。com", "wang@qq.com"), ("o'neil@sub.example.co.uk", "o'neil@sub.example.co.uk")])
def test_email_spellings(raw, canonical):
    assert make("email").clean(raw, CTX) == canonical


@pytest.mark.parametrize("raw", ["li.lei", "li@lei", "a@b..com", "a..b@example.com", "a b@example.com",
                                 "a@-example.com", "<a@example.com>", "x" * 250 + "@a.com", "名字@例子.中国", True])
def test_email_refused(raw):
    refused(make("email"), raw, "email_invalid", zh=["邮箱"], en=["email address"])


@pytest.mark.parametrize("raw, canonical", [
    ("https://example.com/path?q=1#x", "https://example.com/path?q=1#x"), ("example.com", "https://example.com"),
    ("www.example.com/a", "https://www.example.com/a"), ("HTTP://Example.com", "HTTP://Example.com"),
    ("https://例子.中国/路径", "https://例子.中国/路径")])
def test_url_spellings(raw, canonical):
    assert make("url").clean(raw, CTX) == canonical


@pytest.mark.parametrize("raw, code", [
    ("javascript:alert(1)", "url_invalid"), ("ftp://example.com", "url_invalid"), ("https://", "url_invalid"),
    ("https://exa mple.com", "url_invalid"), ('https://a.com/"><script>', "url_invalid"), ("not a url", "url_invalid"),
    ("https://a.com/" + "x" * 2000, "url_invalid"), ("https://a.com/\x00", "text_control_chars"),
    ("https://a.com/\ud800", "text_bad_unicode")])
def test_url_refused(raw, code):
    refused(make("url"), raw, code)


def test_url_message_explains_the_scheme():
    refused(make("url"), "javascript:alert(1)", "url_invalid", zh=["http://"], en=["http://", "https://"])


def test_idcard_checksum_and_birth_date():
    card = make("idcard")
    assert card.clean("11010519491231002X", CTX) == "11010519491231002X"
    assert card.clean(" 110105 19491231 002x ", CTX) == "11010519491231002X"     # spaces, lower-case x
    assert card.clean("１１０１０５１９４９１２３１００２Ｘ".replace("Ｘ", "X"), CTX) == "11010519491231002X"
    refused(card, "110105194912310021", "idcard_checksum", zh=["校验位"], en=["check digit"])
    refused(card, "110105194902300021", "idcard_birth_date", zh=["1949-02-30", "不存在"], en=["1949-02-30"])
    refused(card, "110105189912310026", "idcard_birth_range", zh=["1899-12-31"], en=["between 1900 and today"])
    refused(card, "99010519491231002X", "idcard_region", zh=["省份"], en=["province code"])
    refused(card, "110105491231002", "idcard_old_format", zh=["15 位"], en=["15-digit", "18-digit"])
    refused(card, "11010519491231002Y", "idcard_shape", zh=["17 位数字"], en=["17 digits"])
    refused(card, "1101051949123100", "idcard_shape")
    assert card.display("11010519491231002X", CTX) == "11010519491231002X"


def test_idcard_birth_date_is_checked_against_today():
    future = "110105" + "20300101" + "001"
    total = sum(int(d) * w for d, w in zip(future, [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]))
    future += "10X98765432"[total % 11]
    assert idcard_problem(future, date(2031, 1, 1)) is None
    assert idcard_problem(future, date(2029, 12, 31)).code == "idcard_birth_range"
    refused(make("idcard"), future, "idcard_birth_range", ctx=ValueContext(now=CTX.now))


FIELDS = [
    {"key": "phone", "type": "phone", "label": L("电话", "Phone"), "unique": True},
    {"key": "email", "type": "email", "label": L("邮箱", "Email")},
    {"key": "site", "type": "url", "label": L("网址", "Site")},
    {"key": "card", "type": "idcard", "label": L("身份证", "ID card"), "unique": True},
]


def test_round_trip_filters_and_unique(db):
    lab = Lab(db, FIELDS)
    a = lab.create(phone="+86 138-1234-5678", email="Li.Lei@Example.COM", site="example.com",
                   card="11010519491231002x")["id"]
    b = lab.create(phone="010 1234 5678 转 8", email="han@163.com", site="https://a.com/%_?x='1'")["id"]
    c = lab.create(phone="400-810-8888")["id"]
    assert lab.get(a)["fields"] == {"phone": "13812345678", "email": "li.lei@example.com",
                                    "site": "https://example.com", "card": "11010519491231002X"}
    assert lab.value(b, "phone") == "010-12345678-8"
    lab.check_filters("phone", [
        ("eq", "138 1234 5678", [a]), ("eq", "+86 10 1234 5678转8", [b]),
        ("contains", "1234", [a, b]), ("starts_with", "010", [b]), ("in", ["4008108888", "13812345678"], [a, c]),
        ("not_in", ["13812345678"], [b, c]), ("ne", "400-810-8888", [a, b]), ("empty", None, [])])
    lab.check_filters("email", [("eq", "li.lei@EXAMPLE.com", [a]), ("ne", "han@163.com", [a, c]),
                                ("in", ["HAN@163.com"], [b]), ("not_in", ["han@163.com"], [a, c]),
                                ("contains", "163", [b]), ("starts_with", "LI.", [a]),
                                ("empty", None, [c]), ("not_empty", None, [a, b])])
    lab.check_filters("site", [("eq", "https://example.com", [a]), ("contains", "%_", [b]),
                               ("starts_with", "https://example", [a]), ("empty", None, [c])])
    lab.check_filters("card", [("eq", "11010519491231002x", [a]), ("not_empty", None, [a]), ("empty", None, [b, c])])
    lab.check_filters("phone", [("not_empty", None, [a, b, c])])
    assert lab.ids(sort="phone") == [b, a, c]
    assert [i for i in lab.ids(sort="-email") if i != c] == [a, b]     # empty: the database's place
    with lab.engine.connect() as conn:
        assert [r["id"] for r in lab.records(conn).list("items", search="5678").records] == [b, a]
    assert lab.refused({"phone": "13812345678"}) == {"phone": "unique"}   # same number, other spelling
    assert lab.refused({"phone": "+86 138 1234 5678"}) == {"phone": "unique"}
    assert lab.refused({"card": "11010519491231002X"}) == {"card": "unique"}
    assert lab.refused({"phone": "123", "email": "x", "site": "javascript:1", "card": "1"}) == {
        "phone": "phone_invalid", "email": "email_invalid", "site": "url_invalid", "card": "idcard_shape"}
    assert lab.update(c, phone="0755-88888888")["fields"]["phone"] == "0755-88888888"
