"""/privacy/ meets GDPR Art. 13 beside APPI Art. 32, and publishes the request procedure of
seed 003 (form, identity documents per requester, fee and how to pay)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.consents import services
from apps.consents.models import Contractor, Purpose
from tests.consents.factories import purpose
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _page(client) -> str:
    response = client.get(reverse("consents:notice"))
    assert response.status_code == 200
    return response.content.decode()


def test_each_purpose_shows_its_legal_basis(client):
    page = _page(client)
    assert "Performing our contract with you (GDPR Art. 6(1)(b))" in page  # fulfil sales
    assert "Your consent (GDPR Art. 6(1)(a))" in page  # mail magazines
    assert Purpose.objects.get(code="fulfil_sales").legal_basis == "contract"
    assert {p.legal_basis for p in Purpose.objects.filter(requires_opt_in=True)} == {"consent"}
    opt_in = purpose("newsletter")
    opt_in.legal_basis = Purpose.LegalBasis.LEGITIMATE_INTERESTS
    with pytest.raises(ValidationError):
        opt_in.full_clean()


def test_keeping_periods_come_from_the_retention_rules_and_follow_the_settings(client, settings):
    settings.RETENTION_INQUIRY_DAYS = 400
    settings.RETENTION_GUEST_INACTIVE_YEARS = 4
    page = _page(client)
    assert "deleted 400 days after we receive them" in page
    assert "anonymised 4 years after their last order" in page
    assert "Records of provision to third parties" in page


def test_every_kept_category_of_personal_data_has_its_period_published(client, settings):
    """Sessions, request files and records, messages to the systems holding a copy, one-time
    links and Shopify's ids: each rule that ends personal data publishes how long it is kept."""
    settings.WEBHOOK_GIVEN_UP_KEEP_DAYS = 45
    settings.SHOPIFY_WEBHOOK_IDS_KEEP_DAYS = 50
    settings.PRIVACY_REQUEST_RECORD_YEARS = 6
    page = _page(client)
    assert "Login sessions: deleted the day after they expire." in page
    assert "45 days after delivery was given up" in page
    assert "One-time links to your privacy settings" in page
    assert "deleted 50 days after we handled them" in page
    assert "Identity documents sent with a privacy request" in page
    assert "6 years after the erasure" in page


def test_recipients_abroad_are_listed_with_country_system_and_safeguards(client):
    assert "We do not provide personal data to recipients in foreign countries." in _page(client)
    Contractor.objects.create(
        name="Mail Cloud Inc.", address="San Francisco", country="US",
        country_system="CCPA and the FTC Act", data_items="e-mail address",
        purpose="Sending our mail magazines", safeguards="DPA with security measures",
    )  # fmt: skip
    customer = CustomerFactory()
    services.consent_grant(
        purpose=purpose("third_party_provision"), source="mypage", customer=customer,
        evidence=services.Evidence(
            wording="Provided to Partner Pte. Ltd. in Singapore (SG). System: PDPA 2012. "
            "Measures: ISO 27001 certified."
        ),
    )  # fmt: skip
    services.provision_record_create(
        customers=[customer], recipient_name="Partner Pte. Ltd.", recipient_address="Singapore",
        data_items="name", basis="consent", recipient_country="SG", country_system="PDPA 2012",
        recipient_measures="ISO 27001 certified",
        provided_on=datetime.date.today(),
    )  # fmt: skip
    page = _page(client)
    for text in ["Sending our mail magazines", "United States", "CCPA and the FTC Act",
                 "DPA with security measures", "Singapore", "PDPA 2012"]:  # fmt: skip
        assert text in page, text
    # Recipients' names stay off the public page.
    assert "Mail Cloud Inc." not in page and "Partner Pte. Ltd." not in page


def test_the_contact_and_the_right_to_complain_are_published(client, settings):
    settings.SHOP_DATA_PROTECTION_CONTACT = "dpo@shop.test"
    settings.SHOP_EU_REPRESENTATIVE = "EU Rep GmbH, Berlin"
    page = _page(client)
    assert "dpo@shop.test" in page and "EU Rep GmbH, Berlin" in page
    assert "Personal Information Protection Commission" in page
    assert "supervisory authority" in page and "GDPR Art. 77" in page


def test_the_request_procedure_of_seed_003_is_published(client, settings):
    settings.PRIVACY_REQUEST_FEE_PAYMENT = "Bank transfer to Mizuho Bank, account 1234567"
    settings.PRIVACY_REQUIRE_SEAL_CERTIFICATE = True
    page = _page(client)
    for text in ["request form", "recorded delivery mail", "driver's license", "passport",
                 "A legal representative", "family register extract", "power of attorney",
                 "seal registration certificate issued within the last three months",
                 "1,000 yen per request", "Bank transfer to Mizuho Bank, account 1234567",
                 "every request under the GDPR"]:  # fmt: skip
        assert text in page, text
    settings.PRIVACY_REQUEST_FEE_PAYMENT = ""
    settings.PRIVACY_REQUIRE_SEAL_CERTIFICATE = False
    page = _page(client)
    assert "We tell you how to pay" in page
    assert "seal registration certificate" not in page
