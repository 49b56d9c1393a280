"""/admin/apps: the installed apps and each form's permission sets (read-only), and who
holds each role, from the flagship's definition."""
from __future__ import annotations

from runtime.session import Session
from tests.support.web import add_user, install_flagship


def test_the_flagships_sets_are_laid_out_per_form(admin, db):
    install_flagship(db)
    li = add_user(db, "li.lei", "李雷")
    with Session(db).write() as uow:
        uow.org.roles.create("sales", "销售")
        uow.org.roles.assign("sales", [li])
    listed = admin.get("/admin/apps").get_data(as_text=True)
    assert "/admin/apps/crm_referral" in listed
    body = admin.get("/admin/apps/crm_referral").get_data(as_text=True)
    customers = body.split('<code class="muted">customers</code>')[1].split("</section>")[0]
    assert "sales" in customers and "当前用户" in customers          # the filter in words: owner = $me
    assert "✓" in customers
    holders = body.split("perm-form")[-1]
    assert "李雷" in holders                                        # who holds `sales`
    assert "crm_manager" in body                                    # the app's administrators


def test_an_app_that_is_not_installed_is_404(admin):
    assert admin.get("/admin/apps/nope").status_code == 404
