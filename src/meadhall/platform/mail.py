"""Outgoing e-mail over SMTP (stdlib ``smtplib``, run in a thread so the loop never blocks)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from meadhall.config import Settings

logger = logging.getLogger("meadhall.mail")


class MailDisabled(RuntimeError):
    """SMTP is not configured, so no mail can be sent."""


def build_message(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender."""
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.smtp_sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message


def _send_blocking(settings: Settings, message: EmailMessage) -> None:
    host = settings.smtp_host
    if host is None:
        raise MailDisabled("SMTP is not configured (set MEADHALL_SMTP_HOST)")
    timeout = settings.smtp_timeout_seconds
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.smtp_security == "tls":
        client = smtplib.SMTP_SSL(host, settings.smtp_port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, settings.smtp_port, timeout=timeout)
    with client:
        client.ehlo()
        if settings.smtp_security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            client.login(settings.smtp_username, password)
        client.send_message(message)


async def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail; raises :class:`MailDisabled` or an ``smtplib`` error."""
    message = build_message(settings, to=to, subject=subject, body=body)
    await asyncio.to_thread(_send_blocking, settings, message)
    logger.info("mail sent", extra={"subject": subject})
