"""Purging identity documents, expired disclosure packages, and erased people's contact
details that an undeliverable notice would otherwise keep."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.customers.selectors import customer_ids_erased
from apps.privacy_requests.models import (
    CLOSED_STATUSES,
    IdentityDocument,
    PrivacyRequest,
    RequestEvent,
)
from apps.privacy_requests.services.notices import contact_erase_if_done
from apps.privacy_requests.services.workflow import event_add
from apps.privacy_requests.storage import private_storage

logger = logging.getLogger(__name__)

BATCH = 200


def _delete_files_on_commit(names: list[str]) -> None:
    storage = private_storage()

    def delete():
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


def documents_purge_for(*, privacy_request: PrivacyRequest) -> int:
    """Delete the files of a request's documents, keeping what was checked, by whom and when."""
    documents = list(
        IdentityDocument.objects.select_for_update()
        .filter(privacy_request=privacy_request, purged_at=None)
        .exclude(file="")
    )
    if not documents:
        return 0
    _delete_files_on_commit([d.file.name for d in documents])
    IdentityDocument.objects.filter(pk__in=[d.pk for d in documents]).update(
        file="", purged_at=timezone.now()
    )
    event_add(
        privacy_request=privacy_request,
        step=RequestEvent.Step.DOCUMENTS_PURGED,
        note=str(len(documents)),
    )
    return len(documents)


def package_purge_for(*, privacy_request: PrivacyRequest) -> bool:
    if not privacy_request.package:
        return False
    _delete_files_on_commit([privacy_request.package.name])
    privacy_request.package = ""
    privacy_request.save(update_fields=["package", "updated_at"])
    event_add(privacy_request=privacy_request, step=RequestEvent.Step.PACKAGE_PURGED)
    return True


def _left_unfinished(*, since: datetime.datetime) -> Q:
    """Open requests on which nothing happened since `since`: not changed, and no step in
    their timeline (a document added, a code sent, a note) since then."""
    recent_steps = RequestEvent.objects.filter(privacy_request=OuterRef("pk"), at__gte=since)
    return ~Q(status__in=CLOSED_STATUSES) & Q(updated_at__lt=since) & ~Exists(recent_steps)


