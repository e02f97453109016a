"""Writes that span several apps for a member: joining (profile, consents, subscriptions) and
confirming the login address (the login, the consents given meanwhile, the subscriptions
waiting for it). Each is one transaction; the apps below know nothing of each other's part."""

from __future__ import annotations

import datetime

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.consents import services as consent_services
from apps.consents.models import Purpose, Source
from apps.customers import services as customer_services
from apps.customers.models import Customer, EmailConfirmation
from apps.marketing import selectors as marketing_selectors
from apps.marketing import services as marketing_services


@transaction.atomic
def member_join(
    *,
    email: str,
    password: str,
    family_name: str,
    given_name: str,
    family_name_kana: str = "",
    given_name_kana: str = "",
    phone: str = "",
    date_of_birth: datetime.date | None = None,
    consents: list[tuple[Purpose, bool, str]] = (),
    ip_address: str | None = None,
    user_agent: str = "",
) -> Customer:
    """Sign up with the boxes ticked on the form. Each ticked box is recorded as given, and a
    ticked mail-magazine purpose subscribes to its magazines; none of it is in force (and
    nothing is mailed but the confirmation link) until the address is confirmed."""
    customer = customer_services.member_signup(
        email=email,
        password=password,
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        phone=phone,
        date_of_birth=date_of_birth,
    )
    ticked = [(purpose, wording) for purpose, granted, wording in consents if granted]
    for purpose, wording in ticked:
        consent_services.consent_grant(
            purpose=purpose,
            source=Source.SIGNUP,
            customer=customer,
            evidence=consent_services.Evidence(
                wording=wording, ip_address=ip_address, user_agent=user_agent
            ),
        )
    purpose_ids = [purpose.pk for purpose, _wording in ticked]
    for magazine in marketing_selectors.magazines_active().filter(purpose_id__in=purpose_ids):
        marketing_services.subscription_subscribe_member(
            customer=customer, magazine=magazine, ip_address=ip_address, user_agent=user_agent
        )
    return customer


@transaction.atomic
def member_join_or_remind(
    *,
    email: str,
    password: str,
    family_name: str,
    given_name: str,
    family_name_kana: str = "",
    given_name_kana: str = "",
    phone: str = "",
    date_of_birth: datetime.date | None = None,
    consents: list[tuple[Purpose, bool, str]] = (),
    ip_address: str | None = None,
    user_agent: str = "",
) -> Customer | None:
    """Signup that does not tell whether the address has an account: a new address joins (and
    gets its confirmation link), a registered one is mailed "you already have an account"; the
    caller answers both the same. Returns the new customer, or None for a registered address."""
    try:
        with transaction.atomic():
            return member_join(
                email=email,
                password=password,
                family_name=family_name,
                given_name=given_name,
                family_name_kana=family_name_kana,
                given_name_kana=given_name_kana,
                phone=phone,
                date_of_birth=date_of_birth,
                consents=consents,
                ip_address=ip_address,
                user_agent=user_agent,
            )
    except ValidationError as exc:
        email_errors = getattr(exc, "error_dict", {}).get("email", [])
        if not any(error.code == "email_taken" for error in email_errors):
            raise
    # The new-member path hashes the password; doing the same here keeps the two answers
    # equally slow, so the time taken does not tell them apart either.
    make_password(password)
    customer_services.signup_existing_account_remind(email=email)
    return None


@transaction.atomic
def member_email_confirm(
    *,
    token: str,
    keep_session_key: str | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> EmailConfirmation:
    """The link in the mail was opened and confirmed: the login address is proved (moved, for
    a change), the consents given meanwhile come into force with this click as their evidence,
    and the subscriptions waiting for it start."""
    confirmation = customer_services.user_email_confirm(
        token=token, keep_session_key=keep_session_key
    )
    customer = Customer.objects.get(user_id=confirmation.user_id)
    consent_services.consent_confirm_pending(
        customer=customer, ip_address=ip_address, user_agent=user_agent
    )
    marketing_services.subscription_activate_confirmed(customer=customer)
    return confirmation
