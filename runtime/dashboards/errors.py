"""Refusals of the dashboard service, coded and bilingual."""
from __future__ import annotations

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages

register_messages({
    "dashboard_not_found": {
        "zh": "应用“{app}”没有仪表盘“{dashboard}”{hint}",
        "en": "App '{app}' has no dashboard '{dashboard}'{hint}"},
    "dashboard_control_invalid": {
        "zh": "筛选项“{control}”的值有误：{detail}",
        "en": "The value of control '{control}' is wrong: {detail}"},
    "dashboard_control_unknown": {
        "zh": "仪表盘“{dashboard}”没有筛选项“{control}”；可用的筛选项：{known}",
        "en": "Dashboard '{dashboard}' has no control '{control}'; its controls are {known}"},
    "dashboard_widget_not_found": {
        "zh": "仪表盘“{dashboard}”没有组件“{widget}”{hint}",
        "en": "Dashboard '{dashboard}' has no widget '{widget}'{hint}"},
    "dashboard_widget_hidden_field": {
        "zh": "这个组件读取字段“{field}”（表单“{form}”），你没有查看它的权限；请联系管理员",
        "en": "This widget reads the field '{field}' of form '{form}', which you may not see; "
              "ask an administrator"},
})


class DashboardNotFound(CodedError, NotFound):
    def __init__(self, app: str, dashboard: str, hint: str = ""):
        super().__init__("dashboard_not_found", app=app, dashboard=dashboard, hint=hint)


class DashboardControlError(CodedError):
    def __init__(self, code: str, **params):
        super().__init__(code, **params)


class DashboardWidgetNotFound(CodedError, NotFound):
    def __init__(self, dashboard: str, widget: str, hint: str = ""):
        super().__init__("dashboard_widget_not_found", dashboard=dashboard, widget=widget, hint=hint)
