"""`formwork rewards settle APP`, `formwork rewards list APP`, `formwork rewards explain
ENTRY`: settling a programme's source records in batches, the ledger listed, and one
entry's explanation checked against its stored inputs (runtime/rewards, docs/rewards.md).
The commands act as the system (every entry)."""
from __future__ import annotations

import functools
import json

import click

from engine.errors import CodedError, FormworkError
from engine.workspace import workspace_language

from runtime.rewards import settle_form
from runtime.rewards.reading import entry_app, get_entry, list_entries
from runtime.session import Session
from web.cli._common import lang_option, with_engine


def refusals_said(func):
    """A refusal of the runtime (an entry that is not there, a bad status) printed in the
    workspace language, exit code 1, never a traceback."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CodedError as exc:
            raise click.ClickException(exc.message(kwargs.get("lang") or workspace_language())) from None
        except FormworkError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


@click.group("rewards")
def rewards_group():
    """Referral rewards: settle, list the ledger, explain an entry."""


@rewards_group.command("settle")
@click.argument("app_key")
@click.option("--form", "form_key", default=None, help="Only this source form (default: every rule's).")
@click.option("--batch", type=click.IntRange(1, 10_000), default=1000, show_default=True,
              help="Source records settled per transaction.")
@with_engine
@refusals_said
def settle_command(engine, app_key, form_key, batch):
    """Settle every rule over every source record (idempotent: what is entered stays)."""
    session = Session(engine)
    entered = reversed_ = 0
    after = 0
    while True:
        done = session.write(lambda uow, after=after: settle_form(uow, app_key, form_key, after=after, limit=batch))
        entered += len(done["entered"])
        reversed_ += len(done["reversed"])
        if done["last"] is None:
            break
        after = done["last"]
    click.echo(f"{app_key}: {entered} entries entered, {reversed_} reversed")


@rewards_group.command("list")
@click.argument("app_key")
@click.option("--beneficiary", type=int, default=None, help="Only this beneficiary (a customer id).")
@click.option("--status", default=None, help="Only these statuses, comma-separated (pending, vested, ...).")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--cursor", default=None, help="The next page: the cursor the previous page printed.")
@click.option("--json", "as_json", is_flag=True, help="The page as JSON.")
@with_engine
@refusals_said
def list_command(engine, app_key, beneficiary, status, limit, cursor, as_json):
    """The ledger, newest first: id, rule, beneficiary, amount, status, earned and vesting dates."""
    page = Session(engine).read(lambda uow: list_entries(uow, app_key, beneficiary=beneficiary, status=status,
                                                         cursor=cursor, limit=limit))
    if as_json:
        click.echo(json.dumps(page, ensure_ascii=False, indent=2))
        return
    if not page["entries"]:
        click.echo(f"no reward entries in app {app_key}")
    for e in page["entries"]:
        click.echo(f"{e['id']:>7}  {e['rule']:<20}  {e['kind']:<8}  #{e['beneficiary']:<7}  {e['amount']:>12}  "
                   f"{e['status']:<11}  {e['earned_on']}  {e['vests_on']}")
    if page["next_cursor"]:
        click.echo(f"more: --cursor {page['next_cursor']}")


@rewards_group.command("explain")
@click.argument("entry_id", type=int)
@lang_option
@click.option("--json", "as_json", is_flag=True, help="The entry and its whole explanation as JSON.")
@with_engine
@refusals_said
def explain_command(engine, entry_id, lang, as_json):
    """How an entry's amount was computed, and whether it recomputes from its stored inputs."""
    def read(uow):
        return get_entry(uow, entry_app(uow.conn, entry_id), entry_id, lang=lang)
    entry = Session(engine).read(read)
    if as_json:
        click.echo(json.dumps(entry, ensure_ascii=False, indent=2))
        return
    click.echo(f"#{entry['id']} {entry['rule']} {entry['kind']} {entry['amount']} ({entry['status']})")
    click.echo(entry["text"] or "")
    if "recomputes" in entry:
        words = {("zh", True): "由存储的输入重新计算一致：{}", ("zh", False): "由存储的输入重新计算得 {}，与记录金额不符",
                 ("en", True): "recomputed from the stored inputs: {}",
                 ("en", False): "recomputed from the stored inputs: {}, not the stored amount"}
        click.echo(words[(lang if lang == "zh" else "en", entry["recomputes"])].format(entry["recomputed"]))
        if not entry["recomputes"]:
            raise click.exceptions.Exit(1)


COMMANDS = [rewards_group]
