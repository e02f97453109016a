"""The demo's privacy requests (apps/core/demo.py): one in every state, through the workflow's
own services, so each has its timeline, notices and (for the erasure) its report.

- received, due within three days; in identity verification, overdue (both by post, from
  imported customers, received in the past);
- waiting for the fee (an APPI disclosure), in review (a GDPR access), approved, rejected,
  withdrawn (members' requests from My Page);
- closed requests of the months before (withdrawn, or refused for want of identity);
- an erasure carried out and completed, with its erasure report, and one waiting for a
  connected system to confirm (its customer is held by the system the integration demo adds:
  the last requester).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.demo import DemoContext, demo_register
from apps.privacy_requests import services
from apps.privacy_requests.models import (
    DISCLOSURE_KINDS,
    Channel,
    DisclosureForm,
    Kind,
    PrivacyRequest,
)

if TYPE_CHECKING:
    from apps.customers.models import Customer

MARK = "（デモ）"
# Closed requests of the months before (kind, received days ago): odd days withdrawn, even
# days refused for want of identity documents.
EARLIER = [
    (Kind.DISCLOSURE, 150),
    (Kind.DELETION, 131),
    (Kind.STOP_OF_USE, 118),
    (Kind.DISCLOSURE, 97),
    (Kind.PURPOSE_NOTIFICATION, 84),
    (Kind.DELETION, 66),
    (Kind.STOP_OF_PROVISION, 52),
    (Kind.DISCLOSURE, 38),
]


def _mypage(customer: Customer, kind: str, **fields) -> PrivacyRequest:
    return services.privacy_request_create_from_mypage(
        customer=customer, kind=kind, details=f"{MARK}マイページからの請求", **fields
    )


def _by_post(customer: Customer, kind: str, *, days_ago: int) -> PrivacyRequest:
    extra = {"disclosure_form": DisclosureForm.ELECTRONIC} if kind in DISCLOSURE_KINDS else {}
    return services.privacy_request_create(
        **extra,
        kind=kind,
        channel=Channel.POSTAL_MAIL,
        customer=customer,
        requester_name=customer.full_name,
        requester_email=customer.email,
        details=f"{MARK}郵送で届いた請求",
        received_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def seed(context: DemoContext) -> dict:
    if PrivacyRequest.objects.filter(details__startswith=MARK).exists():
        return {"requests_added": 0}
    officer = get_user_model().objects.get(pk=context.officer_id)
    # The person's model through the request's foreign key (no other app's model named here).
    people = PrivacyRequest._meta.get_field("customer").related_model.objects.in_bulk(
        context.requester_ids + context.crowd_ids[: 2 + len(EARLIER)]
    )
    member = [people[pk] for pk in context.requester_ids]
    crowd = [people[pk] for pk in context.crowd_ids[: 2 + len(EARLIER)]]
    due_days = settings.PRIVACY_REQUEST_DUE_DAYS

    if len(crowd) >= 2:  # a demo without a crowd (seed_demo --customers 0) skips these
        _by_post(crowd[0], Kind.DELETION, days_ago=due_days - 2)  # received, due soon
        overdue = _by_post(crowd[1], Kind.STOP_OF_USE, days_ago=due_days + 3)
        services.privacy_request_start_verification(privacy_request=overdue, by=officer)

    _mypage(member[0], Kind.DISCLOSURE, disclosure_form=DisclosureForm.ELECTRONIC)  # fee
    _mypage(member[1], Kind.STOP_OF_PROVISION)  # in review
    approved = _mypage(member[2], Kind.STOP_OF_USE)
    services.privacy_request_approve(privacy_request=approved, by=officer)
    rejected = _mypage(member[3], Kind.DISCLOSURE, disclosure_form=DisclosureForm.ELECTRONIC)
    services.privacy_request_reject(
        privacy_request=rejected,
        by=officer,
        reasons="ご本人からの請求であることを確認できる書類をご提出いただけませんでした。",
    )
    withdrawn = _mypage(member[4], Kind.STOP_OF_PROVISION)
    services.privacy_request_withdraw(privacy_request=withdrawn, by=member[4].user)
    # The months before: answered or closed, for the dashboard's requests per month.
    for customer, (kind, days_ago) in zip(crowd[2:], EARLIER, strict=False):
        earlier = _by_post(customer, kind, days_ago=days_ago)
        if days_ago % 2:
            services.privacy_request_withdraw(
                privacy_request=earlier, by=officer, note="ご本人から取下げのご連絡がありました。"
            )
        else:
            services.privacy_request_start_verification(privacy_request=earlier, by=officer)
            services.privacy_request_reject(
                privacy_request=earlier,
                by=officer,
                reasons="期限までに本人確認書類のご提出がありませんでした。",
            )
    for customer in (member[5], member[6]):
        erasure = _mypage(customer, Kind.ERASURE)
        erasure = services.privacy_request_approve(privacy_request=erasure, by=officer)
        services.privacy_request_carry_out(privacy_request=erasure, by=officer)
    return {"requests_added": PrivacyRequest.objects.filter(details__startswith=MARK).count()}


demo_register("privacy_requests", seed=seed, order=20)
