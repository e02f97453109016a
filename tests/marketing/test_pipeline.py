"""The sending pipeline, run in this process against a real SMTP sink (the worker tests in
test_worker.py run the same pipeline in real Celery workers)."""

import email
from email import policy
from html import escape as html_escape

import pytest
from django.utils import timezone

from apps.consents.services import consent_withdraw
from apps.marketing import mail, pipeline, services
from apps.marketing.models import Campaign, Delivery, Subscription
from tests.marketing.helpers import campaign, magazine, received_by, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def mag():
    return magazine()


def _start(c):
    """campaign_send_now without the task: status → sending, then the fan-out by hand."""
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    return pipeline.campaign_fanout(campaign_id=c.pk)


def test_only_eligible_people_receive_and_every_mail_is_lawful(mag, smtp_settings, settings):
    settings.MARKETING_CHUNK_SIZE = 2
    people = [subscriber(mag, family_name="佐藤", given_name=f"花子{i}") for i in range(5)]
    consent_withdraw(purpose=mag.purpose, source="mypage", customer=people[0])
    c = campaign(mag)
    ranges = _start(c)
    assert len(ranges) == 2  # 4 eligible rows in chunks of 2
    for lo, hi in ranges:
        pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert received_by(smtp_settings) == sorted(p.email for p in people[1:])
    c.refresh_from_db()
    assert c.status == "sent" and c.finished_at

    message = smtp_settings.messages[0]["message"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://testserver/newsletter/unsubscribe/")
    assert message["From"].addresses[0].addr_spec == "news@shop.test"
    assert message["Subject"] == "秋の新商品のご案内"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert settings.SHOP_NAME in body and settings.SHOP_POSTAL_ADDRESS in body
        assert settings.SHOP_CONTACT_EMAIL in body
        assert url in body and "opt out" in body
    assert "様" in text and "花子" in text
    delivery = Delivery.objects.get(message_id=message["Message-ID"])
    assert delivery.status == "sent" and delivery.consent_event_id is not None
    assert delivery.consent_event.action == "grant"


def test_a_withdrawal_after_the_fanout_is_honoured(mag, smtp_settings):
    stay, leave = subscriber(mag), subscriber(mag)
    c = campaign(mag)
    [(lo, hi)] = _start(c)
    consent_withdraw(purpose=mag.purpose, source="mypage", customer=leave)
    result = pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert result["sent"] == 1 and result["skipped"] == 1
    assert received_by(smtp_settings) == [stay.email]
    assert Delivery.objects.get(customer=leave).status == "skipped"


def test_the_same_chunk_twice_sends_once(mag, smtp_settings):
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    [(lo, hi)] = _start(c)
    _start(c)  # a repeated fan-out adds no rows
    assert Delivery.objects.filter(campaign=c).count() == 3
    pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    second = pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert second["sent"] == 0
    assert received_by(smtp_settings) == sorted(p.email for p in people)


def test_rows_left_sending_by_a_lost_worker_are_never_resent(mag, smtp_settings, settings):
    people = [subscriber(mag) for _ in range(3)]
    c = campaign(mag)
    [(lo, hi)] = _start(c)
    lost = Delivery.objects.get(customer=people[0])
    # Claimed a moment ago, then the worker died.
    Delivery.objects.filter(pk=lost.pk).update(status="sending", claimed_at=timezone.now())
    pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert people[0].email not in received_by(smtp_settings)
    c.refresh_from_db()
    assert c.status == "sending"  # in flight until it counts as stale
    settings.MARKETING_STALE_SENDING_SECONDS = 0
    assert pipeline.campaign_finalize(campaign_id=c.pk) == pipeline.Finalize.DONE
    lost.refresh_from_db()
    assert lost.status == "unknown"
    assert received_by(smtp_settings) == sorted(p.email for p in people[1:])


def test_cancelling_stops_the_chunks_not_yet_sent(mag, smtp_settings):
    subscriber(mag)
    c = campaign(mag)
    [(lo, hi)] = _start(c)
    services.campaign_cancel(campaign=c)
    pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert smtp_settings.messages == []
    assert set(Delivery.objects.values_list("skip_reason", flat=True)) == {"cancelled"}


def test_an_unconfirmed_new_address_is_skipped(mag, smtp_settings):
    from tests.factories import move_login_email

    moved = subscriber(mag)
    move_login_email(moved, "new-address@example.com")
    c = campaign(mag)
    [(lo, hi)] = _start(c)
    pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert smtp_settings.messages == []
    assert Delivery.objects.get().skip_reason == "address changed, not confirmed"


def test_a_refused_recipient_is_failed_and_the_rest_go_on(mag, smtp_settings, monkeypatch):
    people = [subscriber(mag) for _ in range(3)]
    handler = smtp_settings

    async def refuse_one(server, session, envelope, address, rcpt_options):
        if address == people[1].email:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    handler.handle_RCPT = refuse_one
    c = campaign(mag)
    [(lo, hi)] = _start(c)
    result = pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert result["sent"] == 2 and result["failed"] == 1
    assert Delivery.objects.get(customer=people[1]).status == "failed"


def test_the_unsubscribe_token_names_one_subscription_and_cannot_be_forged(mag):
    customer = subscriber(mag)
    subscription = Subscription.objects.get(customer=customer)
    token = mail.unsubscribe_token(subscription.pk)
    assert mail.unsubscribe_token_check(token) == subscription.pk
    assert mail.unsubscribe_token_check(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert mail.unsubscribe_token_check(f"{subscription.pk + 1}.{token.split('.')[1]}") is None


def test_prepared_message_is_valid_mime(mag):
    c = campaign(mag, body_html="<p>{name} 様 <b>新商品</b></p>")
    raw, message_id = mail.PreparedCampaign(c).render(
        mail.Recipient(address="a@example.com", name="<script>", subscription_id=1, delivery_id=7)
    )
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Message-ID"] == message_id == f"<c{c.pk}.d7@shop.test>"
    html = message.get_body(("html",)).get_content()
    assert "&lt;script&gt; 様" in html and "<script>" not in html
    assert "List-Unsubscribe=One-Click" in message["List-Unsubscribe-Post"]


@pytest.mark.parametrize("eight_bit", [True, False])
def test_8bit_and_base64_bodies_read_the_same(mag, eight_bit):
    long_line = "長い行" * 400  # too long for an 8bit line: that part falls back to base64
    c = campaign(mag, body_html=f"<p>{{name}} 様</p><p>{long_line}</p>")
    prepared = mail.PreparedCampaign(c)
    raw, _ = prepared.render(
        mail.Recipient(address="a@example.com", name="佐藤 花子", subscription_id=3, delivery_id=9),
        eight_bit=eight_bit,
    )
    message = email.message_from_bytes(raw, policy=policy.default)
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part["Content-Transfer-Encoding"] == ("8bit" if eight_bit else "base64")
    assert html_part["Content-Transfer-Encoding"] == "base64"
    assert "佐藤 花子 様" in text_part.get_content() and long_line in html_part.get_content()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert mail.unsubscribe_token(3) in message["List-Unsubscribe"]


@pytest.mark.postgres
def test_the_claim_is_planned_once_per_connection(mag, smtp_settings, settings):
    """The claim runs once per half-batch; planning it each time cost more than running it, so
    it is a prepared statement of the connection (and the mails still all go, once each)."""
    from django.db import connection

    settings.MARKETING_CLAIM_BATCH = 2
    people = [subscriber(mag) for _ in range(5)]
    c = campaign(mag)
    (lo, hi), *_ = _start(c)
    pipeline.campaign_send_chunk(campaign_id=c.pk, lo=lo, hi=hi)
    assert received_by(smtp_settings) == sorted(p.email for p in people)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%claimed AS (%"],
        )
        assert cursor.fetchone()[0] >= 1


@pytest.mark.parametrize("eight_bit", [True, False])
@pytest.mark.parametrize("name", ["佐藤 花子", "", "a{name}b", "x{unsubscribe_url}y", "<&>"])
def test_a_rendered_message_is_its_templates_filled_in(mag, eight_bit, name):
    """render() joins parts prepared once per campaign; what it gives is still the templates
    with {unsubscribe_url} and then {name} replaced (a name is never searched again), every
    placeholder filled, and every line ended by CRLF."""
    c = campaign(
        mag,
        body_text="{name} 様\n\n停止: {unsubscribe_url}\n{name}",
        body_html="<p>{name} 様</p><a href='{unsubscribe_url}'>停止</a>{name}",
    )
    prepared = mail.PreparedCampaign(c)
    raw, _ = prepared.render(
        mail.Recipient(address="a@example.com", name=name, subscription_id=3, delivery_id=9),
        eight_bit=eight_bit,
    )
    url = mail.unsubscribe_url(3)
    message = email.message_from_bytes(raw, policy=policy.default)
    # The line break before a MIME boundary belongs to the boundary: compared without it.
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n")
    assert text == prepared.text_template.replace("\r\n", "\n").replace(
        "{unsubscribe_url}", url
    ).replace("{name}", name).rstrip("\n")
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n").rstrip("\n")
    assert html == prepared.html_template.replace("\r\n", "\n").replace(
        "{unsubscribe_url}", url
    ).replace("{name}", html_escape(name)).rstrip("\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
