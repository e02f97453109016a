"""The mail transport against a strict real SMTP sink (tests/marketing/conftest.py): a refused
connection, a timeout and 4xx defer rows with a retry time and nothing is lost or sent twice; a
5xx fails one recipient; IDN, non-ASCII local parts and long Japanese subjects; one recipient
never breaks a chunk, and no log line holds an address or a token."""

import datetime
import logging

import pytest
from django.utils import timezone

from apps.marketing import mail, pipeline, selectors, services
from apps.marketing.models import Campaign, Delivery, Subscription, SuppressedAddress
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def mag():
    return magazine()


def _start(c):
    """campaign_send_now without the task: status → sending, then the fan-out by hand."""
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    return pipeline.campaign_fanout(campaign_id=c.pk)


def _send_all(c):
    for lo, hi in _start(c):
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)


def _time_passes(c):
    """A few minutes pass (instead of waiting for them): the retry times come, and the last
    claims are old enough for the sweep to see nobody is working on the campaign."""
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    Delivery.objects.filter(campaign=c, next_attempt_at__isnull=False).update(
        next_attempt_at=earlier
    )
    Delivery.objects.filter(campaign=c, claimed_at__isnull=False).update(claimed_at=earlier)


def _statuses(c):
    return sorted(Delivery.objects.filter(campaign=c).values_list("status", flat=True))


def _status(c):
    c.refresh_from_db()
    return c.status


def test_a_refused_connection_defers_everyone_until_the_server_is_back(mag, strict_sink):
    people = [subscriber(mag) for _ in range(5)]
    c = campaign(mag)
    strict_sink.down()
    before = timezone.now()
    _send_all(c)
    assert _statuses(c) == ["pending"] * 5 and _status(c) == "sending"
    rows = Delivery.objects.filter(campaign=c)
    assert {row.attempts for row in rows} == {1}
    assert all(row.next_attempt_at >= before + datetime.timedelta(seconds=29) for row in rows)
    progress = selectors.campaign_progress(campaign=c)
    assert progress["waiting"] == 5 and progress["next_attempt_at"] > timezone.now()

    strict_sink.up()
    services.campaign_sweep()  # not due yet: nothing is tried
    assert strict_sink.messages == []
    _time_passes(c)
    services.campaign_sweep()  # (Celery is eager in these tests)
    assert _status(c) == "sent"
    assert strict_sink.received() == {p.email: 1 for p in people}
    assert _statuses(c) == ["sent"] * 5


def test_a_timeout_mid_chunk_defers_the_rest_and_nothing_is_lost_or_doubled(
    mag, strict_sink, settings
):
    settings.EMAIL_TIMEOUT = 1
    people = [subscriber(mag) for _ in range(6)]
    c = campaign(mag)
    [(lo, hi)] = _start(c)
    # The server stalls past the timeout at the 4th recipient.
    third = people[2].email  # deliveries go in id order, which is signup order here
    original = strict_sink.handle_DATA

    async def stall_after_third(server, session, envelope):
        answer = await original(server, session, envelope)
        if envelope.rcpt_tos == [third]:
            strict_sink.stall_rcpt = 3
        return answer

    strict_sink.handle_DATA = stall_after_third
    result = pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert result["sent"] == 3 and result["deferred"] == 3
    assert _statuses(c) == ["pending"] * 3 + ["sent"] * 3 and _status(c) == "sending"

    strict_sink.stall_rcpt = 0
    _time_passes(c)
    services.campaign_sweep()
    assert _status(c) == "sent"
    assert strict_sink.received() == {p.email: 1 for p in people}


def test_4xx_for_a_tenth_of_recipients_defers_them_and_all_arrive_once(mag, strict_sink):
    people = [subscriber(mag) for _ in range(20)]
    greylisted = {people[3].email, people[11].email}
    strict_sink.defer_once = greylisted
    c = campaign(mag)
    _send_all(c)
    deferred = Delivery.objects.filter(campaign=c, status="pending")
    assert {d.customer.email for d in deferred} == greylisted
    assert all(d.attempts == 1 and d.next_attempt_at > timezone.now() for d in deferred)
    assert _status(c) == "sending"

    _time_passes(c)
    services.campaign_sweep()
    assert _status(c) == "sent"
    assert strict_sink.received() == {p.email: 1 for p in people}


def test_a_server_that_keeps_deferring_fails_the_row_in_the_end(mag, strict_sink, settings):
    settings.MARKETING_MAX_ATTEMPTS = 2
    subscriber(mag)

    async def always_defer(server, session, envelope, address, rcpt_options):
        return "451 4.3.0 Try again later"

    strict_sink.handle_RCPT = always_defer
    c = campaign(mag)
    _send_all(c)
    _time_passes(c)
    services.campaign_sweep()
    delivery = Delivery.objects.get(campaign=c)
    assert delivery.status == "failed" and delivery.skip_reason == "mail server kept deferring"
    assert _status(c) == "sent"


