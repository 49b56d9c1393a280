from tests.support.table_pages import *
def test_smoke(db):
    app, crm = crm_site(db)
    add_customers(crm, [{"name": "上海明达", "level": "vip", "owner": crm.li.user_id, "credit": 5}])
    c = signed_in(app)
    r = c.get("/apps/crm/forms/customers")
    print(r.status_code); html = r.get_data(as_text=True)
    assert r.status_code == 200, html[-3000:]
    assert "上海明达" in html
    r = c.get("/apps/crm/forms/customers/records/1")
    assert r.status_code == 200, r.get_data(as_text=True)[-3000:]
    r = c.get("/apps/crm/forms/customers/export?format=csv")
    assert r.status_code == 200, r.get_data(as_text=True)[-3000:]
    print(r.get_data(as_text=True))
    r = c.get("/apps/crm/forms/customers/trash")
    assert r.status_code == 200, r.get_data(as_text=True)[-3000:]
