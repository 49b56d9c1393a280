"""Every form of the flagship app, seeded with sample data, opens as a data table, as
its export and as the record page of its first record (every field type shown)."""
from __future__ import annotations

from runtime.seed import seed_app
from tests.support.web import add_user, install_flagship, make_app, sign_in


def test_every_flagship_form_table_export_and_record_page(db):
    flagship = install_flagship(db)
    seed_app(db, "crm_referral", 1)
    add_user(db, "boss", "老板", is_admin=True)
    app = make_app(db)
    client = app.test_client()
    sign_in(client, "boss")
    opened = []
    for form in flagship.forms:
        base = f"/apps/crm_referral/forms/{form.key}"
        table = client.get(base)
        assert table.status_code == 200, (form.key, table.get_data(as_text=True)[-1500:])
        rows = client.get(f"{base}/table.json?limit=1").get_json()["rows"]
        for fmt in ("xlsx", "csv"):
            assert client.get(f"{base}/export?format={fmt}").status_code == 200, (form.key, fmt)
        assert client.get(f"{base}/trash").status_code == 200, form.key
        if rows:
            page = client.get(f"{base}/records/{rows[0]['id']}")
            assert page.status_code == 200, (form.key, page.get_data(as_text=True)[-1500:])
            opened.append(form.key)
    assert {"customers", "leads", "opportunities", "tickets"} <= set(opened), opened   # seeded at scale 1
    app.extensions["formwork"].engine.dispose()
