"""The friend's side of a share link (docs/referrals.md, "Share links", "Landing page and
consent"): what the landing page of a code shows, and the referral its form creates.

    found = find_share(uow, "SPR25-TJ000123", app_key=None)   # (app key, ShareCode) | None
    page = landing(uow, app_key, share, today=day)            # Landing: state, campaign, masked referrer
    result = submit(uow, app_key, share, FriendForm(...), visitor=..., ip=..., user_agent=...)

Which app: the one named by the caller (the web app's FORMWORK_REFERRAL_APP), else the
installed apps that declare a referral programme, in key order, the first whose
campaigns and customers the code names.

`submit` creates the referral record through the app's record service (the field types
validate the phone and email, the definition's rules run, the record events reach the
history, fraud checks, automations and rewards like any record's), acting as the unit of
work's actor (the web app: the system, as nobody is signed in). Its referrer, campaign,
code and channel come from attribution (runtime/referrals/attribution.py): the visitor's
first or last touch in the campaign within the window, else the code of the page. A
friend whose phone is already referred in the campaign is not entered twice: the
existing referral is answered (a double submit sees the same thank-you page). Problems
are raised as one RecordValidationError whose issues are named by the form's parts
(friend_name, friend_phone, friend_email, consent), so a page shows each beside its input.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from engine.compiled.app import App
from engine.definition.model import Label
from engine.errors import CodedError, FieldIssue, NotFound, RecordValidationError
from engine.i18n import register_messages
from engine.referrals.model import ReferralProgramme
from engine.storage.types import utcnow
from engine.workspace import workspace_timezone
from runtime.apps import installed_apps
from runtime.referrals.attribution import Touch, attributed_touch, record_touch
from runtime.referrals.codes import ShareCode, resolve
from runtime.referrals.compiled import programme_for
from runtime.records.validation import RecordCleaner

FORM_PARTS = ("friend_name", "friend_phone", "friend_email", "consent")

register_messages({
    "referral_consent_required": {
        "zh": "请勾选同意：只有在您同意后，我们才能保存您的信息并与您联系",
        "en": "Tick the consent box: we may keep your details and contact you only once you agree"},
    "referral_code_unknown": {
        "zh": "推荐码“{code}”不存在：请核对链接或向推荐您的朋友重新索取",
        "en": "The referral code '{code}' does not exist: check the link or ask your friend for it again"},
    "referral_campaign_closed": {
        "zh": "活动“{campaign}”已结束，暂不接受新的推荐",
        "en": "The campaign '{campaign}' has ended and takes no more referrals"},
})


class ShareNotFound(CodedError, NotFound):
    def __init__(self, code: str):
        super().__init__("referral_code_unknown", code=code[:64])


class CampaignClosed(CodedError):
    def __init__(self, campaign: str):
        super().__init__("referral_campaign_closed", campaign=campaign)


@dataclass(frozen=True)
class Landing:
    """What the landing page of a code shows. `state`: open, ended (the status is not an
    open one, or the last day passed) or not_started."""
    share: ShareCode
    state: str
    campaign_name: str
    rules: str
    poster_file_id: int | None
    referrer_masked: str
    consent_purpose: Label | None
    starts_on: date | None
    ends_on: date | None

    @property
    def is_open(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class FriendForm:
    name: str = ""
    phone: str = ""
    email: str = ""
    consent: bool = False


@dataclass(frozen=True)
class Intake:
    record_id: int
    created: bool          # False: the friend was already referred in the campaign (answered again)
    referrer_id: int
    channel: str           # canonical: link | qr


def mask_name(name: str | None) -> str:
    """The referrer's name as a stranger may see it: the first character and a star per
    following one, at most three ("张*", "欧阳**", "J***"); "*" for no name."""
    text = (name or "").strip()
    if not text:
        return "*"
    first = text.split()[0] if not _cjk(text[0]) else text
    return first[0] + "*" * max(1, min(3, len(first) - 1))


def _cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def referral_apps(uow) -> list[str]:
    """The keys of the installed apps that declare a referral programme, in key order."""
    found = []
    for row in installed_apps(uow.conn):
        app = uow.installed(row["key"])
        if app is not None and programme_for(app) is not None:
            found.append(row["key"])
    return found


def find_share(uow, code: str, *, app_key: str | None = None) -> tuple[str, ShareCode] | None:
    """The app and share code `code` names (see the module's docstring), or None."""
    for key in [app_key] if app_key else referral_apps(uow):
        app = uow.installed(key)
        if app is None or programme_for(app) is None:
            continue
        share = resolve(uow.conn, app, code)
        if share is not None:
            return key, share
    return None


def today() -> date:
    return utcnow().astimezone(workspace_timezone()).date()


def landing(uow, app_key: str, share: ShareCode, *, on: date | None = None) -> Landing:
    """The campaign and the masked referrer of a resolved code, and whether the campaign
    takes referrals on the day `on` (default today in the workspace's zone)."""
    records = uow.records(app_key)
    programme = _programme(records.app)
    campaign = records.get(programme.campaigns.form, share.campaign_id)["fields"]
    referrer = records.get(programme.customers.form, share.referrer_id)["fields"]
    part = lambda mapping, values, name: values.get(mapping[name]) if mapping[name] else None  # noqa: E731
    starts_on = part(programme.campaigns, campaign, "starts_on")
    ends_on = part(programme.campaigns, campaign, "ends_on")
    status = part(programme.campaigns, campaign, "status")
    day = on or today()
    if programme.campaigns["status"] and status not in programme.open_statuses:
        state = "ended"
    elif ends_on is not None and ends_on < day:
        state = "ended"
    elif starts_on is not None and starts_on > day:
        state = "not_started"
    else:
        state = "open"
    poster = part(programme.campaigns, campaign, "poster")
    poster_id = poster[0] if isinstance(poster, list) and poster else poster if isinstance(poster, int) else None
    return Landing(share=share, state=state, campaign_name=str(campaign.get(_title(records.app, programme)) or ""),
                   rules=str(part(programme.campaigns, campaign, "rules") or ""), poster_file_id=poster_id,
                   referrer_masked=mask_name(part(programme.customers, referrer, "name")),
                   consent_purpose=programme.consent_purpose, starts_on=starts_on, ends_on=ends_on)


def _title(app: App, programme: ReferralProgramme) -> str:
    form = app.require_form(programme.campaigns.form)
    return getattr(form, "title_field", None) or "name"


def _programme(app: App) -> ReferralProgramme:
    programme = programme_for(app)
    if programme is None:
        raise LookupError(f"app {app.key!r} declares no referral programme (a `referrals` block, docs/referrals.md)")
    return programme


def submit(uow, app_key: str, share: ShareCode, form: FriendForm, *, visitor: str | None, ip: str | None,
           at: datetime | None = None, on: date | None = None) -> Intake:
    """The referral of the friend who filled in the landing form of `share` (see the
    module's docstring). Raises CampaignClosed when the campaign takes no referrals,
    RecordValidationError (issues named by FORM_PARTS) when the form is not right."""
    records = uow.records(app_key)
    app = records.app
    programme = _programme(app)
    page = landing(uow, app_key, share, on=on)
    if not page.is_open:
        raise CampaignClosed(page.campaign_name)
    now = at or utcnow()
    touch = attributed_touch(uow.conn, app, share.campaign_id, visitor, at=now) or \
        Touch(share.referrer_id, share.campaign_id, share.code, "link", now)
    fields = programme.referrals
    values = {fields["referrer"]: touch.referrer_id, fields["campaign"]: touch.campaign_id,
              fields["friend_name"]: form.name.strip(), fields["friend_phone"]: form.phone.strip(),
              fields["consent"]: bool(form.consent)}
    optional = {"friend_email": form.email.strip() or None, "code": touch.code,
                "channel": programme.channel_value(touch.channel), "client_ip": (ip or None) and ip[:45],
                "device": visitor, "consent_at": now if form.consent else None}
    values.update({fields[part]: value for part, value in optional.items() if fields[part] and value is not None})
    parts = {key: part for part, key in fields.fields.items()}
    referral_form = app.require_form(fields.form)
    access = records.access(referral_form)
    cleaned = records.clean_input(RecordCleaner(app, referral_form, records.ctx.for_form(app.tables, fields.form)),
                                  access, values, creating=True)
    issues = [_named(issue, parts) for issue in cleaned.issues]
    if not form.consent:
        issues.append(FieldIssue("consent", "referral_consent_required"))
    if issues:
        raise RecordValidationError(_one_per_part(issues))
    phone = cleaned.values[fields["friend_phone"]]
    _lock(uow.conn, app.key, touch.campaign_id, phone)
    existing = _already_referred(uow.conn, app, programme, touch.campaign_id, phone)
    if existing is not None:
        return Intake(existing, False, touch.referrer_id, touch.channel)
    try:
        created = records.create(fields.form, values)
    except RecordValidationError as exc:
        raise RecordValidationError(_one_per_part([_named(issue, parts) for issue in exc.issues])) from None
    return Intake(created["id"], True, touch.referrer_id, touch.channel)


def _named(issue: FieldIssue, parts: dict[str, str]) -> FieldIssue:
    part = parts.get(issue.field)
    return issue if part is None else FieldIssue(part, issue.code, issue.params, issue.row, issue.subfield)


def _one_per_part(issues: list[FieldIssue]) -> list[FieldIssue]:
    seen, kept = set(), []
    for issue in issues:
        if issue.field not in seen:
            seen.add(issue.field)
            kept.append(issue)
    return kept


def _column(app: App, form_key: str, field_key: str) -> sa.Column:
    form = app.require_form(form_key)
    return app.tables.form_table(form_key).c[app.types.of(form.field(field_key)).columns()[0].name]


def _lock(conn: sa.Connection, app_key: str, campaign_id: int, phone: str) -> None:
    """Two submits of one friend at once enter one referral: on PostgreSQL they queue on a
    transaction lock of (app, campaign, phone); SQLite's writers already queue (BEGIN IMMEDIATE)."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"referral:{app_key}:{campaign_id}:{phone}".encode(), digest_size=8).digest()
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest, "big", signed=True)})


def _already_referred(conn: sa.Connection, app: App, programme: ReferralProgramme, campaign_id: int,
                      phone: str) -> int | None:
    fields = programme.referrals
    table = app.tables.form_table(fields.form)
    return conn.execute(
        sa.select(table.c.id)
        .where(_column(app, fields.form, fields["campaign"]) == campaign_id,
               _column(app, fields.form, fields["friend_phone"]) == phone, table.c.deleted_at.is_(None))
        .order_by(table.c.id).limit(1)).scalar()



@dataclass(frozen=True)
class Visit:
    app_key: str
    page: Landing


def visit(uow, code: str, *, app_key: str | None, visitor: str, channel: str, ip: str | None,
          user_agent: str | None, at: datetime | None = None) -> Visit | None:
    """A visit of the share link of `code`: its landing page, and the touch recorded
    (runtime/referrals/attribution.py) while the campaign takes referrals; None for a
    code that names nobody."""
    found = find_share(uow, code, app_key=app_key)
    if found is None:
        return None
    key, share = found
    page = landing(uow, key, share)
    if page.is_open:
        record_touch(uow.conn, uow.app(key), share, visitor=visitor, channel=channel, ip=ip,
                     user_agent=user_agent, at=at)
    return Visit(key, page)


def refer(uow, code: str, form: FriendForm, *, app_key: str | None, visitor: str | None,
          ip: str | None) -> Intake:
    """The landing form of `code` sent: its referral (`submit`). Raises ShareNotFound for
    a code that names nobody, CampaignClosed and RecordValidationError as `submit` does."""
    found = find_share(uow, code, app_key=app_key)
    if found is None:
        raise ShareNotFound(code)
    key, share = found
    return submit(uow, key, share, form, visitor=visitor, ip=ip)


def landing_of(uow, code: str, *, app_key: str | None) -> Visit | None:
    """The landing page of a code, nothing recorded (the thank-you page, a form shown again)."""
    found = find_share(uow, code, app_key=app_key)
    return None if found is None else Visit(found[0], landing(uow, found[0], found[1]))
