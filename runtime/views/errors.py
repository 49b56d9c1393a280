"""Refusals and warnings of saved views and the data table, coded and bilingual.

A field the reader may not see is never named in a warning (its key is what the
definition hides); a field given by the caller in a request is named back to them."""
from __future__ import annotations

from engine.errors import CodedError, NotFound
from engine.i18n import register_messages, render

register_messages({
    "view_needs_user": {
        "zh": "只有登录的成员才能保存视图；系统操作没有自己的视图",
        "en": "Only a signed-in member has saved views; the system has none"},
    "view_not_found": {
        "zh": "找不到视图 #{view}（它不存在，或者不是你的视图）",
        "en": "View #{view} does not exist or is not yours"},
    "view_name_invalid": {
        "zh": "视图名称不能为空，且最多 {max} 个字符；请换一个名称",
        "en": "A view's name must be 1 to {max} characters; choose another name"},
    "view_name_taken": {
        "zh": "表单“{form}”中已经有名为“{name}”的视图；请换一个名称",
        "en": "You already have a view named '{name}' of form '{form}'; choose another name"},
    "view_filter_invalid": {
        "zh": "筛选条件有误（{path}）：{detail}；请修改这一条件",
        "en": "The filter is wrong at {path}: {detail}; correct that condition"},
    "view_sort_invalid": {
        "zh": "排序有误（{path}）：{detail}；请修改排序",
        "en": "The sort is wrong at {path}: {detail}; correct it"},
    "view_columns_invalid": {
        "zh": "列（columns）须是字段键的列表，例如 [\"name\", \"level\"]",
        "en": "columns must be a list of field keys, e.g. [\"name\", \"level\"]"},
    "view_column_unknown": {
        "zh": "列 {path} 有误：表单“{form}”没有字段“{field}”{hint}；请从列中去掉它",
        "en": "Column {path}: form '{form}' has no field '{field}'{hint}; leave it out of the columns"},
    "view_column_hidden": {
        "zh": "列 {path} 有误：你没有查看字段“{field}”的权限；请从列中去掉它",
        "en": "Column {path}: you may not see the field '{field}'; leave it out of the columns"},
    "view_column_twice": {
        "zh": "列 {path} 有误：字段“{field}”已经在前面出现过；每个字段只列一次",
        "en": "Column {path}: the field '{field}' is already listed; list each field once"},
    "view_page_size_invalid": {
        "zh": "每页条数须是 1 到 {max} 之间的整数，而不是 {value}",
        "en": "The page size must be a whole number from 1 to {max}, not {value}"},
    "view_field_hidden": {
        "zh": "{where}有误：你没有查看字段“{field}”的权限；请去掉它",
        "en": "{where}: you may not see the field '{field}'; leave it out"},
    "table_count_invalid": {
        "zh": "count 须是 auto、always 或 none，而不是“{value}”",
        "en": "count is one of auto, always or none, not '{value}'"},
    # warnings of a saved view that no longer fits the app or the reader
    "view_column_dropped_removed": {
        "zh": "列“{field}”已不在表单中，已从视图中略去",
        "en": "The column '{field}' is no longer in the form and was left out of the view"},
    "view_column_dropped_hidden": {
        "zh": "视图中有一列你已无权查看，已略去",
        "en": "A column of the view that you may no longer see was left out"},
    "view_condition_dropped": {
        "zh": "筛选条件 {path} 已不适用（{detail}），已略去",
        "en": "The filter condition at {path} no longer applies ({detail}) and was left out"},
    "view_condition_dropped_hidden": {
        "zh": "视图中有一个筛选条件读取你已无权查看的字段，已略去",
        "en": "A filter condition of the view reads a field you may no longer see and was left out"},
    "view_sort_dropped": {
        "zh": "排序 {path} 已不适用（{detail}），已略去",
        "en": "The sort at {path} no longer applies ({detail}) and was left out"},
    "view_sort_dropped_hidden": {
        "zh": "视图中有一个排序字段你已无权查看，已略去",
        "en": "A sort field of the view that you may no longer see was left out"},
})


class ViewError(CodedError):
    """A view (or a data-table request) that cannot be used as given."""


class ViewNotFound(CodedError, NotFound):
    def __init__(self, view_id):
        super().__init__("view_not_found", view=view_id)


def warning(code: str, lang: str, **params) -> dict:
    """A warning of a loaded view: {"code", "params", "message"} in `lang`."""
    return {"code": code, "params": params, "message": render(code, params, lang)}
