"""Definitions of dashboards shared by the validator's and the CLI's tests."""

# Widgets of which only the SQL can tell two are wrong (a filter value its operator cannot
# take, an impossible date in a measure's filter): `formwork validate` reports them at their line.
UNBUILDABLE_WIDGETS = """format_version: 1
app: {key: shop, label: {zh: 商店, en: Shop}}
forms:
  - key: orders
    label: {zh: 订单, en: Orders}
    fields:
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - {key: ordered_on, type: date, label: {zh: 日期, en: Date}}
dashboards:
  - key: main
    label: {zh: 看板, en: Main}
    widgets:
      - key: fine
        kind: bar
        label: {zh: 甲, en: A}
        form: orders
        dimensions: [{field: ordered_on, bucket: month}]
        measures: [{key: n, agg: count}]
      - key: bad_value
        kind: kpi
        label: {zh: 乙, en: B}
        form: orders
        filter: {field: amount, op: gt, value: lots}
        measures: [{key: n, agg: count}]
      - key: bad_measure_filter
        kind: kpi
        label: {zh: 丙, en: C}
        form: orders
        measures:
          - {key: n, agg: count, filter: {field: ordered_on, op: lt, value: "2026-02-31"}}
"""
