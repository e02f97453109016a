"""The demo's breach register (apps/core/demo.py): an incident whose preliminary report is due
within days, and an older one whose preliminary report went out and whose final report is
overdue (30 days), so the dashboard and the register show both deadlines. Through the register's
services; idempotent by title."""

from __future__ import annotations

import datetime

from django.utils import timezone

from apps.core.demo import DemoContext, demo_register
from apps.incidents.models import Incident, IncidentNotice
from apps.incidents.services import IncidentFacts, incident_create, incident_notice_record

RECENT = "（デモ）配送委託先での伝票の誤送付"
OLDER = "（デモ）メール誤送信による顧客リストの流出"


def seed(context: DemoContext) -> dict:
    added = 0
    now = timezone.now()
    if not Incident.objects.filter(title=RECENT).exists():
        incident_create(
            facts=IncidentFacts(
                discovered_at=now - datetime.timedelta(days=3),
                title=RECENT,
                description="配送委託先が、別のお客様の出荷伝票を誤って同梱しました。",
                data_items="氏名、住所、電話番号、購入商品",
                people_affected=1200,
                sensitive_data=False,
                card_data=False,
                unauthorised_access=False,
                strongly_encrypted=False,
            ),
            created_by_id=context.officer_id,
        )
        added += 1
    if not Incident.objects.filter(title=OLDER).exists():
        discovered = now - datetime.timedelta(days=40)
        incident = incident_create(
            facts=IncidentFacts(
                discovered_at=discovered,
                title=OLDER,
                description="キャンペーン案内の送信時に、顧客リストのファイルを誤って添付しました。",
                data_items="氏名、メールアドレス、注文履歴",
                people_affected=1500,
                sensitive_data=False,
                card_data=False,
                unauthorised_access=False,
                strongly_encrypted=False,
                preliminary_reported_on=timezone.localdate(discovered) + datetime.timedelta(days=3),
            ),
            created_by_id=context.officer_id,
        )
        incident_notice_record(
            incident=incident,
            channel=IncidentNotice.Channel.EMAIL,
            recipients=1500,
            summary="誤送信の概要、対象となる情報、お問い合わせ窓口をお知らせしました。",
            sent_at=discovered + datetime.timedelta(days=4),
            sent_by_id=context.officer_id,
        )
        added += 1
    return {"incidents_added": added}


demo_register("incidents", seed=seed, order=30)
