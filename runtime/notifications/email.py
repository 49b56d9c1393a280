"""E-mail over SMTP, configured by the environment:

    FORMWORK_SMTP_HOST       the server (unset: no e-mail is sent at all)
    FORMWORK_SMTP_PORT       default 25 (587 with TLS=starttls, 465 with TLS=ssl)
    FORMWORK_SMTP_USER / FORMWORK_SMTP_PASSWORD    log in when both are set
    FORMWORK_SMTP_FROM       the sender address (default formwork@<host>)
    FORMWORK_SMTP_TLS        none (default), starttls or ssl

A message has a text part and an HTML part (the body rendered with autoescape).
"""
from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from engine.errors import FormworkError

TIMEOUT = 20.0
TLS_MODES = ("none", "starttls", "ssl")


def smtp_configured() -> bool:
    return bool(os.environ.get("FORMWORK_SMTP_HOST", "").strip())


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    tls: str

    @classmethod
    def from_env(cls) -> "SmtpConfig":
        host = os.environ.get("FORMWORK_SMTP_HOST", "").strip()
        if not host:
            raise FormworkError("FORMWORK_SMTP_HOST is not set: e-mail is not configured")
        tls = os.environ.get("FORMWORK_SMTP_TLS", "none").strip().lower() or "none"
        if tls not in TLS_MODES:
            raise FormworkError(f"FORMWORK_SMTP_TLS={tls!r}: use one of {', '.join(TLS_MODES)}")
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[tls]
        port = os.environ.get("FORMWORK_SMTP_PORT", "").strip()
        if port and not port.isdigit():
            raise FormworkError(f"FORMWORK_SMTP_PORT={port!r} is not a port number")
        return cls(host, int(port or default_port), os.environ.get("FORMWORK_SMTP_USER") or None,
                   os.environ.get("FORMWORK_SMTP_PASSWORD") or None,
                   os.environ.get("FORMWORK_SMTP_FROM") or f"formwork@{host}", tls)


def build_message(config: SmtpConfig, to: str, subject: str, text: str, html: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config.sender, to, subject
    message.set_content(text or subject)
    if html:
        message.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
    return message


def send_email(config: SmtpConfig, message: EmailMessage) -> None:
    smtp_class = smtplib.SMTP_SSL if config.tls == "ssl" else smtplib.SMTP
    with smtp_class(config.host, config.port, timeout=TIMEOUT) as smtp:
        if config.tls == "starttls":
            smtp.starttls()
        if config.user and config.password:
            smtp.login(config.user, config.password)
        smtp.send_message(message)
