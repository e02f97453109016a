"""Receipt of a request: its reference number, the changes a correction asks for, and its
creation from staff, from My Page or from an inquiry. Each is one transaction that writes the
first timeline row and the receipt notice."""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.events import PRIVACY_REQUEST_RECEIVED, event_publish
from apps.customers.selectors import address_default, address_list, customer_for_email
from apps.customers.services import inquiry_mark_answered
from apps.privacy_requests.law import ART35_KINDS, EEA_COUNTRIES
from apps.privacy_requests.models import (
    CHANGE_KINDS,
    DISCLOSURE_KINDS,
    GDPR_ONLY_KINDS,
    Art35Ground,
    Channel,
    DisclosureForm,
    FeeStatus,
    IdentityMethod,
    Kind,
    Law,
    Notice,
    PrivacyRequest,
    ReferenceSequence,
    RequesterType,
)
from apps.privacy_requests.services.corrections import changes_apply_scoped, changes_split
from apps.privacy_requests.services.workflow import (
    Step,
    due_date,
    event_add,
    fee_applies,
    notice_queue,
)

if TYPE_CHECKING:
    from apps.customers.models import Customer, Inquiry, User

logger = logging.getLogger(__name__)


def _next_reference(year: int) -> str:
    """PR-YYYY-NNNNNN, gap-free per year; concurrent receipts wait on the year's row lock."""
    try:
        with transaction.atomic():
            ReferenceSequence.objects.get_or_create(year=year)
    except IntegrityError:
        pass  # another transaction created this year's row first: use it
    ReferenceSequence.objects.filter(year=year).update(last_number=F("last_number") + 1)
    number = ReferenceSequence.objects.get(year=year).last_number
    return f"PR-{year}-{number:06d}"


def validate_changes(*, customer: Customer | None, changes: dict) -> dict:
    """Check requested profile changes the way My Page does; return them normalised (JSON)."""
    from apps.customers.forms import CorrectionForm
    from apps.customers.services import PROFILE_FIELDS

    allowed = {*PROFILE_FIELDS, "email"}
    changes = {k: v for k, v in (changes or {}).items() if v not in (None, "")}
    if not changes:
        raise ValidationError(
            {"requested_changes": _("Say which data should be changed and to what.")}
        )
    # Addresses and orders' shipping snapshots too (services/corrections.py).
    changes, addresses, orders = changes_split(changes)
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            {"requested_changes": _("These fields cannot be changed: %s") % ", ".join(unknown)}
        )
    scoped = {
        f"{kind}:{target}:{name}": str(value).strip()
        for kind, by_target in (("address", addresses), ("order", orders))
        for target, fields in by_target.items()
        for name, value in fields.items()
    }
    if customer is None:
        return {**{k: str(v) for k, v in changes.items()}, **scoped}
    changes_apply_scoped(customer=customer, addresses=addresses, orders=orders, dry_run=True)
    if not changes:
        return scoped
    current = {name: getattr(customer, name) for name in allowed}
    data = {k: ("" if v is None else v) for k, v in {**current, **changes}.items()}
    if isinstance(data.get("date_of_birth"), datetime.date):
        data["date_of_birth"] = data["date_of_birth"].isoformat()
    form = CorrectionForm(data=data, instance=customer)
    if not form.is_valid():
        messages = [
            f"{form.fields[name].label}: {' '.join(errors)}" if name in form.fields else errors
            for name, errors in form.errors.items()
        ]
        raise ValidationError({"requested_changes": messages})
    cleaned = {name: form.cleaned_data[name] for name in changes}
    return {
        **{k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in cleaned.items()},
        **scoped,
    }


def law_for(*, customer: Customer | None, in_eea: bool = False) -> str:
    """The shop's rule, not the requester's pick: APPI always applies to the shop; the GDPR as
    well when the person is in the EU/EEA, as staff recorded (``in_eea``) or as the address on
    file says (the default one, else any: a person with one address in Berlin is there)."""
    if in_eea:
        return Law.GDPR
    if customer is None:
        return Law.APPI
    address = address_default(customer=customer)
    countries = (
        {address.country}
        if address is not None
        else set(address_list(customer=customer).values_list("country", flat=True))
    )
    return Law.GDPR if countries & EEA_COUNTRIES else Law.APPI


