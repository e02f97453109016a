"""Which law applies is the shop's rule, not the requester's pick (issue 15, "Requests"): APPI
always; GDPR as well when the person is in the EU/EEA (the address on file, or recorded by staff).
Both: the earlier deadline, no fee, and refusals carry GDPR Art. 12(4)."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.core.intake import RequestFiling, request_file
from apps.integration.api.requests import RequestIn
from apps.privacy_requests import services
from apps.privacy_requests.models import FeeStatus, Kind, Law, PrivacyRequest
from apps.privacy_requests.services import add_months
from tests.factories import AddressFactory, CustomerFactory
from tests.privacy_requests.conftest import make_request, to_review

pytestmark = pytest.mark.django_db

ART_12_4_EN = "lodge a complaint with a supervisory authority"
ART_12_4_JA = "監督機関に苦情を申し立てる権利"


def in_germany(customer):
    AddressFactory(
        customer=customer, country="DE", postal_code="10115", prefecture="Berlin", is_default=True
    )
    return customer


def test_the_address_country_decides_the_law_not_the_requester(settings):
    settings.PRIVACY_REQUEST_FEE_YEN = 1000
    settings.PRIVACY_REQUEST_DUE_DAYS = 14
    in_japan = CustomerFactory()
    AddressFactory(customer=in_japan, is_default=True)
    appi = make_request(in_japan, kind=Kind.DISCLOSURE)
    assert appi.law == Law.APPI and appi.fee_status == FeeStatus.PENDING
    # Someone in Japan cannot take the GDPR's rights (and so skip the APPI fee).
    with pytest.raises(ValidationError):
        make_request(in_japan, kind=Kind.GDPR_ACCESS)
    both = make_request(in_germany(CustomerFactory()), kind=Kind.DISCLOSURE)
    assert both.law == Law.GDPR
    assert (both.fee_status, both.fee_amount) == (FeeStatus.NOT_APPLICABLE, 0)


def test_staff_record_that_the_person_is_in_the_eea(customer):
    recorded = make_request(customer, kind=Kind.GDPR_ACCESS, in_eea=True)
    assert recorded.law == Law.GDPR and recorded.in_eea


@pytest.mark.parametrize(("appi_days", "gdpr_wins"), [(14, False), (60, True)])
def test_when_both_apply_the_earlier_deadline(settings, appi_days, gdpr_wins):
    settings.PRIVACY_REQUEST_DUE_DAYS = appi_days
    received = timezone.now() - datetime.timedelta(days=1)
    pr = make_request(in_germany(CustomerFactory()), kind=Kind.ERASURE, received_at=received)
    day = timezone.localdate(received)
    appi, gdpr = day + datetime.timedelta(days=appi_days), add_months(day, 1)
    assert pr.due_on == min(appi, gdpr) == (gdpr if gdpr_wins else appi)


def test_my_page_has_no_law_to_pick(client, customer, settings):
    settings.PRIVACY_REQUEST_FEE_YEN = 1000
    AddressFactory(customer=customer, is_default=True)
    client.force_login(customer.user)
    page = client.get(reverse("privacy_requests:create"))
    assert "law" not in page.context["form"].fields
    response = client.post(
        reverse("privacy_requests:create"),
        {"kind": "disclosure", "law": "gdpr", "disclosure_form": "electronic"},
    )
    assert response.status_code == 302
    pr = PrivacyRequest.objects.get()
    assert pr.law == Law.APPI and pr.fee_status == FeeStatus.PENDING


def test_the_storefront_cannot_pick_the_law_either(customer):
    assert "law" not in RequestIn().fields
    state = request_file(
        RequestFiling(
            kind="disclosure",
            customer_id=customer.pk,
            channel="storefront",
            vouched_by="api-client:1",
            law="gdpr",
        )
    )
    assert PrivacyRequest.objects.get(reference=state.reference).law == Law.APPI


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("partial", [False, True])
def test_gdpr_refusals_tell_of_the_supervisory_authority_and_the_courts(
    officer, django_capture_on_commit_callbacks, language, partial
):
    customer = in_germany(CustomerFactory())
    pr = to_review(make_request(customer, kind=Kind.ERASURE, language=language), officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        if partial:
            services.privacy_request_approve(
                privacy_request=pr, by=officer, partial_refusal_reasons="Orders are tax records."
            )
        else:
            services.privacy_request_reject(privacy_request=pr, by=officer, reasons="A dispute.")
    [decision] = mail.outbox
    assert (ART_12_4_EN if language == "en" else ART_12_4_JA) in decision.body
    assert "12(4)" in decision.body or "第12条第4項" in decision.body


def test_appi_only_refusals_do_not_cite_the_gdpr(officer, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    pr = to_review(make_request(customer, kind=Kind.ERASURE, language="en"), officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_reject(privacy_request=pr, by=officer, reasons="A dispute.")
    assert ART_12_4_EN not in mail.outbox[-1].body


def test_staff_record_the_eea_on_an_open_request(client, customer, officer, settings):
    settings.PRIVACY_REQUEST_FEE_YEN = 1000
    settings.PRIVACY_REQUEST_DUE_DAYS = 60
    pr = to_review(make_request(customer, kind=Kind.DISCLOSURE), officer)
    pr = PrivacyRequest.objects.get(pk=pr.pk)
    pr.fee_status, pr.status = FeeStatus.PENDING, "fee"  # as if still waiting for the fee
    pr.save(update_fields=["fee_status", "status"])
    due = pr.due_on
    client.force_login(officer)
    client.post(
        reverse("admin:privacy_requests_privacyrequest_changelist"),
        {"action": "record_in_eea", "_selected_action": [pr.pk]},
    )
    pr.refresh_from_db()
    assert pr.law == Law.GDPR and pr.in_eea
    assert (pr.fee_status, pr.fee_amount, pr.status) == (FeeStatus.NOT_APPLICABLE, 0, "review")
    assert pr.due_on == min(due, add_months(timezone.localdate(pr.received_at), 1)) < due
    assert pr.events.filter(step="law_recorded").exists()
    services.privacy_request_withdraw(privacy_request=pr, by=officer)
    with pytest.raises(ValidationError):
        services.privacy_request_record_in_eea(privacy_request=pr, by=officer)


def test_the_receipt_says_both_laws_apply(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_request(in_germany(CustomerFactory()), kind=Kind.DISCLOSURE, language="en")
        make_request(CustomerFactory(), kind=Kind.ERASURE, language="en")
    both, appi = mail.outbox
    assert "GDPR" in both.body and "free of charge" in both.body
    assert "GDPR" not in appi.body
