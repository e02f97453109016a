"""Sending prebuilt messages over one connection.

With Django's SMTP backend the bytes go straight to smtplib's `sendmail` on the backend's open
connection; with any other backend (console, locmem in `make run` and unit tests) the bytes are
wrapped so the backend can handle them as usual."""

from __future__ import annotations

import email
import smtplib
from email import policy

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend


class RawMessage(EmailMessage):
    def __init__(self, raw: bytes, from_email: str, to: str):
        super().__init__(from_email=from_email, to=[to])
        self._raw = raw

    def message(self, *, policy=policy.default):
        return email.message_from_bytes(self._raw, policy=policy)


class ConnectionLost(Exception):
    """The mail server went away: nothing after the message in flight was attempted."""


class RawSender:
    def __init__(self):
        self.backend = get_connection(fail_silently=False)
        self.is_smtp = isinstance(self.backend, SMTPBackend)

    def __enter__(self):
        self.backend.open()
        self.eight_bit = False
        if self.is_smtp:
            self.backend.connection.ehlo_or_helo_if_needed()
            self.eight_bit = self.backend.connection.has_extn("8bitmime")
        return self

    def __exit__(self, *exc):
        self.backend.close()

    def send(self, raw: bytes, from_address: str, to: str) -> bool:
        """True when the server accepted the message; False when it refused this recipient.
        Raises ConnectionLost when the connection broke (the outcome of this one is unknown)."""
        if not self.is_smtp:
            return bool(self.backend.send_messages([RawMessage(raw, from_address, to)]))
        if any(c in to for c in "\r\n<>") or any(c in from_address for c in "\r\n<>"):
            return False
        # MAIL, RCPT and DATA by hand: smtplib.sendmail re-parses both addresses with the email
        # package on every message, which costs more than building the message itself.
        smtp = self.backend.connection
        body = " BODY=8BITMIME" if self.eight_bit else ""
        try:
            code, _ = smtp.docmd("mail", f"FROM:<{from_address}>{body}")
            if code == 250:
                code, _ = smtp.docmd("rcpt", f"TO:<{to}>")
                if code in (250, 251):
                    code, _ = smtp.data(raw)
                    return code == 250
            smtp.rset()
            return False
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise ConnectionLost from exc
