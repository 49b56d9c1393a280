"""The Flask app factory.

    create_app()                         # configuration from the environment (web/config.py)
    create_app({"DATABASE_URL": ...})    # a test, or an embedding: these settings win

    gunicorn -w 4 -b 127.0.0.1:5000 'web.app:create_app()'

Blueprints by area: web/health.py (/healthz), web/auth (sign-in, sign-out, language),
web/account (password, API keys), web/pages (home), web/tables (data tables, saved views, bulk actions, export,
recycle bin), web/records (record pages, comments), web/forms (the form page), web/files (/api/v1/files),
web/admin (workspace administration), web/imports (the import wizard), web/inbox (tasks, notifications),
web/vendor.py (npm libraries), web/hooks (incoming webhooks of automations), web/referrals (the public share
links /r/<code>: landing page, posters; the referral analytics page), web/portal (the referrer's portal, public,
and the staff's portal links),
web/api (the REST API under /api/v1, its document and its docs page; web/api/tasks.py: the workflow tasks).
Each request: the page language (web/i18n.py), then who is signed in
(web/auth/identity.py), then the CSRF check (web/auth/csrf.py); errors of every kind
are rendered by web/errors.py. Views reach the user and the runtime through
web/context.py only.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system
from runtime.auth import Rate, RateLimiter
from runtime.permissions import ROLE_POLICY
from web import config as web_config
from web import health, vendor
from web.account.views import bp as account_bp
from web.api.dashboards import bp as api_dashboards_bp
from web.api.referrals import bp as api_referrals_bp
from web.api.rewards import bp as api_rewards_bp
from web.dashboards.views import bp as dashboards_bp
from web.api.docs import bp as api_docs_bp
from web.api.tasks import bp as api_tasks_bp
from web.inbox.views import bp as inbox_bp, topbar_counts
from web.api.views import bp as api_bp
from web.admin.views import bp as admin_bp
from web.auth.csrf import check_csrf, csrf_field, csrf_token
from web.auth.identity import load_identity
from web.auth.views import bp as auth_bp
from web.files.views import bp as files_bp
from web.hooks.views import bp as hooks_bp
from web.forms.views import bp as forms_bp
from web.context import EXTENSION, WebState, current_actor, page_lang, release_connection
from web.errors import register_error_handlers
from web.formatting import init_formatting
from web.i18n import init_i18n
from web.imports.views import allow_large_upload
from web.imports.views import bp as imports_bp
from web.pages.views import bp as pages_bp
from web.portal.staff import bp as portal_staff_bp
from web.portal.views import bp as portal_bp
from web.records.views import bp as records_bp
from web.referrals.analytics import bp as referral_analytics_bp
from web.referrals.views import bp as referrals_bp
from web.tables.views import bp as tables_bp

BLUEPRINTS = (health.bp, vendor.bp, auth_bp, account_bp, pages_bp, tables_bp, records_bp, forms_bp, files_bp,
              api_bp, api_tasks_bp, api_dashboards_bp, api_referrals_bp, api_rewards_bp, api_docs_bp, admin_bp,
              imports_bp, inbox_bp, dashboards_bp, referrals_bp, referral_analytics_bp, hooks_bp, portal_bp,
              portal_staff_bp)


class SessionCookies(SecureCookieSessionInterface):
    """Session cookies marked Secure when the request came over HTTPS (or always, with
    FORMWORK_SECURE_COOKIES=1); HttpOnly and SameSite=Lax come from the config."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("FORMWORK_SECURE_COOKIES")) or request.is_secure


def rate_limiter(config) -> RateLimiter | None:
    """The API's limiter from FORMWORK_API_RATE ("off": none), counting in REDIS_URL if set."""
    rate = str(config.get("FORMWORK_API_RATE") or "off").strip()
    if rate.lower() == "off":
        return None
    return RateLimiter(Rate.parse(rate), redis_url=config.get("REDIS_URL"),
                       redis_prefix=config.get("FORMWORK_REDIS_PREFIX") or "formwork:")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(web_config.defaults())
    overrides = dict(config or {})
    if not {"DATABASE_URL", "SECRET_KEY"} <= overrides.keys():
        app.config.update(web_config.from_environment())
    app.config.update(overrides)
    app.session_interface = SessionCookies()
    engine = make_engine(app.config["DATABASE_URL"])
    upgrade_system(engine)
    app.extensions[EXTENSION] = WebState(engine=engine, policy=app.config.get("FORMWORK_POLICY", ROLE_POLICY),
                                         rate_limiter=rate_limiter(app.config))
    init_i18n(app)
    init_formatting(app)
    app.before_request(load_identity)
    app.before_request(allow_large_upload)      # before the CSRF check reads the form
    app.before_request(check_csrf)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field,
                                 current_actor=current_actor, page_lang=page_lang,
                                 topbar_counts=topbar_counts)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.teardown_request(release_connection)
    return app
