import datetime
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.forms import form_apply_errors
from apps.core.pagination import page_of
from apps.core.ratelimit import rate_limit
from apps.customers.decorators import member_required
from apps.privacy_requests import selectors, services
from apps.privacy_requests.forms import (
    CodeForm,
    KindFromLinkForm,
    MemberRequestForm,
    WithdrawConfirmForm,
)
from apps.privacy_requests.models import Status
from apps.privacy_requests.services.corrections import change_label
from apps.privacy_requests.services.workflow import TRANSITIONS


def _own_or_404(request, reference):
    privacy_request = selectors.privacy_request_get_for(
        customer=request.customer, reference=reference
    )
    if privacy_request is None:
        raise Http404
    return privacy_request


@member_required
def request_list(request):
    page = page_of(request, selectors.privacy_request_list_for(customer=request.customer))
    return render(
        request,
        "privacy_requests/list.html",
        {"privacy_requests": page.object_list, "page_obj": page},
    )


@member_required
@rate_limit("privacy_request")
def request_create(request):
    initial = {}
    link = KindFromLinkForm(request.GET)
    if link.is_valid() and link.cleaned_data["kind"]:
        initial["kind"] = link.cleaned_data["kind"]
    form = MemberRequestForm(request.POST or None, initial=initial, customer=request.customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            privacy_request = services.privacy_request_create_from_mypage(
                customer=request.customer,
                kind=data["kind"],
                appi_ground=data["appi_ground"],
                details=data["details"],
                requested_changes=form.requested_changes(),
                disclosure_form=data["disclosure_form"],
                postal_address=form.postal_address_text(),
                language=get_language(),
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your request %(reference)s has been received.")
                % {"reference": privacy_request.reference},
            )
            return redirect("privacy_requests:detail", reference=privacy_request.reference)
    return render(
        request,
        "privacy_requests/new.html",
        {"form": form, "fee": settings.PRIVACY_REQUEST_FEE_YEN, "settings": settings},
    )


@never_cache
@member_required
def request_detail(request, reference):
    privacy_request = _own_or_404(request, reference)
    download_url = None
    if privacy_request.package and privacy_request.package_expires_at > timezone.now():
        download_url = _download_url(privacy_request)
    context = {
        "privacy_request": privacy_request,
        "events": selectors.timeline(privacy_request=privacy_request),
        "download_url": download_url,
        "can_withdraw": Status.WITHDRAWN in TRANSITIONS[privacy_request.status],
        "settings": settings,
        "code_form": CodeForm() if privacy_request.code_hash else None,
        # What was asked, in the profile's own words (the values are the member's own data).
        "changes": [
            (change_label(name), value)
            for name, value in (privacy_request.requested_changes or {}).items()
        ],
    }
    return render(request, "privacy_requests/detail.html", context)


def _download_url(privacy_request):
    return reverse(
        "privacy_requests:download",
        kwargs={
            "reference": privacy_request.reference,
            "token": services.download_token(privacy_request=privacy_request),
        },
    )


@require_POST
@member_required
@rate_limit("mypage")
def request_withdraw(request, reference):
    privacy_request = _own_or_404(request, reference)
    if not WithdrawConfirmForm(request.POST).is_valid():
        messages.error(request, _("Confirm that you want to withdraw this request."))
        return redirect("privacy_requests:detail", reference=reference)
    try:
        services.privacy_request_withdraw(privacy_request=privacy_request, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your request has been withdrawn."))
    return redirect("privacy_requests:detail", reference=reference)


@require_POST
@member_required
@rate_limit("privacy_code")
def request_code(request, reference):
    privacy_request = _own_or_404(request, reference)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            services.privacy_request_check_code(
                privacy_request=privacy_request, code=form.cleaned_data["code"], by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Thank you: your identity has been verified."))
    else:
        messages.error(request, _("Enter the six-digit code from the e-mail."))
    return redirect("privacy_requests:detail", reference=reference)


@never_cache
@member_required
def request_download(request, reference, token):
    privacy_request = _own_or_404(request, reference)
    if not services.download_check(privacy_request=privacy_request, token=token):
        raise Http404
    response = FileResponse(
        privacy_request.package.open("rb"),
        as_attachment=True,
        filename=f"{privacy_request.reference}.zip",
        content_type="application/zip",
    )
    return response


# ------------------------------------------------------------------ a non-member's download
# The link in the completion mail of a requester without a login (services/disclosure_link.py):
# the token in the path is the capability, so nothing here logs the path, and an unknown or
# expired link is a plain 404 page.

UNLOCKED = "privacy_disclosure_unlocked"


def _path_holds_a_token(view):
    """Keep Django's "Not Found: <path>" warning (the path holds the token) out of the log."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._has_been_logged = True
        return response

    return wrapper


def _gone(request):
    return render(request, "privacy_requests/disclosure_link_invalid.html", status=404)


@_path_holds_a_token
@never_cache
@rate_limit("privacy_code", methods=("GET", "POST"))
def disclosure_link(request, token):
    """The page the link opens: ask for a code, enter it, then download."""
    privacy_request = services.disclosure_link_get(token=token)
    if privacy_request is None:
        return _gone(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.disclosure_link_check_code(
                privacy_request=privacy_request, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            until = timezone.now() + datetime.timedelta(minutes=settings.PRIVACY_CODE_TTL_MINUTES)
            # This browser only, for a while: the link alone, forwarded, downloads nothing.
            request.session[UNLOCKED] = {"r": privacy_request.pk, "until": until.timestamp()}
            return redirect("privacy_disclosure:download", token=token)
    return render(
        request,
        "privacy_requests/disclosure_link.html",
        {"privacy_request": privacy_request, "form": form, "token": token},
    )


@_path_holds_a_token
@require_POST
@rate_limit("privacy_code")
def disclosure_link_code(request, token):
    privacy_request = services.disclosure_link_get(token=token)
    if privacy_request is None:
        return _gone(request)
    try:
        services.disclosure_link_send_code(privacy_request=privacy_request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("We sent a code to the e-mail address we have on file."))
    return redirect("privacy_disclosure:open", token=token)


@_path_holds_a_token
@never_cache
def disclosure_link_download(request, token):
    privacy_request = services.disclosure_link_get(token=token)
    unlocked = request.session.get(UNLOCKED) or {}
    if (
        privacy_request is None
        or unlocked.get("r") != privacy_request.pk
        or unlocked.get("until", 0) < timezone.now().timestamp()
    ):
        return _gone(request)
    # FileResponse streams the file in blocks: a large package never sits in memory.
    return FileResponse(
        privacy_request.package.open("rb"),
        as_attachment=True,
        filename=f"{privacy_request.reference}.zip",
        content_type="application/zip",
    )
