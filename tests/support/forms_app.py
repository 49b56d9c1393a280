"""A small app for the form-page services (runtime/forms): every computed kind a form
page shows live, and one field of every registered type (the `everything` form)."""
import copy

from engine.definition.model import AppDef


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


DEFINITION = {
    "format_version": 1,
    "app": {"key": "desk", "label": L("前台", "Desk")},
    "forms": [
        {"key": "customers", "label": L("客户", "Customers"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
            {"key": "level", "type": "select", "label": L("等级", "Level"), "options": [
                {"value": "vip", "label": L("重要客户", "VIP"), "color": "#f5222d"},
                {"value": "normal", "label": L("普通", "Normal")}]},
            {"key": "credit", "type": "number", "label": L("额度", "Credit"), "precision": 2},
            {"key": "secret", "type": "text", "label": L("内部备注", "Internal note")},
        ]},
        {"key": "orders", "label": L("订单", "Orders"), "title_field": "title",
         "rules": [{"key": "qty_cap", "formula": "qty <= 1000", "fields": ["qty"],
                    "message": L("数量不能超过 1000", "At most 1000")}],
         "fields": [
             {"key": "title", "type": "text", "label": L("标题", "Title"), "required": True, "max_length": 50},
             {"key": "customer", "type": "relation", "label": L("客户", "Customer"), "target": "customers"},
             {"key": "customer_level", "type": "lookup", "label": L("客户等级", "Customer level"),
              "relation": "customer", "field": "level"},
             {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0, "min": 0},
             {"key": "price", "type": "number", "label": L("单价", "Price"), "precision": 2, "unit": "元",
              "default": 10},
             {"key": "amount", "type": "formula", "label": L("金额", "Amount"), "formula": "qty * price",
              "precision": 2},
             {"key": "credit_left", "type": "formula", "label": L("剩余额度", "Credit left"),
              "formula": "customer.credit - amount", "precision": 2},
             {"key": "due", "type": "date", "label": L("到期日", "Due"), "default_formula": "TODAY() + 30"},
             {"key": "bulk_note", "type": "textarea", "label": L("大宗说明", "Bulk note"),
              "visible_if": "qty > 10", "required": True},
             {"key": "internal", "type": "text", "label": L("内部", "Internal")},
             {"key": "handler", "type": "member", "label": L("经办人", "Handler")},
             {"key": "items", "type": "subform", "label": L("明细", "Items"), "max_rows": 20, "fields": [
                 {"key": "product", "type": "text", "label": L("产品", "Product"), "required": True},
                 {"key": "quantity", "type": "number", "label": L("数量", "Quantity"), "precision": 0, "min": 1},
                 {"key": "unit_price", "type": "number", "label": L("单价", "Unit price"), "precision": 2},
                 {"key": "line_total", "type": "formula", "label": L("小计", "Line total"),
                  "formula": "quantity * unit_price", "precision": 2},
             ]},
             {"key": "items_total", "type": "formula", "label": L("明细合计", "Items total"),
              "formula": "SUM(items.line_total)", "precision": 2},
         ]},
        {"key": "payments", "label": L("收款", "Payments"), "fields": [
            {"key": "for_order", "type": "relation", "label": L("订单", "Order"), "target": "orders"},
            {"key": "paid", "type": "number", "label": L("金额", "Paid"), "precision": 2},
            {"key": "covers", "type": "relation", "label": L("涵盖订单", "Covers"), "target": "orders",
             "multiple": True},
            {"key": "covered", "type": "formula", "label": L("涵盖金额", "Covered"),
             "formula": "SUM(covers.amount)", "precision": 2},
        ]},
        {"key": "everything", "label": L("全部类型", "Every type"), "fields": [
            {"key": "text", "type": "text", "label": L("文本", "Text"), "pattern": "[A-Z]+",
             "pattern_message": L("大写字母", "Capitals")},
            {"key": "textarea", "type": "textarea", "label": L("多行", "Textarea")},
            {"key": "address", "type": "address", "label": L("地址", "Address"), "level": "city"},
            {"key": "radio", "type": "radio", "label": L("单选", "Radio"), "options": ["甲", "乙"]},
            {"key": "pick", "type": "select", "label": L("下拉", "Select"),
             "options": [{"value": "a", "label": L("甲", "A"), "color": "red"}]},
            {"key": "checkbox", "type": "checkbox", "label": L("复选", "Checkbox"), "options": ["x", "y"]},
            {"key": "multiselect", "type": "multiselect", "label": L("多选", "Multi"), "options": ["x", "y"],
             "max_selected": 1},
            {"key": "number", "type": "number", "label": L("数字", "Number"), "min": 0, "max": 9},
            {"key": "money", "type": "number", "label": L("金额", "Money"), "unit": "元", "thousands": True},
            {"key": "percent", "type": "number", "label": L("比例", "Share"), "percent": True, "precision": 4},
            {"key": "formula", "type": "formula", "label": L("公式", "Formula"), "formula": "number * 2"},
            {"key": "rollup", "type": "rollup", "label": L("汇总", "Rollup"), "source": "notes", "via": "owner",
             "aggregate": "count"},
            {"key": "phone", "type": "phone", "label": L("电话", "Phone"), "kind": "mobile"},
            {"key": "email", "type": "email", "label": L("邮箱", "Email")},
            {"key": "url", "type": "url", "label": L("网址", "URL")},
            {"key": "idcard", "type": "idcard", "label": L("身份证", "ID card")},
            {"key": "attachment", "type": "attachment", "label": L("附件", "Files"), "max_files": 3,
             "max_size_mb": 5, "accept": [".pdf"]},
            {"key": "image", "type": "image", "label": L("图片", "Images")},
            {"key": "signature", "type": "signature", "label": L("签名", "Signature")},
            {"key": "location", "type": "location", "label": L("定位", "Location")},
            {"key": "member", "type": "member", "label": L("成员", "Member"), "default_current_user": True},
            {"key": "members", "type": "members", "label": L("成员们", "Members"), "max": 3},
            {"key": "department", "type": "department", "label": L("部门", "Department")},
            {"key": "departments", "type": "departments", "label": L("部门们", "Departments")},
            {"key": "relation", "type": "relation", "label": L("订单", "Order"), "target": "orders"},
            {"key": "lookup", "type": "lookup", "label": L("订单金额", "Order amount"), "relation": "relation",
             "field": "amount"},
            {"key": "subform", "type": "subform", "label": L("子表", "Rows"), "fields": [
                {"key": "cell", "type": "text", "label": L("格", "Cell"), "required": True}]},
            {"key": "serial", "type": "serial", "label": L("编号", "Serial"), "pattern": "E{counter:4}"},
            {"key": "switch", "type": "switch", "label": L("开关", "Switch")},
            {"key": "rating", "type": "rating", "label": L("评分", "Rating"), "max": 3},
            {"key": "date", "type": "date", "label": L("日期", "Date"), "min": "2020-01-01"},
            {"key": "datetime", "type": "datetime", "label": L("时间", "Time")},
        ]},
        {"key": "notes", "label": L("便签", "Notes"), "fields": [
            {"key": "body", "type": "text", "label": L("内容", "Body")},
            {"key": "owner", "type": "relation", "label": L("所属", "Owner"), "target": "everything"},
        ]},
    ],
}


def desk_app() -> AppDef:
    return AppDef.from_dict(copy.deepcopy(DEFINITION))


def install_desk(engine) -> AppDef:
    from runtime.apps import apply_app
    app = desk_app()
    apply_app(engine, app)
    return app
