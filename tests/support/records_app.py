"""A small app used by the record tests: customers, orders with items, tags."""
from engine.definition.model import AppDef


def L(zh, en=None):
    return {"zh": zh, "en": en or zh}


DEFINITION = {
    "format_version": 1,
    "app": {"key": "shop", "label": L("商店", "Shop")},
    "forms": [
        {"key": "customers", "label": L("客户", "Customers"), "title_field": "name", "fields": [
            {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
            {"key": "code", "type": "text", "label": L("编码", "Code"), "unique": True, "max_length": 20},
            {"key": "credit", "type": "number", "label": L("额度", "Credit"), "precision": 2,
             "min": 0, "default": 100},
            {"key": "note", "type": "textarea", "label": L("备注", "Note")},
            {"key": "referrer", "type": "relation", "label": L("推荐人", "Referrer"),
             "target": "customers"},
        ]},
        {"key": "tags", "label": L("标签", "Tags"), "fields": [
            {"key": "name", "type": "text", "label": L("名称", "Name"), "required": True},
        ]},
        {"key": "orders", "label": L("订单", "Orders"), "fields": [
            {"key": "title", "type": "text", "label": L("标题", "Title"), "required": True},
            {"key": "customer", "type": "relation", "label": L("客户", "Customer"),
             "target": "customers", "on_delete": "restrict"},
            {"key": "customer_code", "type": "lookup", "label": L("客户编码", "Customer code"),
             "relation": "customer", "field": "code"},
            {"key": "tags", "type": "relation", "label": L("标签", "Tags"), "target": "tags",
             "multiple": True, "on_delete": "set_null"},
            {"key": "amount", "type": "number", "label": L("金额", "Amount"), "precision": 2},
            {"key": "items", "type": "subform", "label": L("明细", "Items"), "max_rows": 50, "fields": [
                {"key": "product", "type": "text", "label": L("产品", "Product"), "required": True},
                {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0, "min": 1},
            ]},
        ]},
    ],
}


def shop_app() -> AppDef:
    import copy
    return AppDef.from_dict(copy.deepcopy(DEFINITION))


def install_shop(engine) -> AppDef:
    from runtime.apps import apply_app
    app = shop_app()
    apply_app(engine, app)
    return app
