"""Provision abroad (APPI Art. 28) and the contractor register's supervision (APPI Art. 25)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.consents import services, transfers
from apps.consents.models import Contractor, ProvisionRecord
from apps.core import roles
from apps.core.dates import add_months
from tests.consents.factories import purpose
from tests.factories import CustomerFactory, make_staff

pytestmark = pytest.mark.django_db

US_SYSTEM = "米国: 連邦の包括的な個人情報保護法はなく、州法(CCPA等)とFTC法がある"
US_MEASURES = "委託契約で安全管理措置・再委託の制限・漏えい時の報告を義務付け"


def _contractor(**fields) -> Contractor:
    values = {
        "name": "Mail Cloud Inc.",
        "address": "San Francisco, CA",
        "data_items": "e-mail address",
        "purpose": "sending mail magazines",
        "safeguards": US_MEASURES,
        "country": "US",
        "country_system": US_SYSTEM,
        **fields,
    }
    contractor = Contractor(**values)
    contractor.full_clean()
    contractor.save()
    return contractor


def test_a_recipient_abroad_without_its_countrys_system_or_measures_is_refused():
    with pytest.raises(ValidationError) as caught:
        Contractor(
            name="x", address="y", data_items="z", purpose="p", safeguards="", country="US"
        ).full_clean()
    assert {"country_system", "safeguards"} <= set(caught.value.message_dict)
    with pytest.raises(ValidationError) as caught:
        Contractor(
            name="x", address="y", data_items="z", purpose="p", safeguards="s", country="usa"
        ).full_clean()
    assert "country" in caught.value.message_dict
    # A Japanese contractor needs neither.
    Contractor(name="x", address="y", data_items="z", purpose="p", safeguards="s").full_clean()
    customer = CustomerFactory()
    services.consent_grant(
        purpose=purpose("third_party_provision"), source="mypage", customer=customer
    )
    with pytest.raises(ValidationError) as caught:
        services.provision_record_create(
            customers=[customer], recipient_name="Partner Inc.", recipient_address="NY",
            data_items="name", basis="consent", recipient_country="US",
        )  # fmt: skip
    assert {"country_system", "recipient_measures"} <= set(caught.value.message_dict)
    assert not ProvisionRecord.objects.exists()


def test_consent_on_wording_that_does_not_name_the_country_system_and_measures_is_refused():
    informed, uninformed = CustomerFactory(), CustomerFactory()
    third_party = purpose("third_party_provision")
    wording = transfers.foreign_transfer_wording(
        recipient="Partner Inc.", country="US", country_system=US_SYSTEM,
        recipient_measures=US_MEASURES,
    )  # fmt: skip
    assert "United States" in wording and US_SYSTEM in wording and US_MEASURES in wording
    services.consent_grant(
        purpose=third_party, source="mypage", customer=informed,
        evidence=services.Evidence(wording=wording),
    )  # fmt: skip
    services.consent_grant(purpose=third_party, source="mypage", customer=uninformed)
    abroad = {
        "recipient_name": "Partner Inc.", "recipient_address": "New York", "data_items": "name",
        "basis": "consent", "recipient_country": "US", "country_system": US_SYSTEM,
        "recipient_measures": US_MEASURES,
    }  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        services.provision_record_create(customers=[informed, uninformed], **abroad)
    assert f"#{uninformed.pk}" in str(caught.value) and f"#{informed.pk}" not in str(caught.value)
    assert not ProvisionRecord.objects.exists()

    record = services.provision_record_create(customers=[informed], **abroad)
    assert (record.recipient_country, record.is_foreign) == ("US", True)
    # The same generic consent still covers a recipient in Japan.
    domestic = {**abroad, "recipient_country": "JP", "country_system": "", "recipient_measures": ""}
    services.provision_record_create(customers=[uninformed], **domestic)


def test_consignment_to_a_contractor_abroad_carries_its_country_system_and_measures(client):
    contractor = _contractor()
    record = services.provision_record_create(
        customers=[CustomerFactory()], recipient_name=contractor.name,
        recipient_address=contractor.address, data_items="e-mail", basis="consignment",
        contractor=contractor,
    )  # fmt: skip
    assert (record.recipient_country, record.country_system, record.recipient_measures) == (
        "US",
        US_SYSTEM,
        US_MEASURES,
    )
    # The person's provision-record export names the country, its system and the measures.
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    export = client.get(
        reverse("admin:consents_provisionrecord_export", args=[record.customers.get().pk])
    ).content.decode("utf-8-sig")
    assert '"US"' in export and US_SYSTEM in export and US_MEASURES in export
    with pytest.raises(ValidationError) as caught:
        services.provision_record_create(
            customers=[CustomerFactory()], recipient_name=contractor.name,
            recipient_address=contractor.address, data_items="e-mail", basis="consignment",
            contractor=contractor, recipient_country="JP",
        )  # fmt: skip
    assert "recipient_country" in caught.value.message_dict


TODAY = datetime.date(2026, 6, 15)


def test_a_contractor_whose_review_is_older_than_the_interval_is_overdue(settings):
    settings.CONTRACTOR_REVIEW_MONTHS = 12
    on_time = add_months(TODAY, -12)
    assert _contractor(last_reviewed_on=on_time).supervision(today=TODAY) == "ok"
    late = on_time - datetime.timedelta(days=1)
    assert _contractor(last_reviewed_on=late).supervision(today=TODAY) == "review_overdue"
    assert _contractor().supervision(today=TODAY) == "review_overdue"  # never reviewed
    ended = _contractor(last_reviewed_on=TODAY, contract_ends_on=TODAY - datetime.timedelta(1))
    assert ended.supervision(today=TODAY) == "contract_ended"
    assert _contractor(is_active=False).supervision(today=TODAY) == "inactive"


def test_categories_of_data_consigned_are_from_the_list():
    _contractor(data_categories=["contact", "orders"])
    with pytest.raises(ValidationError) as caught:
        _contractor(data_categories=["contact", "blood type"])
    assert "data_categories" in caught.value.message_dict


def test_admin_register_shows_supervision_and_filters_by_it_and_by_category(client):
    today = timezone.localdate()
    reviewed = _contractor(name="Reviewed", last_reviewed_on=today, data_categories=["payment"])
    overdue = _contractor(name="Overdue", data_categories=["contact"])
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    url = reverse("admin:consents_contractor_changelist")
    body = client.get(url).content.decode()
    assert body.count('class="supervision supervision-review_overdue"') == 1
    assert "consents/admin.css" in body and "United States" in body
    flagged = client.get(url, {"supervision": "review_overdue"}).context["cl"].result_list
    assert [c.pk for c in flagged] == [overdue.pk]
    paying = client.get(url, {"data": "payment"}).context["cl"].result_list
    assert [c.pk for c in paying] == [reviewed.pk]
    # The change form offers the supervision fields and refuses a contractor abroad without
    # its country's system.
    response = client.post(
        reverse("admin:consents_contractor_add"),
        {"name": "Cloud", "address": "Singapore", "country": "SG", "country_system": "",
         "data_items": "e-mail", "data_categories": ["contact"], "purpose": "hosting",
         "safeguards": "contract", "last_reviewed_on": today.isoformat(), "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "country_system" in response.context["adminform"].form.errors
    assert not Contractor.objects.filter(name="Cloud").exists()


def test_a_recorded_provision_abroad_opens_read_only_in_the_admin(client):
    contractor = _contractor()
    record = services.provision_record_create(
        customers=[CustomerFactory()], recipient_name=contractor.name,
        recipient_address=contractor.address, data_items="e-mail", basis="consignment",
        contractor=contractor,
    )  # fmt: skip
    client.force_login(make_staff(roles.PRIVACY_OFFICER))
    page = client.get(reverse("admin:consents_provisionrecord_change", args=[record.pk]))
    assert page.status_code == 200 and US_SYSTEM in page.content.decode()