def test_a_5xx_fails_only_that_recipient_and_suppresses_the_address(mag, strict_sink):
    people = [subscriber(mag) for _ in range(3)]
    strict_sink.bounce = {people[1].email}
    c = campaign(mag)
    _send_all(c)
    assert _status(c) == "sent"
    bounced = Delivery.objects.get(customer=people[1])
    assert bounced.status == "failed" and bounced.skip_reason == "bounced (refused at RCPT)"
    assert strict_sink.received() == {people[0].email: 1, people[2].email: 1}
    suppressed = SuppressedAddress.objects.get()
    assert suppressed.reason == "bounced" and suppressed.magazine is None
    assert suppressed.address_hash == selectors.address_hash(people[1].email)


def test_an_idn_domain_goes_out_in_idna_form(mag, strict_sink):
    idn = subscriber(mag, email="a@例え.jp")
    other = subscriber(mag)
    c = campaign(mag)
    _send_all(c)
    assert _status(c) == "sent"
    assert strict_sink.received() == {"a@xn--r8jz45g.jp": 1, other.email: 1}
    message = next(m for m in strict_sink.messages if m["to"] == ["a@xn--r8jz45g.jp"])
    assert message["message"]["To"] == "a@xn--r8jz45g.jp"
    assert Delivery.objects.get(customer=idn).status == "sent"


def test_a_non_ascii_local_part_goes_with_smtputf8_where_offered(mag, strict_sink):
    person = subscriber(mag, email="山田@example.jp")
    c = campaign(mag)
    _send_all(c)
    [message] = strict_sink.messages
    assert message["to"] == ["山田@example.jp"] and message["smtputf8"]
    assert message["message"]["To"] == "山田@example.jp"
    assert Delivery.objects.get(customer=person).status == "sent"


def test_a_non_ascii_local_part_fails_only_itself_without_smtputf8(mag, strict_sink_no_utf8):
    before = subscriber(mag)
    person = subscriber(mag, email="山田@example.jp")
    after = subscriber(mag)
    c = campaign(mag)
    _send_all(c)
    assert _status(c) == "sent"
    assert strict_sink_no_utf8.received() == {before.email: 1, after.email: 1}
    failed = Delivery.objects.get(customer=person)
    assert failed.status == "failed" and failed.skip_reason == "non-ASCII address, no SMTPUTF8"


def test_an_address_that_cannot_be_built_fails_only_itself_and_is_never_logged(
    mag, strict_sink, caplog
):
    caplog.set_level(logging.DEBUG)
    people = [subscriber(mag) for _ in range(2)]
    broken = subscriber(mag, email="a@例え..jp")  # an empty label: no IDNA form exists
    c = campaign(mag)
    _send_all(c)
    assert _status(c) == "sent"
    assert strict_sink.received() == {p.email: 1 for p in people}
    row = Delivery.objects.get(customer=broken)
    assert row.status == "failed" and row.skip_reason == "address cannot be sent to"
    token = mail.unsubscribe_token(Subscription.objects.get(customer=broken).pk)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"delivery_id={row.pk}" in logged
    assert "例え" not in logged and token not in logged
    for person in people:
        assert person.email not in logged


def test_a_long_japanese_subject_passes_a_server_that_refuses_bare_lf(mag, strict_sink):
    subject = "【期間限定】秋の新商品のご案内と年末年始の営業日についての大切なお知らせです"
    assert len(subject) >= 29
    people = [subscriber(mag) for _ in range(2)]
    c = campaign(mag, subject=subject)
    _send_all(c)
    assert strict_sink.refused_bare_lf == 0
    assert strict_sink.received() == {p.email: 1 for p in people}
    assert strict_sink.messages[0]["message"]["Subject"] == subject
    assert _statuses(c) == ["sent", "sent"]


@pytest.mark.parametrize("eight_bit", [True, False])
def test_lines_that_start_with_a_period_arrive_intact(mag, strict_sink, eight_bit, monkeypatch):
    """DATA doubles a leading period (RFC 5321 §4.5.2), else a lone "." line ends the message
    early: the transport does it itself, only for messages that need it."""
    if not eight_bit:
        monkeypatch.setattr(mail, "_fits_8bit", lambda template: False)  # the base64 bodies
    person = subscriber(mag)
    c = campaign(mag, body_text="{name} 様\n.\n.NET 講座のご案内\n..以上")
    _send_all(c)
    assert strict_sink.received() == {person.email: 1}
    text = strict_sink.messages[0]["message"].get_body(("plain",)).get_content()
    assert "様\n.\n.NET 講座のご案内\n..以上\n" in text.replace("\r\n", "\n")
    assert _statuses(c) == ["sent"]
