"""The request app's side of ``apps/core/intake.py``: requests filed by a connected system (the
shop's storefront through the API, Shopify's privacy webhooks) and their state.

Identity. Such a request arrives for a person the system knows by its own login (the storefront's
member account, the Shopify customer), and the system says so with its key. The request starts
with identity verified as "vouched for by the shop's connected system" (``IdentityMethod.VOUCHED``)
and the timeline names who vouched (``api-client:3``: an id, never a name). A privacy officer can
accept this for the same reason My Page's login counts (``PRIVACY_MYPAGE_COUNTS_AS_VERIFIED``): the
storefront is the shop's own system, the one the person signed up with, its key was issued by the
privacy officer with the ``requests:write`` scope, and the timeline shows which key to revoke if
it ever vouched wrongly. The notices still go to the address on file, never to one the filing
brings, so a wrong voucher at worst tells the right person about a request they did not make.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.intake import RequestFiling, RequestState
from apps.customers.selectors import address_default, customer_get
from apps.privacy_requests.models import (
    CLOSED_STATUSES,
    DISCLOSURE_KINDS,
    Channel,
    DisclosureForm,
    FeeStatus,
    IdentityMethod,
    PrivacyRequest,
    Status,
)
from apps.privacy_requests.services import privacy_request_create
from apps.privacy_requests.services.workflow import Step, event_add, lock, transition

# Only connected systems file through here; My Page, the inquiry form and staff have their own
# services.
CHANNELS = {Channel.STOREFRONT, Channel.SHOPIFY}
# "<kind of system>:<id>", e.g. "api-client:3" or "shopify-client:7": ids only, it is written to
# the timeline.
VOUCHER = re.compile(r"[a-z][a-z0-9_-]{0,39}:[A-Za-z0-9._-]{1,60}")


@transaction.atomic
def file(filing: RequestFiling) -> RequestState:
    """Receive the request with the person's contact details on file and record the identity as
    vouched for; one transaction (the request, its timeline, the receipt notice)."""
    if filing.channel not in CHANNELS:
        raise ValidationError({"channel": _("Choose how the request arrived.")})
    if not VOUCHER.fullmatch(filing.vouched_by or ""):
        raise ValidationError({"vouched_by": _("Say which connected system vouches, by its id.")})
    customer = customer_get(pk=filing.customer_id)
    if customer is None:
        raise ValidationError({"customer": _("Nobody on file has this id, or they were erased.")})
    postal_address = ""
    if filing.kind in DISCLOSURE_KINDS and filing.disclosure_form == DisclosureForm.PAPER:
        address = address_default(customer=customer)
        if address is None:
            raise ValidationError(
                {
                    "disclosure_form": _(
                        "We hold no default address for this person to post a paper "
                        "disclosure to: send one first, or choose electronic form."
                    )
                }
            )
        postal_address = address.one_line
    if not customer.email and not postal_address:
        raise ValidationError(
            {
                "customer": _(
                    "We hold no e-mail address for this person to send the answers to: "
                    "send one first."
                )
            }
        )
    # ``filing.law`` is not read: the law is the shop's rule (receipt.law_for), from the
    # address on file, never the filer's pick.
    privacy_request = privacy_request_create(
        kind=filing.kind,
        channel=filing.channel,
        customer=customer,
        requester_name=customer.full_name,
        requester_email=customer.email,
        requester_postal_address=postal_address,
        details=filing.details,
        requested_changes=filing.requested_changes,
        disclosure_form=filing.disclosure_form,
        received_at=filing.received_at,
        language=filing.language,
    )
    return _state_of(_verify_vouched(privacy_request, vouched_by=filing.vouched_by))


def _verify_vouched(privacy_request: PrivacyRequest, *, vouched_by: str) -> PrivacyRequest:
    """As ``privacy_request_verify_identity`` does for the other methods, which a member or staff
    can choose: this one only a connected system's filing can."""
    privacy_request = lock(privacy_request)
    transition(privacy_request, Status.IDENTITY, step=Step.VERIFICATION_STARTED, by=None)
    privacy_request.identity_method = IdentityMethod.VOUCHED
    privacy_request.identity_verified_at = timezone.now()
    privacy_request.save(update_fields=["identity_method", "identity_verified_at", "updated_at"])
    event_add(
        privacy_request=privacy_request,
        step=Step.IDENTITY_VERIFIED,
        note=f"{IdentityMethod.VOUCHED.label} ({vouched_by})",
    )
    if privacy_request.fee_status == FeeStatus.PENDING:
        return transition(privacy_request, Status.FEE, step=Step.FEE_REQUESTED, by=None)
    return transition(privacy_request, Status.REVIEW, step=Step.IN_REVIEW, by=None)


def state(*, reference: str, customer_ids) -> RequestState | None:
    """The request ``reference`` if its person is one of ``customer_ids`` (a list, or a
    subquery of ids: a client that brought many people passes ``values("customer_id")``)."""
    privacy_request = (
        PrivacyRequest.objects.filter(reference=reference, customer_id__in=customer_ids)
        .only("reference", "kind", "status", "received_at", "due_on", "closed_at")
        .first()
    )
    return None if privacy_request is None else _state_of(privacy_request)


def _state_of(privacy_request: PrivacyRequest) -> RequestState:
    return RequestState(
        reference=privacy_request.reference,
        kind=privacy_request.kind,
        status=privacy_request.status,
        status_label=str(Status(privacy_request.status).label),
        received_at=privacy_request.received_at,
        due_on=privacy_request.due_on,
        # When it ended, however it ended (the status says whether completed, rejected or
        # withdrawn).
        completed_at=(
            privacy_request.closed_at if privacy_request.status in CLOSED_STATUSES else None
        ),
    )
