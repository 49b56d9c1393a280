"""The refusals of the org model, coded and bilingual.

Values a person typed (an account, a name, an email...) are refused with
`RecordValidationError` and one `FieldIssue` per problem, as records are, so a
form can show every problem next to its input. References that do not resolve
raise `OrgNotFound` (with a "did you mean"); changes that other data forbids
raise `OrgConflict`.
"""
from __future__ import annotations

from engine.errors import CodedError, IntegrityProblem, NotFound
from engine.i18n import register_messages

register_messages({
    # references
    "org_user_not_found": {"zh": "找不到用户“{ref}”", "en": "No user '{ref}'"},
    "org_department_not_found": {"zh": "找不到部门“{ref}”", "en": "No department '{ref}'"},
    "org_role_not_found": {"zh": "找不到角色“{ref}”", "en": "No role '{ref}'"},
    "org_user_ambiguous": {
        "zh": "有 {count} 个用户名为“{ref}”（账号：{accounts}）；请用账号或编号指明",
        "en": "{count} users are named '{ref}' (accounts: {accounts}); name one by account or id"},
    "org_department_ambiguous": {
        "zh": "有 {count} 个部门名为“{ref}”（{paths}）；请写完整路径或编号",
        "en": "{count} departments are named '{ref}' ({paths}); give the full path or the id"},
    "org_role_ambiguous": {
        "zh": "有 {count} 个角色名为“{ref}”（{keys}）；请用角色标识指明",
        "en": "{count} roles are named '{ref}' ({keys}); name one by its key"},
    # conflicts with other data
    "org_account_taken": {"zh": "账号“{account}”已被使用", "en": "The account '{account}' is already taken"},
    "org_role_key_taken": {"zh": "角色标识“{key}”已被使用", "en": "The role key '{key}' is already taken"},
    "org_department_name_taken": {
        "zh": "“{parent}”下已有名为“{name}”的部门", "en": "'{parent}' already has a department named '{name}'"},
    "org_department_cycle": {
        "zh": "不能把部门“{department}”移到“{target}”之下：“{target}”是它自己或它的下级部门",
        "en": "Cannot move '{department}' under '{target}': '{target}' is the department itself "
              "or one of its sub-departments"},
    "org_department_too_deep": {
        "zh": "部门层级最多 {max} 级；这一操作会形成 {depth} 级",
        "en": "Departments nest at most {max} levels deep; this would make {depth}"},
    "org_department_not_empty": {
        "zh": "部门“{department}”下还有 {children} 个子部门和 {members} 名成员；请先移走或删除它们",
        "en": "The department '{department}' still has {children} sub-department(s) and {members} "
              "member(s); move or remove them first"},
    "org_head_inactive": {
        "zh": "用户“{account}”已停用，不能担任部门主管；请先启用",
        "en": "The user '{account}' is deactivated and cannot head a department; activate them first"},
    "org_role_not_empty": {
        "zh": "角色“{role}”还有 {members} 名成员；请先移除成员，或确认强制删除",
        "en": "The role '{role}' still has {members} member(s); unassign them first, or force the deletion"},
    "org_too_many": {"zh": "一次最多处理 {max} 项，实际 {count} 项；请分批",
                     "en": "At most {max} items per call, got {count}; split the batch"},
    # values a person typed
    "org_account_invalid": {
        "zh": "账号“{value}”无效：须为 2–64 个字符，以字母开头，只含字母、数字和 . _ - @",
        "en": "The account '{value}' is invalid: use 2-64 characters, starting with a letter, "
              "made of letters, digits and . _ - @"},
    "org_name_invalid": {
        "zh": "名称不能含换行、制表符等控制字符", "en": "A name cannot contain line breaks, tabs or other control characters"},
    "org_name_too_long": {"zh": "名称最多 {max} 个字符（现有 {length} 个）",
                          "en": "A name has at most {max} characters (this one has {length})"},
    "org_department_name_slash": {
        "zh": "部门名称不能含“/”：它用来分隔路径（如 总部/销售部）",
        "en": "A department name cannot contain '/': it separates the levels of a path (like 总部/销售部)"},
    "org_password_too_short": {"zh": "密码至少 {min} 个字符", "en": "A password has at least {min} characters"},
    "org_password_too_long": {"zh": "密码最多 {max} 个字符", "en": "A password has at most {max} characters"},
    "org_password_weak": {"zh": "密码不能与账号相同，也不能全是同一个字符",
                          "en": "A password cannot equal the account or repeat a single character"},
    "org_role_key_invalid": {
        "zh": "角色标识“{value}”无效：须为 1–64 个小写字母、数字或下划线，以字母开头（如 sales_manager）",
        "en": "The role key '{value}' is invalid: use 1-64 lowercase letters, digits or underscores, "
              "starting with a letter (like sales_manager)"},
})


class OrgNotFound(CodedError, NotFound):
    """A user, department or role named by the caller does not exist (or is ambiguous)."""


class OrgConflict(CodedError, IntegrityProblem):
    """A change refused because of other org data (a taken account, a cycle, members left...)."""
