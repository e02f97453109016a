"""The Specified E-mail Act's record of consent, per address: every consent event, confirmation
and mail sent on it, as a CSV the privacy officer downloads (address by POST, access-logged);
and retention keeps those records until the later of one month after the last mail and 3 years."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.consents.models import ConsentEvent
from apps.core import roles
from apps.marketing import retention
from apps.marketing.models import Campaign, Delivery, Subscription
from apps.marketing.pipeline.fanout import campaign_fanout
from tests.factories import make_staff
from tests.marketing.helpers import campaign, magazine

pytestmark = pytest.mark.django_db

URL = "admin:marketing_subscription_evidence"
ADDRESS = "fan@example.com"


@pytest.fixture
def mailed(client, mailoutbox, django_capture_on_commit_callbacks):
    """A visitor who subscribed by the form, confirmed by the link, and got one campaign."""
    mag = magazine()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("marketing:subscribe"), {"email": ADDRESS, "magazine": mag.pk})
    link = next(l for l in mailoutbox[-1].body.splitlines() if "/newsletter/confirm/" in l)  # noqa: E741
    client.post(link.replace("http://testserver", ""), REMOTE_ADDR="198.51.100.9")
    c = campaign(mag, subject='=HYPERLINK("https://evil.example")')
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SENDING)
    campaign_fanout(campaign_id=c.pk)
    Delivery.objects.filter(campaign=c).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), message_id="<m1@shop.test>"
    )
    client.logout()
    return Subscription.objects.get()


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_privacy_officer_downloads_the_record_of_consent_for_one_address(client, mailed):
    officer = make_staff(roles.PRIVACY_OFFICER)
    client.force_login(officer)
    form = client.get(reverse(URL))
    assert form.status_code == 200 and ADDRESS not in reverse(URL)
    response = client.post(reverse(URL), {"email": "  Fan@Example.com "})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert ADDRESS not in response["Content-Disposition"]
    rows = _rows(response)
    text = "\n".join(",".join(r) for r in rows)
    assert "one month after the last mail" in text and "3 years" in text
    kinds = [r[0] for r in rows]
    event = ConsentEvent.objects.get(customer=mailed.customer, action="grant")
    assert "consent_event" in kinds and "confirmation_sent" in kinds and "mail_sent" in kinds
    [consent] = [r for r in rows if r[0] == "consent_event"]
    assert str(event.pk) in consent and "198.51.100.9" in consent
    assert "subscribe_form" in consent and event.wording.sha256 in consent
    [mail] = [r for r in rows if r[0] == "mail_sent"]
    assert '\'=HYPERLINK("https://evil.example")' in mail  # formula-safe
    assert str(event.pk) in mail  # the consent the mail was sent on
    log = AccessLog.objects.get(action="export")
    assert log.staff_user_id == officer.pk and log.object_id == str(mailed.customer_id)

    from apps.marketing import services

    services.subscription_unsubscribe(subscription=mailed)  # the opt-out is on record too
    rows = _rows(client.post(reverse(URL), {"email": ADDRESS}))
    assert [r for r in rows if r[0] == "consent_event" and r[5] == "withdraw"]
    [suppressed] = [r for r in rows if r[0] == "suppressed"]
    assert suppressed[5] == "unsubscribed"


def test_an_unknown_address_gives_a_message_and_no_file(client, mailed):
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    response = client.post(reverse(URL), {"email": "nobody@example.com"})
    assert response.status_code == 200 and not response.get("Content-Disposition")
    assert response.context["form"].errors
    assert not AccessLog.objects.filter(action="export").exists()


@pytest.mark.parametrize("role", [roles.SUPPORT, roles.MARKETING])
def test_only_the_privacy_officer_may_export_it(client, mailed, role):
    client.force_login(make_staff(role))
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), {"email": ADDRESS}).status_code == 403


def test_retention_keeps_the_records_until_the_later_of_a_month_after_the_last_mail_and_3_years(
    mailed,
):
    """A superseded consent is kept 3 years, and longer while a mail sent on it is younger
    than 3 years (so at least a month after that last mail); both go once that mail is 3 years
    old. (The ledger cannot be back-dated: the retention job runs on later days instead.)"""
    from apps.marketing import services

    event = ConsentEvent.objects.get(customer=mailed.customer, action="grant")
    delivery = Delivery.objects.get()
    services.subscription_unsubscribe(subscription=mailed)  # the grant no longer decides
    start = event.occurred_at
    last_mail = start + datetime.timedelta(days=2 * 365)
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=last_mail)
    for day in (
        start + datetime.timedelta(days=3 * 365 - 2),  # within 3 years of the consent
        last_mail + datetime.timedelta(days=32),  # a month after the last mail
        last_mail + datetime.timedelta(days=3 * 365 - 2),  # the mail is not 3 years old yet
    ):
        retention.purge(today=day.date())
        assert ConsentEvent.objects.filter(pk=event.pk).exists(), day
        assert Delivery.objects.filter(pk=delivery.pk).exists(), day
    retention.purge(today=(last_mail + datetime.timedelta(days=3 * 366)).date())
    assert not Delivery.objects.filter(pk=delivery.pk).exists()
    assert not ConsentEvent.objects.filter(pk=event.pk).exists()
