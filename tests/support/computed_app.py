"""A small sales app with computed fields, used by the computed-field tests:
customers <- contracts <- payments, with rollups, formulas across relations, a
multiple relation, a subform, a lookup, a default formula, a visibility condition
and validation rules."""
from __future__ import annotations

from engine.validation.validate import check_text

DEFINITION = """
format_version: 1
app: {key: sales, label: {zh: 销售, en: Sales}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    title_field: name
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}, required: true}
      - {key: level, type: select, label: {zh: 等级, en: Level}, options: [vip, normal], default: normal}
      - {key: referrer, type: relation, target: customers, label: {zh: 推荐人, en: Referrer}}
      - key: ltv
        type: rollup
        label: {zh: 累计回款, en: Lifetime value}
        source: payments
        via: customer
        aggregate: sum
        field: amount
        filter: {field: status, op: eq, value: confirmed}
      - {key: contract_count, type: rollup, label: {zh: 合同数, en: Contracts}, source: contracts,
         via: customer, aggregate: count}
      - {key: unpaid_total, type: rollup, label: {zh: 未回款, en: Unpaid}, source: contracts,
         via: customer, aggregate: sum, field: unpaid}
      - {key: last_paid_on, type: rollup, label: {zh: 最近回款, en: Last paid on}, source: payments,
         via: customer, aggregate: max, field: paid_on}
      - {key: avg_contract, type: rollup, label: {zh: 平均合同额, en: Average contract}, source: contracts,
         via: customer, aggregate: avg, field: amount, precision: 1}
      - {key: referrals, type: rollup, label: {zh: 推荐客户数, en: Referred}, source: customers,
         via: referrer, aggregate: count}
      - {key: referrer_level, type: formula, label: {zh: 推荐人等级, en: Referrer level},
         formula: 'referrer.level'}
      - key: tier
        type: formula
        label: {zh: 客户分层, en: Tier}
        formula: 'IF(ltv >= 10000, "gold", IF(ltv > 0, "silver", "new")) & "-" & level'
  - key: tags
    label: {zh: 标签, en: Tags}
    title_field: name
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}}
      - {key: used_by, type: rollup, label: {zh: 合同数, en: Contracts}, source: contracts, via: tags,
         aggregate: count}
  - key: contracts
    label: {zh: 合同, en: Contracts}
    title_field: title
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}, required: true}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: customer_level, type: lookup, relation: customer, field: level, label: {zh: 客户等级, en: Level}}
      - {key: tags, type: relation, target: tags, multiple: true, label: {zh: 标签, en: Tags}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - key: status
        type: select
        label: {zh: 状态, en: Status}
        options: [executing, completed, terminated]
        default: executing
      - {key: lost_reason, type: text, label: {zh: 终止原因, en: Why terminated}, required: true,
         visible_if: 'status = "terminated"'}
      - {key: starts_on, type: date, label: {zh: 开始, en: Starts on}, default_formula: 'TODAY()'}
      - {key: ends_on, type: date, label: {zh: 结束, en: Ends on}, default_formula: 'starts_on + 365'}
      - key: items
        type: subform
        label: {zh: 明细, en: Items}
        fields:
          - {key: qty, type: number, label: {zh: 数量, en: Qty}, precision: 0}
          - {key: price, type: number, label: {zh: 单价, en: Price}, precision: 2}
      - {key: items_total, type: formula, label: {zh: 明细合计, en: Items total},
         formula: 'SUMPRODUCT(items.qty, items.price)'}
      - {key: paid, type: rollup, label: {zh: 已回款, en: Paid}, source: payments, via: contract,
         aggregate: sum, field: amount, filter: {field: status, op: eq, value: confirmed}}
      - {key: unpaid, type: formula, label: {zh: 未回款, en: Unpaid}, formula: 'amount - paid'}
      - {key: paid_share, type: formula, label: {zh: 回款比例, en: Paid share}, formula: 'paid / amount',
         precision: 4}
      - {key: customer_tier, type: formula, label: {zh: 客户分层, en: Customer tier},
         formula: 'customer.tier & " / " & customer_level'}
      - {key: tag_names, type: formula, label: {zh: 标签名, en: Tag names}, formula: 'JOIN(tags.name, ",")'}
    rules:
      - key: dates_in_order
        formula: 'ends_on >= starts_on'
        message: {zh: 结束日期不能早于开始日期, en: The end date cannot be before the start date}
        fields: [ends_on]
  - key: payments
    label: {zh: 回款, en: Payments}
    fields:
      - {key: contract, type: relation, target: contracts, label: {zh: 合同, en: Contract}}
      - {key: customer, type: relation, target: customers, label: {zh: 客户, en: Customer}}
      - {key: amount, type: number, label: {zh: 金额, en: Amount}, precision: 2}
      - {key: paid_on, type: date, label: {zh: 回款日期, en: Paid on}}
      - key: status
        type: select
        label: {zh: 状态, en: Status}
        options: [confirmed, pending]
        default: confirmed
    rules:
      - key: positive
        formula: 'amount > 0'
        message: {zh: 回款金额必须大于 0, en: A payment must be more than 0}
        fields: [amount]
      - key: not_over_contract
        formula: 'amount <= contract.amount'
        message: {zh: 回款金额不能超过合同金额, en: A payment cannot be more than its contract}
"""


def computed_app():
    app, problems = check_text(DEFINITION, "sales.yaml")
    assert not problems, "\n".join(p.format() for p in problems)
    return app


def install_sales(engine):
    from runtime.apps import apply_app
    app = computed_app()
    apply_app(engine, app)
    return app
