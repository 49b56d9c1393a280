"""Checks of meaning of the definition's reward rules (engine/rewards): the source form,
its customer relation and the customer form's referrer self-relation exist (with a
did-you-mean), the date and campaign fields exist, every formula type-checks in the
rule's environment (engine/rewards/env.py) pointing into its text, the tiers start at
the 1st reward and do not repeat, the milestones do not repeat, and the indirect level.

Chinese rules on multi-level schemes (《禁止传销条例》: a reward paid for the recruits of
one's recruits) make indirect rewards risky: a rule may reward the referrer's referrer
(one indirect level, never more) only when it says `allow_indirect: true`, and then
`formwork validate` still warns, with the reason (`reward_warnings`).
"""
from __future__ import annotations

from typing import Iterable

from engine.errors import Problem
from engine.formula import parse
from engine.formula.diagnostics import FormulaSyntaxError
from engine.rewards.env import AMOUNT_NAMES, RewardEnv
from engine.rewards.model import RewardRule, rewards_of
from engine.suggest import did_you_mean
from engine.validation.automation_checks import (
    DATE_TYPES, _formula_type, _typed, _unknown_field, _unknown_form,
)
from engine.validation.checks import CONDITION_TYPES, AppFacts

INDIRECT_WARNING = (
    "this rule rewards the referrer's referrer (an indirect level). Chinese law on pyramid selling "
    "(《禁止传销条例》) treats rewards for the recruits of one's recruits as a mark of a pyramid scheme: keep "
    "the reward small, tied to a real sale and never to recruiting, and have it reviewed; Formwork allows "
    "this one indirect level only, never more")
INDIRECT_WARNING_ZH = (
    "此规则奖励推荐人的推荐人（间接层级）。《禁止传销条例》将按下线发展人员计酬视为传销特征：请控制金额、"
    "仅以真实成交计奖而非以拉人头计奖，并经法务审核；Formwork 只允许这一层间接奖励，不允许更多层级")


def check_rewards(facts: AppFacts) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for rule in rewards_of(facts.app):
        if rule.key in seen:
            yield Problem(f"{rule.path}.key", f"reward rule key {rule.key!r} is used twice (also at "
                          f"{seen[rule.key]}); rename one of them", code="duplicate_key")
        seen.setdefault(rule.key, rule.path)
        yield from _check_rule(facts, rule)


def reward_warnings(facts: AppFacts) -> Iterable[Problem]:
    """What is allowed but risky: each rule paying an indirect level."""
    for rule in rewards_of(facts.app):
        if rule.beneficiary == "indirect" and rule.allow_indirect:
            yield Problem(f"{rule.path}.beneficiary", INDIRECT_WARNING, code="indirect_reward",
                          message_zh=INDIRECT_WARNING_ZH, severity="warning")


def _check_rule(facts: AppFacts, rule: RewardRule) -> Iterable[Problem]:
    if rule.beneficiary == "indirect" and not rule.allow_indirect:
        yield Problem(f"{rule.path}.beneficiary", "a rule rewarding the referrer's referrer must say so "
                      "explicitly: add `allow_indirect: true` (and read the warning `formwork validate` gives: "
                      "indirect rewards are risky under 《禁止传销条例》), or reward the referrer",
                      code="indirect_not_allowed",
                      message_zh="奖励推荐人的推荐人须明确声明：加上 `allow_indirect: true`（并阅读 formwork validate "
                                 "的警告：间接奖励在《禁止传销条例》下有风险），或改为奖励推荐人")
    if rule.allow_indirect and rule.beneficiary != "indirect":
        yield Problem(f"{rule.path}.allow_indirect", f"allow_indirect only applies to `beneficiary: indirect`; "
                      f"this rule rewards the {rule.beneficiary}: remove it", code="needless_allow_indirect")
    if not isinstance(rule.source, str):
        return
    form = facts.app.form(rule.source)
    if form is None:
        yield _unknown_form(facts.app, rule.source, f"{rule.path}.source")
        return
    yield from _check_customer(facts, rule, form)
    for name, text in (("when", rule.when), ("refunded", rule.refunded)):
        if text is not None:
            yield from _typed(RewardEnv(facts.app, form, facts.types), text, f"{rule.path}.{name}",
                              CONDITION_TYPES, "TRUE or FALSE, like `net_paid >= amount`")
    shadowed = [name for name in AMOUNT_NAMES if form.field(name) is not None]
    if rule.amount is not None and shadowed:
        yield Problem(f"{rule.path}.amount", f"form {form.key!r} has a field named {shadowed[0]!r}, which is also "
                      f"the name the amount formula reads the {'tier rate' if shadowed[0] == 'rate' else 'reward number'}"
                      f" by; rename the field (with renamed_from) so the formula can tell them apart",
                      code="shadowed_name")
    elif rule.amount is not None:
        yield from _typed(RewardEnv(facts.app, form, facts.types, amount=True), rule.amount,
                          f"{rule.path}.amount", ("number",), "a number, like `amount * rate`")
    if rule.date is not None:
        fdef = form.field(rule.date)
        if fdef is None:
            yield _unknown_field(form, rule.date, f"{rule.path}.date", "the rule dates its rewards by")
        elif _formula_type(facts, fdef) not in DATE_TYPES:
            yield Problem(f"{rule.path}.date", f"field {fdef.key!r} is a {fdef.type} field; a reward is dated "
                          "by a date or datetime field", code="not_a_date")
    if rule.campaign is not None and form.field(rule.campaign) is None:
        yield _unknown_field(form, rule.campaign, f"{rule.path}.campaign", "the rule reads its campaign from")
    if rule.ledger is not None:
        yield from _check_ledger(facts, rule)
    if "per_campaign" in rule.caps and rule.campaign is None:
        yield Problem(f"{rule.path}.caps.per_campaign", "a per_campaign cap needs the campaign of each source "
                      "record: name its field with `campaign:`", code="campaign_required")
    yield from _check_steps(rule)


