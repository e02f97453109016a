"""Sending one transactional mail without letting the recipient's address reach a log.

smtplib's refusals (SMTPRecipientsRefused, 5xx SMTPResponseException) carry the address in
their text, and they are OSErrors: Celery would retry them and log the text at every retry, and a
request would log the traceback. Inside `refusals_without_address()` a permanent refusal becomes
`MailRefused`, which holds no address and is not retried; a temporary one stays an OSError
(worth a retry), without the server's text."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core import mail


class MailRefused(Exception):
    """The mail server refused the message for good (the address is not in the message)."""


@contextmanager
def refusals_without_address() -> Iterator[None]:
    try:
        yield
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _message in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            # Greylisting, a full mailbox, a rate limit: worth trying again later.
            raise OSError(f"temporary mail server refusal ({codes[0]})") from None
        raise MailRefused("the mail server refused the recipient") from None
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise MailRefused(f"the mail server refused the message ({exc.smtp_code})") from None
        raise OSError(f"temporary mail server error ({exc.smtp_code})") from None


def send_mail(*, subject: str, message: str, from_email: str | None, to: str) -> None:
    with refusals_without_address():
        mail.send_mail(subject=subject, message=message, from_email=from_email, recipient_list=[to])
