"""Refusals of the permission policy, coded and bilingual."""
from __future__ import annotations

from engine.errors import CodedError
from engine.i18n import register_messages

register_messages({
    "permission_view_denied": {
        "zh": "你没有查看表单“{form}”记录的权限；请联系管理员授权",
        "en": "You may not view the records of form '{form}'; ask an administrator for access"},
    "permission_create_denied": {
        "zh": "你没有在表单“{form}”中新建记录的权限；请联系管理员授权",
        "en": "You may not create records in form '{form}'; ask an administrator for access"},
    "permission_edit_denied": {
        "zh": "你没有修改表单“{form}”记录的权限；请联系管理员授权",
        "en": "You may not edit the records of form '{form}'; ask an administrator for access"},
    "permission_delete_denied": {
        "zh": "你没有删除（或恢复、彻底删除）表单“{form}”记录的权限；请联系管理员授权",
        "en": "You may not delete, restore or purge the records of form '{form}'; "
              "ask an administrator for access"},
    "permission_import_denied": {
        "zh": "你没有向表单“{form}”导入数据的权限；请联系管理员授权",
        "en": "You may not import records into form '{form}'; ask an administrator for access"},
    "permission_export_denied": {
        "zh": "你没有导出表单“{form}”数据的权限；请联系管理员授权",
        "en": "You may not export the records of form '{form}'; ask an administrator for access"},
    "permission_history_denied": {
        "zh": "你没有查看表单“{form}”记录修改历史的权限；请联系管理员授权",
        "en": "You may not see the change history of the records of form '{form}'; "
              "ask an administrator for access"},
    "permission_hidden_filter": {
        "zh": "不能按字段“{field}”筛选（{path}）：你没有查看表单“{form}”中这个字段的权限；请从筛选条件中去掉它",
        "en": "Cannot filter by the field '{field}' ({path}): you may not see this field of form "
              "'{form}'; leave it out of the filter"},
    "permission_hidden_sort": {
        "zh": "不能按字段“{field}”排序（{path}）：你没有查看表单“{form}”中这个字段的权限；请换一个排序字段",
        "en": "Cannot sort by the field '{field}' ({path}): you may not see this field of form "
              "'{form}'; sort by another field"},
    "permission_hidden_fields": {
        "zh": "不能读取字段“{field}”（{path}）：你没有查看表单“{form}”中这个字段的权限；请不要选择它",
        "en": "Cannot read the field '{field}' ({path}): you may not see this field of form "
              "'{form}'; leave it out of the fields asked for"},
    # a FieldIssue of a create or update, next to the other issues of the record
    "permission_read_only": {
        "zh": "你没有修改这个字段的权限；请不要填写它",
        "en": "You may not set this field; leave it out"},
})


class PermissionDenied(CodedError):
    """The actor may not do this (an action on a form, or reading a field it may not see).
    Records outside the actor's row scope are not refused with this but answer
    NotFound, as if they did not exist."""
