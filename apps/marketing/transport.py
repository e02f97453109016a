"""Sending prebuilt messages over one connection.

With Django's SMTP backend the bytes go straight to the backend's open smtplib connection (MAIL,
RCPT and DATA by hand); with any other backend (console, locmem in `make run` and unit tests) the
bytes are wrapped so the backend can handle them as usual.

What the server answers decides each message's fate (RFC 5321 §4.2.1, §6.1): only a 250 to the
end of DATA makes the server responsible for it; 5xx is a permanent refusal; 4xx, a timeout, a
refused or dropped connection mean "not delivered, try again later".

Where the server offers PIPELINING (RFC 2920; Postfix, Exim and the ESPs' relays do), `submit`
sends a message's content together with the next message's MAIL, RCPT and DATA, in one write,
and reads their four replies together: one round trip per message instead of four. The replies
are judged exactly as they are one by one; a message's outcome is known once the next one is
submitted, or at `flush`."""

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
    original error is the cause; its text may name a recipient, so only its class is logged.
    `reported`: outcomes RawSender.submit had learnt in the same exchange, before it broke."""

    reported: tuple = ()


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
        # With PIPELINING: the message whose MAIL, RCPT and DATA were accepted (354) and whose
        # content goes out with the next write, as (key, raw).
        self._awaiting_content: tuple[object, bytes] | None = None
        # Between a pipelined write and the last reply it asks for (an exception there, a time
        # limit, leaves the server in the middle of a group).
        self._mid_exchange = False

    def __enter__(self):
        self.eight_bit = False
        self.pipelining = False
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
                self.pipelining = smtp.has_extn("pipelining")
        except (smtplib.SMTPException, OSError) as exc:
            self._close_quietly()
            raise MailServerUnavailable from exc
        return self

    def __exit__(self, *exc):
        self._close_quietly()

    def _close_quietly(self):
        # The connection may be gone already; the outcomes are recorded either way.
        stranded = self._awaiting_content is not None or self._mid_exchange
        if stranded and self.backend.connection is not None:
            # The server is reading a message's content, which was never sent (or is midway in
            # a group): a QUIT would be taken for content and wait for the timeout. Closing
            # without the end of data makes the server drop that message (RFC 5321 §4.1.1.4);
            # it was not reported sent.
            self._awaiting_content = None
            self._mid_exchange = False
            with contextlib.suppress(OSError):
                self.backend.connection.close()
            self.backend.connection = None
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
        if not _fits_a_command(from_address, to):
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

    def submit(
        self, raw: bytes, from_address: str, to: str, *, key, utf8: bool = False
    ) -> list[tuple[object, Outcome]]:
        """Send one message, as `send` does; returns the outcomes known now, each with the
        `key` it was submitted with. With PIPELINING a message's outcome comes with the next
        submit or with `flush`; a MailServerUnavailable leaves the messages not reported
        unsent (the one whose content was in flight was not accepted either: no 250)."""
        if not (self.is_smtp and self.pipelining):
            return [(key, self.send(raw, from_address, to, utf8=utf8))]
        if not _fits_a_command(from_address, to):
            return [(key, Outcome.REFUSED)]
        params = (" BODY=8BITMIME" if self.eight_bit else "") + (" SMTPUTF8" if utf8 else "")
        # Encoded before anything is written: an address that cannot go in a command fails
        # only its own message.
        commands = f"MAIL FROM:<{from_address}>{params}\r\nRCPT TO:<{to}>\r\nDATA\r\n".encode(
            "utf-8" if utf8 else "ascii"
        )
        smtp = self.backend.connection
        done = []
        self._mid_exchange = True
        try:
            if self._awaiting_content is not None:
                previous, content = self._awaiting_content
                self._awaiting_content = None
                smtp.send(_with_end_of_data(content) + commands)
                done.append((previous, _end_of_data_outcome(smtp)))
            else:
                smtp.send(commands)
            mail, rcpt, data = (smtp.getreply()[0] for _ in range(3))
            if 421 in (mail, rcpt, data):  # closing: nothing more goes on this connection
                raise MailServerUnavailable
            if mail == 250 and rcpt in (250, 251) and data == 354:
                self._awaiting_content = (key, raw)
                self._mid_exchange = False
                return done
            if data == 354:
                # A server that took DATA though MAIL or RCPT failed gets an empty message,
                # which it refuses for want of a recipient (RFC 2920 §3.1).
                smtp.send(b".\r\n")
                smtp.getreply()
            smtp.rset()
            self._mid_exchange = False
        except MailServerUnavailable as exc:
            self._awaiting_content = None
            exc.reported = tuple(done)  # the message before was taken (or refused) all the same
            raise
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            # Broken mid-exchange: what the server took of this write is unknown, so nothing
            # more is sent on this connection.
            self._awaiting_content = None
            unavailable = MailServerUnavailable()
            unavailable.reported = tuple(done)
            raise unavailable from exc
        if mail != 250:
            outcome = _outcome(mail, at_rcpt=False)
        elif rcpt not in (250, 251):
            outcome = _outcome(rcpt, at_rcpt=True)
        else:
            outcome = _outcome(data, at_rcpt=False)
        return [*done, (key, outcome)]

    def flush(self) -> list[tuple[object, Outcome]]:
        """Send the content still waiting (PIPELINING) and return its outcome."""
        if self._awaiting_content is None:
            return []
        key, content = self._awaiting_content
        self._awaiting_content = None
        smtp = self.backend.connection
        self._mid_exchange = True
        try:
            smtp.send(_with_end_of_data(content))
            outcome = _end_of_data_outcome(smtp)
            self._mid_exchange = False
            return [(key, outcome)]
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise MailServerUnavailable from exc


def _fits_a_command(from_address: str, to: str) -> bool:
    return not any(c in to for c in "\r\n<> ") and not any(c in from_address for c in "\r\n<> ")


def _end_of_data_outcome(smtp: smtplib.SMTP) -> Outcome:
    """The reply to the end of a message's content: 250 accepted it; 421 closes."""
    code, _ = smtp.getreply()
    if code == 250:
        return Outcome.SENT
    if code == 421:
        raise MailServerUnavailable
    return _outcome(code, at_rcpt=False)


_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def _data(smtp: smtplib.SMTP, raw: bytes) -> int:
    """DATA, as smtplib's data() sends it, for a message that is CRLF-only already (mail.py
    builds it so): the period-doubling pass (RFC 5321 §4.5.2) runs only when some line starts
    with a period. A regular-expression pass over every message cost more than rendering it."""
    code, _ = smtp.docmd("data")
    if code != 354:  # DATA itself refused
        return code
    smtp.send(_with_end_of_data(raw))
    code, _ = smtp.getreply()
    return code


def _with_end_of_data(raw: bytes) -> bytes:
    if raw.startswith(b".") or b"\n." in raw:
        raw = _LEADING_DOT.sub(b"..", raw)
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    return raw + b".\r\n"
