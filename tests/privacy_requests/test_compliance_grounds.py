"""APPI Art. 35 (2022): a stop of use or an erasure records its ground; where doing it is
difficult the shop may take an alternative measure instead, which staff record and the notice
tells; and a stop of provision does not stop consignment to a contractor (issue 15, "Requests")."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.consents.models import Contractor, ProvisionRecord
from apps.consents.services import provision_record_create
from apps.core.privacy import RestrictionScope, personal_data_restrict
from apps.customers.models import Customer
from apps.privacy_requests import services
from apps.privacy_requests.models import Art35Ground, Kind, Outcome, PrivacyRequest, Status
from tests.privacy_requests.conftest import make_request, to_review

pytestmark = pytest.mark.django_db

DIFFICULT = "Erasing it from the archived tapes would mean restoring seven years of backups."
INSTEAD = "We blocked every use of the archived copy; it is overwritten in the 2027 rotation."


@pytest.mark.parametrize("kind", [Kind.STOP_OF_USE, Kind.ERASURE, Kind.STOP_OF_PROVISION])
def test_the_ground_is_recorded_on_the_request(customer, kind):
    pr = make_request(customer, kind=kind, appi_ground=Art35Ground.NO_LONGER_NEEDED)
    assert PrivacyRequest.objects.get(pk=pr.pk).appi_ground == "no_longer_needed"
    assert {g.value for g in Art35Ground if g.value} == {
        "unlawful_use",
        "improper_acquisition",
        "no_longer_needed",
        "breach",
        "harm_to_rights",
    }


def test_a_ground_only_where_art_35_applies(customer):
    for kind, ground in ((Kind.DISCLOSURE, "breach"), (Kind.ERASURE, "because")):
        with pytest.raises(ValidationError):
            make_request(customer, kind=kind, appi_ground=ground)
    assert not PrivacyRequest.objects.exists()


def test_a_member_gives_the_ground_on_my_page(client, customer):
    client.force_login(customer.user)
    response = client.post(
        reverse("privacy_requests:create"), {"kind": "erasure", "appi_ground": "breach"}
    )
    assert response.status_code == 302
    assert PrivacyRequest.objects.get().appi_ground == Art35Ground.BREACH


def test_an_alternative_measure_is_recorded_and_told(
    customer, officer, django_capture_on_commit_callbacks
):
    pr = to_review(
        make_request(customer, kind=Kind.ERASURE, appi_ground="no_longer_needed", language="en"),
        officer,
    )
    for measure, reasons in (("", DIFFICULT), (INSTEAD, " ")):
        with pytest.raises(ValidationError):
            services.privacy_request_take_alternative_measure(
                privacy_request=pr, by=officer, measure=measure, reasons=reasons
            )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.privacy_request_take_alternative_measure(
            privacy_request=pr, by=officer, measure=INSTEAD, reasons=DIFFICULT
        )
    pr.refresh_from_db()
    assert (pr.status, pr.outcome) == (Status.COMPLETED, Outcome.ALTERNATIVE)
    assert pr.alternative_measure == INSTEAD and pr.decision_reasons == DIFFICULT
    assert pr.events.filter(step="alternative_measure").exists()
    [notice] = mail.outbox
    assert INSTEAD in notice.body and DIFFICULT in notice.body
    assert "instead" in notice.body and "Art. 35" in notice.body
    customer.refresh_from_db()
    assert customer.status != Customer.Status.ERASED  # the measure replaced the erasure


def test_no_alternative_measure_for_other_kinds(customer, officer):
    pr = to_review(make_request(customer, kind=Kind.CORRECTION,
                                requested_changes={"phone": "03-1111-2222"}), officer)  # fmt: skip
    with pytest.raises(ValidationError):
        services.privacy_request_take_alternative_measure(
            privacy_request=pr, by=officer, measure=INSTEAD, reasons=DIFFICULT
        )
    assert PrivacyRequest.objects.get(pk=pr.pk).status == Status.REVIEW


def test_staff_take_the_alternative_measure_from_the_admin(client, customer, officer):
    pr = to_review(make_request(customer, kind=Kind.STOP_OF_USE), officer)
    client.force_login(officer)
    url = reverse("admin:privacy_requests_privacyrequest_changelist")
    data = {"action": "take_alternative_measure", "_selected_action": [pr.pk], "apply": "1"}
    response = client.post(url, {**data, "measure": "", "reasons": DIFFICULT})
    assert response.status_code == 200 and response.context["form"].errors
    client.post(url, {**data, "measure": INSTEAD, "reasons": DIFFICULT})
    assert PrivacyRequest.objects.get(pk=pr.pk).outcome == Outcome.ALTERNATIVE


def test_a_stop_of_provision_does_not_stop_consignment(customer):
    personal_data_restrict(customer_id=customer.pk, scope=RestrictionScope.STOP_PROVISION)
    contractor = Contractor.objects.create(
        name="配送株式会社", address="大阪", data_items="氏名, 住所", purpose="配送",
        safeguards="秘密保持契約",
    )  # fmt: skip
    record = provision_record_create(
        customers=[customer],
        recipient_name="配送株式会社",
        recipient_address="大阪",
        data_items="氏名, 住所",
        basis=ProvisionRecord.Basis.CONSIGNMENT,
        contractor=contractor,
    )
    assert list(record.customers.all()) == [customer]
    # Provision to a third party stays stopped.
    with pytest.raises(ValidationError):
        provision_record_create(
            customers=[customer],
            recipient_name="株式会社パートナー",
            recipient_address="東京",
            data_items="氏名",
            basis=ProvisionRecord.Basis.CONSENT,
        )
