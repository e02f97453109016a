"""Writes for mail magazines, split by concern (subscriptions and the suppression list, campaigns);
import from here. The sending pipeline is in pipeline.py."""

from apps.marketing.services.campaigns import (
    campaign_cancel,
    campaign_dispatch_due,
    campaign_enqueue_chunks,
    campaign_problems,
    campaign_resume,
    campaign_schedule,
    campaign_send_now,
    campaign_send_test,
    campaign_sweep,
)
from apps.marketing.services.subscriptions import (
    CONFIRM_TOKEN_HOURS,
    subscription_activate_confirmed,
    subscription_confirm,
    subscription_confirm_token,
    subscription_confirmation_send,
    subscription_import,
    subscription_reconfirm,
    subscription_request,
    subscription_subscribe_member,
    subscription_unsubscribe,
    subscription_wording,
    suppression_add,
)

__all__ = [
    "CONFIRM_TOKEN_HOURS",
    "campaign_cancel",
    "campaign_dispatch_due",
    "campaign_enqueue_chunks",
    "campaign_problems",
    "campaign_resume",
    "campaign_schedule",
    "campaign_send_now",
    "campaign_send_test",
    "campaign_sweep",
    "subscription_activate_confirmed",
    "subscription_confirm",
    "subscription_confirm_token",
    "subscription_confirmation_send",
    "subscription_import",
    "subscription_reconfirm",
    "subscription_request",
    "subscription_subscribe_member",
    "subscription_unsubscribe",
    "subscription_wording",
    "suppression_add",
]