def _check_customer(facts: AppFacts, rule: RewardRule, form) -> Iterable[Problem]:
    if not isinstance(rule.customer, str):
        return
    fdef = form.field(rule.customer)
    if fdef is None:
        yield _unknown_field(form, rule.customer, f"{rule.path}.customer", "the rule finds the friend by")
        return
    target = fdef.config.get("target") if fdef.type == "relation" else None
    if not isinstance(target, str) or facts.app.form(target) is None:
        yield Problem(f"{rule.path}.customer", f"field {fdef.key!r} is a {fdef.type} field; `customer` names "
                      f"the relation of form {form.key!r} to the customer who bought", code="not_a_relation")
        return
    customers = facts.app.form(target)
    link = customers.field(rule.referrer_field)
    if link is None:
        problem = _unknown_field(customers, rule.referrer_field, f"{rule.path}.referrer_field",
                                 "the referral chain follows")
        problem.suggestion = problem.suggestion or did_you_mean(
            rule.referrer_field, [f.key for f in customers.fields if f.type == "relation"])
        yield problem
    elif link.type != "relation" or link.config.get("target") != customers.key:
        yield Problem(f"{rule.path}.referrer_field", f"field {link.key!r} of form {customers.key!r} must be a "
                      f"relation to {customers.key!r} itself (who referred this customer)",
                      code="not_a_self_relation")
    if rule.account_field is not None:
        account = customers.field(rule.account_field)
        if account is None:
            yield _unknown_field(customers, rule.account_field, f"{rule.path}.account_field",
                                 "the rule finds the beneficiary's login by")
        elif account.type != "member":
            yield Problem(f"{rule.path}.account_field", f"field {account.key!r} of form {customers.key!r} is a "
                          f"{account.type} field; account_field names a member field (the member who is the "
                          "customer, who may then read their own rewards)", code="not_a_user_field",
                          message_zh=f"表单 {customers.key!r} 的字段 {account.key!r} 是 {account.type} 字段；"
                                     "account_field 须为成员字段（即该客户本人的账号，可查看自己的奖励）")


LEDGER_FIELDS = {"entry_id": ("number",), "beneficiary": ("relation",), "amount": ("number",),
                 "status": ("select",)}


def _check_ledger(facts: AppFacts, rule: RewardRule) -> Iterable[Problem]:
    ledger = facts.app.form(rule.ledger)
    if ledger is None:
        yield _unknown_form(facts.app, rule.ledger, f"{rule.path}.ledger")
        return
    for key, types in LEDGER_FIELDS.items():
        fdef = ledger.field(key)
        if fdef is None or fdef.type not in types:
            yield Problem(f"{rule.path}.ledger", f"form {ledger.key!r} mirrors the ledger only with a {types[0]} "
                          f"field {key!r} (the entry's {key.replace('_', ' ')}); add it or name another form",
                          code="ledger_form_incomplete",
                          message_zh=f"表单 {ledger.key!r} 须有 {types[0]} 字段 {key!r} 才能映射奖励台账；请添加该字段或改用其他表单")


def _check_steps(rule: RewardRule) -> Iterable[Problem]:
    starts = [t.start for t in rule.tiers]
    if starts and starts[0] != 1:
        yield Problem(f"{rule.path}.tiers.steps", f"the first tier starts at reward no. {starts[0]}; the rewards "
                      "before it would have no rate: start one tier `from: 1`", code="tiers_gap")
    if len(set(starts)) != len(starts):
        yield Problem(f"{rule.path}.tiers.steps", "two tiers start at the same reward number; give each its own "
                      "`from`", code="duplicate_tier")
    if rule.tiers and rule.amount is not None and "rate" not in _names_read(rule.amount):
        yield Problem(f"{rule.path}.amount", "the rule has tiers but its amount formula does not read `rate`, "
                      "so the tier chosen changes nothing: use rate, e.g. `amount * rate`", code="tiers_unused")
    ats = [m.at for m in rule.milestones]
    if len(set(ats)) != len(ats):
        yield Problem(f"{rule.path}.milestones", "two milestones at the same reward number; merge them",
                      code="duplicate_milestone")


def _names_read(text: str) -> set[str]:
    """The names a formula reads (an unparsable one reads none: its syntax is reported apart)."""
    try:
        return {path[0] for path in parse(text).references}
    except FormulaSyntaxError:
        return set()