@transaction.atomic
def privacy_request_create(
    *,
    kind: str,
    channel: str,
    in_eea: bool = False,
    appi_ground: str = "",
    requester_type: str = RequesterType.PERSON,
    customer: Customer | None = None,
    requester_name: str = "",
    requester_email: str = "",
    requester_postal_address: str = "",
    representative_name: str = "",
    details: str = "",
    requested_changes: dict | None = None,
    disclosure_form: str = "",
    received_at: datetime.datetime | None = None,
    inquiry: Inquiry | None = None,
    language: str | None = None,
    by: User | None = None,
) -> PrivacyRequest:
    """Record a request as received, number it, start its clock and acknowledge it."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose what is requested.")})
    law = law_for(customer=customer, in_eea=in_eea)
    if kind in GDPR_ONLY_KINDS and law != Law.GDPR:
        raise ValidationError(
            {
                "kind": _(
                    "Access, portability and objection are GDPR rights, for people in the "
                    "EU/EEA: under Japanese law, ask for a disclosure, a stop of use or an "
                    "erasure."
                )
            }
        )
    if appi_ground not in Art35Ground.values:
        raise ValidationError({"appi_ground": _("Choose one of the grounds of APPI Art. 35.")})
    if appi_ground and kind not in ART35_KINDS:
        raise ValidationError(
            {
                "appi_ground": _(
                    "A ground of APPI Art. 35 is given only for a stop of use, an erasure or a "
                    "stop of provision."
                )
            }
        )
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Choose how the request arrived.")})
    if requester_type != RequesterType.PERSON and not representative_name.strip():
        raise ValidationError({"representative_name": _("Give the name of the representative.")})
    if not (requester_email or requester_postal_address):
        raise ValidationError(
            {"requester_email": _("Give an e-mail or postal address to send the answer to.")}
        )
    if kind in DISCLOSURE_KINDS:
        if disclosure_form not in (DisclosureForm.ELECTRONIC, DisclosureForm.PAPER):
            raise ValidationError(
                {"disclosure_form": _("Choose electronic or paper form for the disclosure.")}
            )
        if disclosure_form == DisclosureForm.PAPER and not requester_postal_address.strip():
            raise ValidationError(
                {
                    "requester_postal_address": _(
                        "Give the postal address to send the paper disclosure to."
                    )
                }
            )
    else:
        disclosure_form = DisclosureForm.NONE
    if kind in CHANGE_KINDS:
        requested_changes = validate_changes(customer=customer, changes=requested_changes or {})
    else:
        requested_changes = {}
    received_at = received_at or timezone.now()
    if received_at > timezone.now():
        raise ValidationError({"received_at": _("The receipt date cannot be in the future.")})

    pending_fee = fee_applies(kind=kind, law=law)
    privacy_request = PrivacyRequest(
        reference=_next_reference(timezone.localdate(received_at).year),
        kind=kind,
        law=law,
        in_eea=bool(in_eea),
        appi_ground=appi_ground,
        channel=channel,
        requester_type=requester_type,
        customer=customer,
        inquiry=inquiry,
        requester_name=requester_name.strip(),
        requester_email=(requester_email or "").strip().lower(),
        requester_postal_address=requester_postal_address.strip(),
        representative_name=representative_name.strip(),
        details=details.strip(),
        requested_changes=requested_changes,
        disclosure_form=disclosure_form,
        language=language or settings.LANGUAGE_CODE,
        received_at=received_at,
        due_on=due_date(received_at, law),
        fee_status=FeeStatus.PENDING if pending_fee else FeeStatus.NOT_APPLICABLE,
        fee_amount=settings.PRIVACY_REQUEST_FEE_YEN if pending_fee else 0,
    )
    privacy_request.full_clean(exclude=["reference", "package"])
    privacy_request.save()
    event_add(privacy_request=privacy_request, step=Step.RECEIVED, by=by, note=channel)
    notice_queue(privacy_request=privacy_request, kind=Notice.Kind.RECEIPT)
    event_publish(
        PRIVACY_REQUEST_RECEIVED,
        customer_id=customer.pk if customer else None,
        data={"request_id": privacy_request.pk, "reference": privacy_request.reference,
              "kind": kind, "law": law, "due_on": privacy_request.due_on.isoformat()},
    )  # fmt: skip
    logger.info(
        "privacy request received request_id=%s kind=%s channel=%s",
        privacy_request.pk,
        kind,
        channel,
    )
    return privacy_request


@transaction.atomic
def privacy_request_create_from_mypage(
    *,
    customer: Customer,
    kind: str,
    appi_ground: str = "",
    details: str = "",
    requested_changes: dict | None = None,
    disclosure_form: str = "",
    postal_address: str = "",
    language: str | None = None,
) -> PrivacyRequest:
    """A member's own request. Their login counts as identity verification where the shop's
    procedure says so (PRIVACY_MYPAGE_COUNTS_AS_VERIFIED). `postal_address`: where a paper
    disclosure goes."""
    from apps.privacy_requests.services.identity import privacy_request_verify_identity

    privacy_request = privacy_request_create(
        kind=kind,
        appi_ground=appi_ground,
        channel=Channel.MYPAGE,
        customer=customer,
        requester_name=customer.full_name,
        requester_email=customer.email,
        requester_postal_address=postal_address,
        details=details,
        requested_changes=requested_changes,
        disclosure_form=disclosure_form,
        language=language,
        by=customer.user,
    )
    if settings.PRIVACY_MYPAGE_COUNTS_AS_VERIFIED:
        privacy_request = privacy_request_verify_identity(
            privacy_request=privacy_request, method=IdentityMethod.MYPAGE, by=customer.user
        )
    return privacy_request


@transaction.atomic
def privacy_request_create_from_inquiry(
    *,
    inquiry: Inquiry,
    kind: str,
    in_eea: bool = False,
    disclosure_form: str = "",
    requested_changes: dict | None = None,
    by: User,
) -> PrivacyRequest:
    """Turn an inquiry from /contact/ into a request; the person is matched by the address on
    file (the inquirer still has to prove who they are: that is what verification is for)."""
    customer = inquiry.customer or customer_for_email(email=inquiry.email)
    if kind in DISCLOSURE_KINDS and not disclosure_form:
        disclosure_form = DisclosureForm.ELECTRONIC
    privacy_request = privacy_request_create(
        kind=kind,
        in_eea=in_eea,
        channel=Channel.INQUIRY_FORM,
        customer=customer,
        requester_name=inquiry.name,
        requester_email=inquiry.email,
        details=inquiry.message,
        disclosure_form=disclosure_form,
        requested_changes=requested_changes,
        received_at=inquiry.created_at,
        inquiry=inquiry,
        by=by,
    )
    inquiry_mark_answered(inquiry=inquiry)
    return privacy_request
