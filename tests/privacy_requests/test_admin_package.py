"""The request admin as a package: its buttons read from the workflow's table of moves, the
"other open requests block an erasure" rule in one selector, modules of a readable size."""

from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.privacy_requests import selectors, services
from apps.privacy_requests.models import FeeStatus, Kind, PrivacyRequest, Status
from tests.privacy_requests.conftest import make_request, send_code_and_read, to_review

pytestmark = pytest.mark.django_db

POSTAL = "〒980-0811 宮城県仙台市青葉区一番町1-1"


def _buttons(client, pr) -> list[str]:
    page = client.get(reverse("admin:privacy_requests_privacyrequest_change", args=[pr.pk]))
    return [name for name, _label in page.context.get("page_actions", [])]


def test_the_buttons_of_each_status_are_unchanged(client, customer, officer):
    """The request page's buttons, status by status, as they were before the table of moves."""
    client.force_login(officer)
    received = make_request(customer, kind=Kind.ERASURE)
    assert _buttons(client, received) == ["start_verification", "withdraw"]
    services.privacy_request_start_verification(privacy_request=received, by=officer)
    assert _buttons(client, received) == [
        "send_code",
        "check_code",
        "verify_documents",
        "reject",
        "withdraw",
    ]
    appi_review = to_review(make_request(customer, kind=Kind.STOP_OF_USE), officer)
    # APPI Art. 35: a stop of use may be answered with an alternative measure.
    assert _buttons(client, appi_review) == [
        "approve",
        "reject",
        "answer_no_data",
        "take_alternative_measure",
        "withdraw",
    ]
    gdpr = to_review(make_request(customer, kind=Kind.GDPR_OBJECTION, in_eea=True), officer)
    assert _buttons(client, gdpr) == [
        "approve",
        "reject",
        "answer_no_data",
        "extend_deadline",
        "withdraw",
    ]
    services.privacy_request_approve(privacy_request=gdpr, by=officer)
    assert _buttons(client, gdpr) == ["carry_out", "extend_deadline", "withdraw"]
    appi_review = PrivacyRequest.objects.get(pk=appi_review.pk)
    services.privacy_request_approve(privacy_request=appi_review, by=officer)
    assert _buttons(client, appi_review) == ["carry_out", "withdraw"]
    # Carrying out, its task not run yet: staff may run it again; its task completes it.
    services.privacy_request_carry_out(privacy_request=appi_review, by=officer)
    assert _buttons(client, appi_review) == ["carry_out_again"]
    # A paper disclosure: a fee first; once carried out, staff post it and complete it.
    paper = make_request(
        customer, kind=Kind.DISCLOSURE, disclosure_form="paper", requester_postal_address=POSTAL
    )
    services.privacy_request_start_verification(privacy_request=paper, by=officer)
    code = send_code_and_read(paper, officer)
    services.privacy_request_check_code(privacy_request=paper, code=code, by=officer)
    paper = PrivacyRequest.objects.get(pk=paper.pk)
    assert paper.status == Status.FEE
    assert _buttons(client, paper) == ["record_fee", "reject", "withdraw"]
    services.privacy_request_record_fee(
        privacy_request=paper, fee_status=FeeStatus.RECEIVED, by=officer
    )
    paper = PrivacyRequest.objects.get(pk=paper.pk)
    services.privacy_request_approve(privacy_request=paper, by=officer)
    services.privacy_request_carry_out(privacy_request=paper, by=officer)
    assert _buttons(client, paper) == ["complete"]
    # A requester without e-mail: the letters to post are a step in any status, closed too.
    letters = make_request(
        customer, kind=Kind.STOP_OF_USE, requester_email="", requester_postal_address=POSTAL
    )
    services.privacy_request_withdraw(privacy_request=letters, by=officer)
    assert _buttons(client, letters) == ["mark_letters_posted"]


def test_the_buttons_and_the_state_machine_are_one_table():
    """TRANSITIONS is read from the moves; every move staff take is an action of the admin,
    and the admin keeps no status-to-actions table of its own."""
    from apps.privacy_requests.services.workflow import MOVES, TRANSITIONS, moves_from

    request_admin = admin.site.get_model_admin(PrivacyRequest)
    assert set(TRANSITIONS) == set(Status.values)
    for status in Status.values:
        assert TRANSITIONS[status] == {
            target for move in MOVES if status in move.sources for target in move.targets
        }
    actions = set(request_admin.actions)
    for move in MOVES:
        assert (move.name in actions) == move.by_staff, move.name
    assert not hasattr(request_admin, "ACTIONS_BY_STATUS")
    # In the table's order; a closed request has no step left.
    assert moves_from(Status.IDENTITY) == [
        "send_code",
        "check_code",
        "verify_documents",
        "reject",
        "withdraw",
    ]
    assert moves_from(Status.COMPLETED) == []


def test_other_open_requests_block_an_erasure_and_nothing_else(customer, officer):
    disclosure = make_request(customer, kind=Kind.DISCLOSURE)
    erasure = make_request(customer, kind=Kind.ERASURE)
    deletion = make_request(customer, kind=Kind.DELETION)
    stop = make_request(customer, kind=Kind.STOP_OF_USE)
    assert selectors.erasure_blocked_by(privacy_request=erasure) == [
        disclosure.reference,
        deletion.reference,
        stop.reference,
    ]
    assert disclosure.reference in selectors.erasure_blocked_by(privacy_request=deletion)
    assert selectors.erasure_blocked_by(privacy_request=stop) == []  # not an erasure
    for other in (disclosure, deletion, stop):
        services.privacy_request_withdraw(privacy_request=other, by=officer)
    assert selectors.erasure_blocked_by(privacy_request=erasure) == []
    nobody = make_request(None, kind=Kind.ERASURE)
    assert selectors.erasure_blocked_by(privacy_request=nobody) == []


def test_every_module_of_the_request_admin_is_under_400_lines():
    package = Path(__file__).resolve().parents[2] / "apps" / "privacy_requests" / "admin"
    assert package.is_dir()
    sizes = {path.name: len(path.read_text().splitlines()) for path in package.glob("*.py")}
    assert sizes and all(lines < 400 for lines in sizes.values()), sizes


def test_a_step_taken_out_of_the_table_leaves_the_page(client, customer, officer, monkeypatch):
    """The page holds no list of its own: the table of moves is the one copy."""
    from apps.privacy_requests.services import workflow

    pr = make_request(customer, kind=Kind.ERASURE)
    client.force_login(officer)
    assert _buttons(client, pr) == ["start_verification", "withdraw"]
    monkeypatch.setattr(
        workflow, "MOVES", tuple(move for move in workflow.MOVES if move.name != "withdraw")
    )
    assert _buttons(client, pr) == ["start_verification"]
