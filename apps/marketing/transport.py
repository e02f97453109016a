"""Sending prebuilt messages over one connection.

With Django's SMTP backend the bytes go straight to the backend's open smtplib connection (MAIL,
RCPT and DATA by hand); with any other backend (console, locmem in `make run` and unit tests) the
bytes are wrapped so the backend can handle them as usual.

What the server answers decides each message's fate (RFC 5321 §4.2.1, §6.1): only a 250 to the
end of DATA makes the server responsible for it; 5xx is a permanent refusal; 4xx, a timeout, a
refused or dropped connection mean "not delivered, try again later"."""

from __future__ import annotations

import contextlib
import email
import re
import smtplib
from email import policy
from enum import StrEnum

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend


class RawMessage(EmailMessage):
    def __init__(self, raw: bytes, from_email: str, to: str):
        super().__init__(from_email=from_email, to=[to])
        self._raw = raw

    def message(self, *, policy=policy.default):
        return email.message_from_bytes(self._raw, policy=policy)


class MailServerUnavailable(Exception):
    """The mail server could not be reached, timed out, dropped the connection or is closing it
    (421): the message in flight was not accepted, and nothing after it was attempted. The
    original error is the cause; its text may name a recipient, so only its class is logged."""


class Outcome(StrEnum):
    SENT = "sent"  # 250 at the end of DATA
    DEFERRED = "deferred"  # 4xx: try again later
    BOUNCED = "bounced"  # 5xx at RCPT: this mailbox does not take mail (a hard bounce)
    REFUSED = "refused"  # 5xx elsewhere, or an address we will not put in a command


def _outcome(code: int, *, at_rcpt: bool) -> Outcome:
    if 500 <= code < 600:
        return Outcome.BOUNCED if at_rcpt else Outcome.REFUSED
    return Outcome.DEFERRED  # 4xx, or a reply that is neither success nor failure


class RawSender:
    def __init__(self):
        self.backend = get_connection(fail_silently=False)
        self.is_smtp = isinstance(self.backend, SMTPBackend)

    def __enter__(self):
        self.eight_bit = False
        # Without SMTP (console, locmem) the bytes are parsed again by the email package,
        # which takes any address.
        self.smtputf8 = not self.is_smtp
        try:
            self.backend.open()
            if self.is_smtp:
                smtp = self.backend.connection
                smtp.ehlo_or_helo_if_needed()
                self.eight_bit = smtp.has_extn("8bitmime")
                self.smtputf8 = smtp.has_extn("smtputf8")
        except (smtplib.SMTPException, OSError) as exc:
            self._close_quietly()
            raise MailServerUnavailable from exc
        return self

    def __exit__(self, *exc):
        self._close_quietly()

    def _close_quietly(self):
        # The connection may be gone already; the outcomes are recorded either way.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.backend.close()

    def send(self, raw: bytes, from_address: str, to: str, *, utf8: bool = False) -> Outcome:
        """Send one message to one recipient. `utf8`: the address or headers need SMTPUTF8
        (the caller checked `self.smtputf8`). Raises MailServerUnavailable when the connection
        broke or the server is closing it: this message was not accepted."""
        if not self.is_smtp:
            try:
                sent = self.backend.send_messages([RawMessage(raw, from_address, to)])
            except OSError as exc:
                raise MailServerUnavailable from exc
            return Outcome.SENT if sent else Outcome.REFUSED
        if any(c in to for c in "\r\n<> ") or any(c in from_address for c in "\r\n<> "):
            return Outcome.REFUSED
        # By hand: smtplib.sendmail re-parses both addresses with the email package on every
        # message, which costs more than building the message itself.
        smtp = self.backend.connection
        # A non-ASCII address goes into the commands as UTF-8 (RFC 6531), as smtplib.sendmail
        # does with the SMTPUTF8 option.
        smtp.command_encoding = "utf-8" if utf8 else "ascii"
        params = (" BODY=8BITMIME" if self.eight_bit else "") + (" SMTPUTF8" if utf8 else "")
        try:
            code, _ = smtp.docmd("mail", f"FROM:<{from_address}>{params}")
            at_rcpt = False
            if code == 250:
                code, _ = smtp.docmd("rcpt", f"TO:<{to}>")
                at_rcpt = True
                if code in (250, 251):
                    at_rcpt = False
                    code = _data(smtp, raw)
                    if code == 250:
                        return Outcome.SENT
            if code == 421:  # the server is closing the connection: nothing more goes on it
                raise MailServerUnavailable
            smtp.rset()
            return _outcome(code, at_rcpt=at_rcpt)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise MailServerUnavailable from exc


_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def _data(smtp: smtplib.SMTP, raw: bytes) -> int:
    """DATA, as smtplib's data() sends it, for a message that is CRLF-only already (mail.py
    builds it so): the period-doubling pass (RFC 5321 §4.5.2) runs only when some line starts
    with a period. A regular-expression pass over every message cost more than rendering it."""
    code, _ = smtp.docmd("data")
    if code != 354:  # DATA itself refused
        return code
    if raw.startswith(b".") or b"\n." in raw:
        raw = _LEADING_DOT.sub(b"..", raw)
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    smtp.send(raw + b".\r\n")
    code, _ = smtp.getreply()
    return code
