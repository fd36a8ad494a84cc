"""Alert e-mails over SMTP, upgraded with STARTTLS before any login."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

from cift.core.settings import Settings
from cift.execution.delivery.channels import FailedError, RefusedError

TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
)


def send_email(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send one message to ``to``; the attempts it took. Raises :class:`RefusedError` without
    an SMTP server, :class:`FailedError` when the server refused it or every attempt
    failed."""
    if not settings.smtp_host:
        raise RefusedError("no SMTP server: set CIFT_SMTP_HOST (and CIFT_SMTP_PORT)")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.alert_email_from, to, subject
    message.set_content(text)
    attempts = settings.alert_delivery_retries + 1
    last = ""
    for attempt in range(1, attempts + 1):
        try:
            _send(settings, message)
            return attempt
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error
            said_text = said.decode(errors="replace") if isinstance(said, bytes) else said
            last = f"SMTP {exc.smtp_code}: {said_text}"
            if exc.smtp_code < 400 or exc.smtp_code >= 500:  # permanent
                raise FailedError(last, attempt) from None
        except (*TRANSIENT, OSError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if attempt < attempts:
            sleep(min(0.2 * 2 ** (attempt - 1), 5.0))
    raise FailedError(f"{last} after {attempts} attempts", attempts)


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    timeout = settings.alert_delivery_timeout_seconds
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:
            cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
            smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            smtp.ehlo()
        if settings.smtp_username and settings.smtp_password is not None:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
