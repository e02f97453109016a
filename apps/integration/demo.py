"""The demo's connected system (apps/core/demo.py): the shop's point-of-sale system, told of
erasures by hand (a manual propagation task staff close), holding one demo member, so the
privacy requests demo shows an erasure waiting for it and the dashboard an open task."""

from __future__ import annotations

from apps.core.demo import DemoContext, demo_register
from apps.integration.models import ApiClient, ExternalCustomer
from apps.integration.outbound.models import DataCategory, DownstreamSystem

NAME = "店舗POS（デモ）"


def seed(context: DemoContext) -> dict:
    client, created = ApiClient.objects.get_or_create(
        name=NAME, defaults={"system": ApiClient.System.OTHER, "scopes": []}
    )
    DownstreamSystem.objects.get_or_create(
        name=NAME,
        defaults={
            "kind": DownstreamSystem.Kind.STOREFRONT,
            "reached_by": DownstreamSystem.Reach.MANUAL,
            "data_categories": [DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.ORDERS],
            "api_client": client,
        },
    )
    if created:  # the first run only: the demo's erasure later replaces the id with a hash
        ExternalCustomer.objects.create(
            client=client, external_id="POS-000123", customer_id=context.requester_ids[-1]
        )
    return {"systems_added": int(created)}


demo_register("integration", seed=seed, order=10)
