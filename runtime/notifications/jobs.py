"""The notification job kinds: each send is a job, retried with backoff by runtime/jobs.

    notification.in_app   writes the fw_notifications row (in the job's transaction, once per key)
    notification.email    sends over SMTP (outside a transaction: at least once)
    notification.robot    posts to a group robot (outside a transaction: at least once)
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.storage import system
from runtime import jobs
from runtime.notifications.email import SmtpConfig, build_message, send_email
from runtime.notifications.inbox import insert_notification
from runtime.notifications.robots import post_robot
from runtime.notifications.send import EMAIL_KIND, IN_APP_KIND, ROBOT_KIND


def in_app(ctx, payload) -> None:
    insert_notification(ctx.uow.conn, user_id=payload["user"], kind=payload["kind"], title=payload["title"],
                        body=payload.get("body"), link=payload.get("link"), key=ctx.job.key)


def email(ctx, payload) -> None:
    with ctx.session.read() as uow:
        address = uow.conn.execute(sa.select(system.users.c.email).where(
            system.users.c.id == payload["user"])).scalar()
    if not address:
        return          # a user without an address gets the other channels only
    config = SmtpConfig.from_env()
    send_email(config, build_message(config, address, payload["title"], payload.get("body") or "",
                                     payload.get("html")))


def robot(ctx, payload) -> None:
    post_robot(payload["format"], payload["url_env"], payload["title"], payload.get("body") or "",
               payload.get("link"))


jobs.register(IN_APP_KIND, in_app, max_attempts=5, backoff=5.0)
jobs.register(EMAIL_KIND, email, max_attempts=5, backoff=30.0, in_transaction=False)
jobs.register(ROBOT_KIND, robot, max_attempts=5, backoff=30.0, in_transaction=False)
