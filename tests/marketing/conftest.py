"""A strict SMTP server (aiosmtpd) the mail-transport tests control: it refuses a message with a
bare LF (RFC 5321 §2.3.8, as strict servers do), and can refuse connections, answer 4xx or 5xx
for chosen recipients, stall at RCPT, and offer SMTPUTF8 or not."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from email import message_from_bytes, policy

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.bench.kit import free_port
from apps.core import roles
from apps.customers.models import User


@pytest.fixture
def marketer(client):
    """A staff user with the Marketing role only, logged in to `client`."""
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(email="mkt@shop.test", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.MARKETING))
    client.force_login(user)
    return user


BARE_LF = re.compile(rb"(?<!\r)\n")


class StrictSink:
    def __init__(self, *, smtputf8: bool = True):
        self.smtputf8 = smtputf8
        self.host, self.port = "127.0.0.1", free_port()
        self.messages: list[dict] = []
        self.refused_bare_lf = 0
        self.defer_once: set[str] = set()  # answered 451 at RCPT on their first try
        self.bounce: set[str] = set()  # answered 550 at RCPT
        self.stall_rcpt = 0.0  # seconds to wait before answering RCPT
        self.rcpt_tries: Counter = Counter()
        self.controller = None

    def up(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(
            self, hostname=self.host, port=self.port, enable_SMTPUTF8=self.smtputf8
        )
        self.controller.start()

    def down(self) -> None:
        """Stop listening: connections are refused until up()."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_tries[address] += 1
        if self.stall_rcpt:
            await asyncio.sleep(self.stall_rcpt)
        if address in self.bounce:
            return "550 5.1.1 Recipient address rejected: User unknown"
        if address in self.defer_once and self.rcpt_tries[address] == 1:
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if BARE_LF.search(raw):
            self.refused_bare_lf += 1
            return "554 5.6.11 Bare LF in message"
        self.messages.append(
            {
                "to": list(envelope.rcpt_tos),
                "smtputf8": envelope.smtp_utf8,
                "raw": raw,
                "message": message_from_bytes(raw, policy=policy.default),
            }
        )
        return "250 Message accepted for delivery"

    def received(self) -> Counter:
        return Counter(rcpt for m in self.messages for rcpt in m["to"])


def _use(settings, sink: StrictSink) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def strict_sink(settings):
    """This process's mail goes over SMTP to a strict sink that offers SMTPUTF8."""
    sink = StrictSink()
    sink.up()
    _use(settings, sink)
    yield sink
    sink.down()


@pytest.fixture
def strict_sink_no_utf8(settings):
    """The same, without SMTPUTF8 (as many servers still are)."""
    sink = StrictSink(smtputf8=False)
    sink.up()
    _use(settings, sink)
    yield sink
    sink.down()
