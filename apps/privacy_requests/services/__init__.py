"""Writes on privacy requests. Split by concern; import from here."""

from apps.privacy_requests.services.carry_out import (
    carry_out_again_allowed,
    disclosure_package_bytes,
    download_check,
    download_token,
    privacy_request_carry_out,
    privacy_request_carry_out_again,
    privacy_request_complete,
    privacy_request_execute,
)
from apps.privacy_requests.services.disclosure_link import (
    disclosure_link_check_code,
    disclosure_link_get,
    disclosure_link_send_code,
)
from apps.privacy_requests.services.identity import (
    identity_document_add,
    privacy_request_check_code,
    privacy_request_record_fee,
    privacy_request_send_code,
    privacy_request_start_verification,
    privacy_request_verify_identity,
)
from apps.privacy_requests.services.notices import notice_mark_posted, notice_send
from apps.privacy_requests.services.receipt import (
    privacy_request_create,
    privacy_request_create_from_inquiry,
    privacy_request_create_from_mypage,
)
from apps.privacy_requests.services.retention import privacy_requests_purge
from apps.privacy_requests.services.workflow import (
    TRANSITIONS,
    IllegalTransition,
    add_months,
    due_date,
    fee_applies,
    privacy_request_answer_no_data,
    privacy_request_approve,
    privacy_request_extend,
    privacy_request_record_in_eea,
    privacy_request_reject,
    privacy_request_take_alternative_measure,
    privacy_request_withdraw,
)

__all__ = [
    "TRANSITIONS",
    "IllegalTransition",
    "add_months",
    "carry_out_again_allowed",
    "disclosure_link_check_code",
    "disclosure_link_get",
    "disclosure_link_send_code",
    "disclosure_package_bytes",
    "download_check",
    "download_token",
    "due_date",
    "fee_applies",
    "identity_document_add",
    "notice_mark_posted",
    "notice_send",
    "privacy_request_answer_no_data",
    "privacy_request_approve",
    "privacy_request_carry_out",
    "privacy_request_carry_out_again",
    "privacy_request_check_code",
    "privacy_request_complete",
    "privacy_request_create",
    "privacy_request_create_from_inquiry",
    "privacy_request_create_from_mypage",
    "privacy_request_execute",
    "privacy_request_extend",
    "privacy_request_record_fee",
    "privacy_request_record_in_eea",
    "privacy_request_reject",
    "privacy_request_send_code",
    "privacy_request_start_verification",
    "privacy_request_take_alternative_measure",
    "privacy_request_verify_identity",
    "privacy_request_withdraw",
    "privacy_requests_purge",
]
