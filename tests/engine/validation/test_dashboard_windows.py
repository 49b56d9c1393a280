"""The definition checks of derived values and window measures: each mistake reported at
its part (line and column) with what to write instead; a correct use passes."""
from __future__ import annotations

from engine.validation.validate import check_text

HEAD = """format_version: 1
app: {key: shop, label: {zh: 商店, en: Shop}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}}
  - key: orders
    label: {zh: 订单, en: Orders}
    fields:
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - {key: ordered_on, type: date, label: {zh: 日期, en: Date}}
      - {key: note, type: text, label: {zh: 备注, en: Note}}
      - {key: customer, type: relation, label: {zh: 客户, en: Customer}, target: customers}
dashboards:
  - key: main
    label: {zh: 看板, en: Main}
    widgets:
"""


def _problems(widgets: str) -> list:
    _, problems = check_text(HEAD + widgets, "shop.yaml")
    return problems


def test_a_correct_use_passes():
    assert _problems("""      - key: ok
        kind: bar
        label: {zh: 甲, en: A}
        form: orders
        derived:
          - {key: n_orders, fn: count, partition: [customer]}
          - {key: gap, fn: days_since_previous, field: ordered_on, partition: [customer], order: [{by: ordered_on}]}
        dimensions: [n_orders]
        measures:
          - {key: total, agg: sum, field: amount}
          - {key: q, window: ntile, buckets: 4, of: total, dir: desc}
          - {key: mean_gap, agg: avg, field: gap}
""") == []


def test_each_mistake_is_said_where_it_is():
    problems = _problems("""      - key: bad
        kind: bar
        label: {zh: 甲, en: A}
        form: orders
        derived:
          - {key: amount, fn: count, partition: [customer]}
          - {key: gap, fn: days_since_previous, field: note, partition: [customer], order: [ordered_on]}
          - {key: prev, fn: previous, field: amount, partition: [customer]}
          - {key: far, fn: max, field: customer.name, partition: [customer]}
        dimensions: [customer]
        measures:
          - {key: total, agg: sum, field: amount}
          - {key: mean, agg: avg, field: amount}
          - {key: q, window: ntile, of: mean}
          - {key: z, window: rank, of: totl}
      - key: kpi
        kind: kpi
        label: {zh: 乙, en: B}
        form: orders
        measures:
          - {key: total, agg: sum, field: amount}
          - {key: q, window: rank, of: total}
""")
    said = [(p.code, p.line, p.message) for p in problems]

    def at(code: str, line: int, words: str) -> bool:
        return any(c == code and n == line and words in m for c, n, m in said)
    assert at("duplicate_key", 24, "already a field")
    assert at("bad_derived", 25, "name a date field")
    assert at("bad_derived", 26, "needs `order:`")
    assert at("bad_derived", 27, "without a dot")
    assert at("bad_window", 32, "not an average") and at("bad_window", 32, "needs `buckets:`")
    assert any(p.code == "bad_window" and p.line == 33 and p.suggestion == "total" for p in problems)
    assert at("bad_window", 40, "a kpi widget has none")
    assert len(problems) == 8 and all(p.column for p in problems)