def _holding_documents(condition: Q) -> QuerySet:
    """The ids of the requests matching `condition` that still hold a document's file."""
    return (
        PrivacyRequest.objects.filter(condition)
        .filter(documents__purged_at=None)
        .exclude(documents__file="")
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def _purge_due(now: datetime.datetime) -> dict[str, QuerySet]:
    """The requests each part of the purge takes up at `now`: their pks, in order."""
    closed_before = now - datetime.timedelta(days=settings.PRIVACY_DOCUMENT_RETENTION_DAYS)
    due = Q(status__in=CLOSED_STATUSES, closed_at__lt=closed_before)
    if settings.PRIVACY_PURGE_DOCUMENTS_ON_VERIFICATION:
        due |= Q(identity_verified_at__isnull=False)
    with_documents = _holding_documents(due)
    # A request nobody finished (a requester who never answered, a case forgotten) would
    # otherwise keep a passport scan for ever.
    idle = _left_unfinished(
        since=now - datetime.timedelta(days=settings.PRIVACY_UNFINISHED_DOCUMENT_DAYS)
    )
    unfinished = _holding_documents(idle)
    expired = (
        PrivacyRequest.objects.exclude(package="")
        .filter(package_expires_at__lte=now)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    # An erased person's contact details wait for the last notice; one that never could be
    # delivered (a bounced address, a letter nobody posted) does not keep them for ever.
    stale_contacts = (
        PrivacyRequest.objects.filter(
            status__in=CLOSED_STATUSES,
            closed_at__lt=closed_before,
            contact_erased_at=None,
            customer__in=customer_ids_erased(),
        )
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    return {
        "documents": with_documents,
        "unfinished_documents": unfinished,
        "packages": expired,
        "contacts": stale_contacts,
    }


def privacy_requests_purge_due_count(*, now: datetime.datetime) -> int:
    """What the purge would take up at `now` (the retention run's dry run): documents, packages
    and contact details, counted as the purge counts them."""
    due = _purge_due(now)
    documents = IdentityDocument.objects.filter(purged_at=None).exclude(file="")
    return (
        documents.filter(privacy_request__in=due["documents"]).count()
        + documents.filter(privacy_request__in=due["unfinished_documents"]).count()
        + due["packages"].count()
        + due["contacts"].count()
    )


def privacy_requests_purge(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Purge documents of verified requests (where the procedure says so), of requests closed
    more than PRIVACY_DOCUMENT_RETENTION_DAYS ago and of requests left unfinished (nothing
    done on them for PRIVACY_UNFINISHED_DOCUMENT_DAYS), and expired disclosure packages.
    In batches, each its own transaction; safe to run twice or on two workers at once."""
    now = now or timezone.now()
    due = _purge_due(now)
    counts = {"documents": 0, "unfinished_documents": 0, "packages": 0, "contacts": 0}
    for pk in list(due["documents"][:BATCH]):
        with transaction.atomic():
            privacy_request = PrivacyRequest.objects.select_for_update().get(pk=pk)
            counts["documents"] += documents_purge_for(privacy_request=privacy_request)
    idle = _left_unfinished(
        since=now - datetime.timedelta(days=settings.PRIVACY_UNFINISHED_DOCUMENT_DAYS)
    )
    for pk in list(due["unfinished_documents"][:BATCH]):
        with transaction.atomic():
            privacy_request = PrivacyRequest.objects.select_for_update().get(pk=pk)
            if PrivacyRequest.objects.filter(idle, pk=pk).exists():  # still idle, now locked
                counts["unfinished_documents"] += documents_purge_for(
                    privacy_request=privacy_request
                )
    for pk in list(due["packages"][:BATCH]):
        with transaction.atomic():
            privacy_request = PrivacyRequest.objects.select_for_update().get(pk=pk)
            if privacy_request.package_expires_at and privacy_request.package_expires_at <= now:
                counts["packages"] += int(package_purge_for(privacy_request=privacy_request))
    for pk in list(due["contacts"][:BATCH]):
        with transaction.atomic():
            privacy_request = PrivacyRequest.objects.get(pk=pk)
            if contact_erase_if_done(privacy_request=privacy_request, give_up=True):
                counts["contacts"] += 1
    logger.info("privacy requests purge %s", counts)
    return counts


def _records_due(today: datetime.date) -> QuerySet:
    return PrivacyRequest.objects.filter(kept_until__lt=today).order_by("pk")


def privacy_request_records_purge(*, today: datetime.date, dry_run: bool = False) -> int:
    """Delete the records of requests past the date the erasure notice promised to keep them
    until (``kept_until``, inclusive), with their timeline, notices and document rows. Rows of
    other apps that point at such a request (a connected system's propagation task) go with it:
    found through the model's relations, so this app names no other app's model. In batches,
    each its own transaction. Returns how many requests were (or, dry run, would be) deleted."""
    due = _records_due(today)
    if dry_run:
        return due.count()
    deleted = 0
    while pks := list(due.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            pks = list(
                PrivacyRequest.objects.select_for_update()
                .filter(pk__in=pks, kept_until__lt=today)
                .values_list("pk", flat=True)
            )
            for relation in PrivacyRequest._meta.related_objects:
                if relation.many_to_many or relation.one_to_one:
                    continue
                rows = relation.related_model._base_manager.filter(
                    **{f"{relation.field.name}__in": pks}
                )
                # In bulk (the timeline's own delete() refuses single rows: its end is this),
                # with whatever points at those rows in turn.
                rows.delete()
            PrivacyRequest.objects.filter(pk__in=pks).delete()
        deleted += len(pks)
    logger.info("privacy request records purged count=%s", deleted)
    return deleted
