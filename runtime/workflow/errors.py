"""The refusals of the workflow runtime, each in Chinese and English, saying what was
wrong and what to do instead."""
from __future__ import annotations

from engine.errors import CodedError, FormworkError, NotFound
from engine.i18n import register_messages
from runtime.permissions.errors import PermissionDenied

register_messages({
    "wf_app_not_installed": {
        "zh": "应用“{app}”尚未安装；请先运行 `formwork apply 文件` 安装它",
        "en": "app '{app}' is not installed; run `formwork apply FILE` first"},
    "wf_no_workflow": {
        "zh": "表单“{form}”没有流程“{workflow}”", "en": "form '{form}' has no workflow '{workflow}'"},
    "wf_none_on_form": {
        "zh": "表单“{form}”没有定义流程；在定义的 workflows: 中添加一个",
        "en": "form '{form}' has no workflow; add one under `workflows:` in its definition"},
    "wf_task_not_found": {"zh": "任务 #{task} 不存在", "en": "task #{task} does not exist"},
    "wf_instance_not_found": {"zh": "流程实例 #{instance} 不存在", "en": "workflow instance #{instance} does not exist"},
    "wf_task_handled": {
        "zh": "任务 #{task} 已经被处理（{status}）；请刷新后查看最新状态",
        "en": "task #{task} has already been handled ({status}); reload to see where the flow is now"},
    "wf_not_running": {
        "zh": "流程实例 #{instance} 已结束（{status}），不能再操作",
        "en": "workflow instance #{instance} is over ({status}); nothing more can be done on it"},
    "wf_not_assignee": {
        "zh": "任务 #{task} 不是分配给你的；只有处理人（或管理员）可以操作",
        "en": "task #{task} is not assigned to you; only its assignee (or an admin) can act on it"},
    "wf_unknown_action": {
        "zh": "未知的操作“{action}”；可用的操作：{actions}",
        "en": "unknown action '{action}'; the actions are: {actions}"},
    "wf_action_not_here": {
        "zh": "“{action}”不适用于{kind}任务", "en": "'{action}' does not apply to a {kind} task"},
    "wf_self_approval": {
        "zh": "不能审批自己提交的记录（节点“{node}”不允许自审批）",
        "en": "you cannot approve your own submission: node '{node}' does not allow self-approval"},
    "wf_signature_needed": {
        "zh": "节点“{node}”要求签名：请附上签名文件", "en": "node '{node}' asks for a signature: give a signature file"},
    "wf_required_fields": {
        "zh": "请先填写必填字段：{labels}（{fields}）", "en": "fill in the required fields first: {fields} ({labels_en})"},
    "wf_field_not_editable": {
        "zh": "在节点“{node}”不能修改字段“{field}”", "en": "field '{field}' cannot be changed at node '{node}'"},
    "wf_withdraw_too_late": {
        "zh": "不能撤回：{who}已经处理过", "en": "cannot withdraw: {who} has acted on it already"},
    "wf_withdraw_not_submitter": {
        "zh": "只有提交人可以撤回", "en": "only the submitter can withdraw"},
    "wf_admin_only": {"zh": "只有管理员可以{action}", "en": "only an admin can {action}"},
    "wf_return_target": {
        "zh": "不能退回到“{node}”：可以退回到 {choices}", "en": "cannot return to '{node}'; return to one of: {choices}"},
    "wf_needs_user": {
        "zh": "“{action}”需要指定一个人：在成员选择框中选一位（命令行和 API 用账号 user）",
        "en": "'{action}' needs a person: pick one in the member box (the API and CLI take an account as user)"},
    "wf_unknown_user": {
        "zh": "找不到账号“{account}”", "en": "no user has the account '{account}'"},
    "wf_unknown_member": {
        "zh": "找不到成员 {member}：可能已被删除；请在成员选择框中重新选择",
        "en": "there is no member {member}: they may have been removed; pick the person again in the member box"},
    "wf_inactive_member": {
        "zh": "成员 {member} 已停用，不能接手任务；请选择一位在职的成员",
        "en": "member {member} is deactivated and cannot take the task; pick an active member"},
    "wf_bad_cursor": {
        "zh": "翻页参数 cursor 无效（可能已过期或被改动）；请从第一页重新开始",
        "en": "the page cursor is not valid (it may be old or altered); start again from the first page"},
    "wf_no_approver_stop": {
        "zh": "节点“{node}”找不到处理人，流程已停止：{message}",
        "en": "no one was found to handle node '{node}'; the flow stopped: {message}"},
    "wf_formula_error": {
        "zh": "自动步骤的公式出错（{error}）：请检查流程定义中 set 的公式",
        "en": "an automated step's formula gives an error ({error}); check the formulas under `set:`"},
    "wf_choose_approvers": {
        "zh": "节点“{node}”的处理人由提交人选择：启动时请选择", "en": "node '{node}' is handled by people the "
        "submitter chooses: choose them when starting (chosen={{'{node}': [accounts]}})"},
})


class WorkflowNotFound(CodedError, NotFound):
    pass


class TaskConflict(CodedError, FormworkError):
    """The task or instance changed under the caller (another approver acted first)."""


class WorkflowRefused(CodedError, FormworkError):
    pass


class WorkflowDenied(PermissionDenied):
    pass
