"""The campaign pipeline against a strict sink that offers PIPELINING (RFC 2920), as Postfix,
Exim and the ESPs' relays do: each message's MAIL, RCPT and DATA go in one write with the content
of the message before; the replies are judged as they are one by one, and a reply read before
the connection broke is never lost (what the server took is recorded sent, not sent again)."""

import datetime

import pytest
from django.utils import timezone

from apps.marketing import pipeline, services
from apps.marketing.models import Campaign, Delivery, SuppressedAddress
from tests.marketing.conftest import StrictSink, _use
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db


class PipeliningSink(StrictSink):
    """The strict sink, offering PIPELINING. It notes, at each MAIL, whether the RCPT and DATA
    after it had arrived already (sent in the same write: pipelined), and can cut the
    connection at the MAIL that follows a chosen recipient's accepted message."""

    def __init__(self):
        super().__init__()
        self.mail_commands = 0
        self.pipelined = 0
        self.cut_after: set[str] = set()
        self.last_accepted = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_commands += 1
        waiting = bytes(server._reader._buffer)  # what the client sent beyond this command
        if b"RCPT TO:" in waiting and b"DATA\r\n" in waiting:
            self.pipelined += 1
        if self.last_accepted in self.cut_after:
            self.cut_after.discard(self.last_accepted)
            server.transport.abort()  # the replies already written have gone out
            return "421 4.3.0 Closing"  # never reaches the client
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        status = await super().handle_DATA(server, session, envelope)
        if status.startswith("250"):
            self.last_accepted = envelope.rcpt_tos[0]
        return status


@pytest.fixture
def sink(settings):
    sink = PipeliningSink()
    sink.up()
    _use(settings, sink)
    yield sink
    sink.down()


@pytest.fixture
def mag():
    return magazine()


def _send_all(c):
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    for lo, hi in pipeline.campaign_fanout(campaign_id=c.pk):
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)


def _time_passes(c):
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    Delivery.objects.filter(campaign=c, next_attempt_at__isnull=False).update(
        next_attempt_at=earlier
    )
    Delivery.objects.filter(campaign=c, claimed_at__isnull=False).update(claimed_at=earlier)


def _statuses(c):
    return sorted(Delivery.objects.filter(campaign=c).values_list("status", flat=True))


def test_commands_go_pipelined_and_everyone_arrives_once(mag, sink):
    people = [subscriber(mag) for _ in range(25)]  # three batches: 10, 10 and 5
    c = campaign(mag)
    _send_all(c)
    assert sink.received() == {p.email: 1 for p in people}
    assert _statuses(c) == ["sent"] * 25
    assert sink.mail_commands == 25 and sink.pipelined == 25
    assert sink.refused_bare_lf == 0
    c.refresh_from_db()
    assert c.status == "sent"


def test_pipelined_4xx_and_5xx_are_judged_as_one_by_one(mag, sink):
    people = [subscriber(mag) for _ in range(12)]
    sink.defer_once = {people[2].email, people[9].email}  # the 9th is last of its batch
    sink.bounce = {people[5].email, people[10].email}
    c = campaign(mag)
    _send_all(c)
    rows = {d.customer_id: d for d in Delivery.objects.filter(campaign=c)}
    for person in (people[2], people[9]):
        assert rows[person.pk].status == "pending" and rows[person.pk].attempts == 1
    for person in (people[5], people[10]):
        assert rows[person.pk].status == "failed"
        assert rows[person.pk].skip_reason == "bounced (refused at RCPT)"
    assert SuppressedAddress.objects.count() == 2
    _time_passes(c)
    services.campaign_sweep()
    delivered = {p.email: 1 for i, p in enumerate(people) if i not in (5, 10)}
    assert sink.received() == delivered
    c.refresh_from_db()
    assert c.status == "sent"


def test_a_message_taken_before_the_connection_broke_is_recorded_sent_and_not_resent(mag, sink):
    people = [subscriber(mag) for _ in range(6)]
    sink.cut_after = {people[2].email}  # the server goes away right after taking the 3rd
    c = campaign(mag)
    _send_all(c)
    rows = {d.customer_id: d.status for d in Delivery.objects.filter(campaign=c)}
    assert [rows[p.pk] for p in people] == ["sent"] * 3 + ["pending"] * 3
    _time_passes(c)
    services.campaign_sweep()
    assert sink.received() == {p.email: 1 for p in people}
    assert _statuses(c) == ["sent"] * 6


class _TimeLimit(BaseException):
    """Stands for Celery's time limit: raised in the middle of a pipelined exchange."""


def test_a_time_limit_mid_exchange_closes_at_once_without_waiting_for_the_server(
    mag, sink, settings
):
    import signal
    import time

    from apps.marketing.transport import RawSender

    settings.EMAIL_TIMEOUT = 10
    sink.stall_rcpt = 3  # the server is slow to answer RCPT

    def time_limit(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, time_limit)
    try:
        with pytest.raises(_TimeLimit), RawSender() as sender:
            assert sender.pipelining
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            started = time.monotonic()
            sender.submit(b"Subject: x\r\n\r\nbody\r\n", "news@shop.test", "a@example.com", key=1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    # A QUIT would have been read as part of the group and waited out the stalled server.
    assert time.monotonic() - started < 1.5
    assert sink.messages == []
