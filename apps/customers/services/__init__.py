"""Writes on customers, their logins, addresses and inquiries, split by concern; import from here."""

from apps.customers.services.accounts import (
    EMAIL_CONFIRMATION_HOURS,
    PROFILE_FIELDS,
    customer_correct,
    customer_update_profile,
    email_change_notice_send,
    email_confirmation_send,
    email_confirmation_token,
    member_signup,
    password_reset_request,
    password_reset_send,
    user_email_change_request,
    user_email_confirm,
    user_email_confirmation_resend,
)
from apps.customers.services.addresses import (
    ADDRESS_EDITABLE_FIELDS,
    address_create,
    address_delete,
    address_set_default,
    address_update,
)
from apps.customers.services.inquiries import (
    inquiry_acknowledge,
    inquiry_create,
    inquiry_mark_answered,
)
from apps.customers.services.records import (
    AddressRecord,
    CustomerRecord,
    RecordUpdate,
    customers_record_create,
    customers_record_update,
    record_changes,
    record_clean,
    refusal_reason,
)
from apps.customers.services.restriction import (
    customer_lift_restriction,
    customer_restrict,
)

__all__ = [
    "ADDRESS_EDITABLE_FIELDS",
    "EMAIL_CONFIRMATION_HOURS",
    "PROFILE_FIELDS",
    "AddressRecord",
    "CustomerRecord",
    "RecordUpdate",
    "address_create",
    "address_delete",
    "address_set_default",
    "address_update",
    "customer_correct",
    "customer_lift_restriction",
    "customer_restrict",
    "customer_update_profile",
    "customers_record_create",
    "customers_record_update",
    "email_change_notice_send",
    "email_confirmation_send",
    "email_confirmation_token",
    "inquiry_acknowledge",
    "inquiry_create",
    "inquiry_mark_answered",
    "member_signup",
    "password_reset_request",
    "password_reset_send",
    "record_changes",
    "record_clean",
    "refusal_reason",
    "user_email_change_request",
    "user_email_confirm",
    "user_email_confirmation_resend",
]
