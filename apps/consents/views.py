from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.consents import cookies, selectors, services, transfers
from apps.consents.forms import (
    ConsentToggleForm,
    CookieChoiceForm,
    NextForm,
    ReconfirmForm,
    consent_wording,
)
from apps.consents.models import ConsentEvent, ExternalTag, PolicyVersion, Source, new_visitor_id
from apps.consents.notice_cache import notice_generation, settings_digest
from apps.core.ratelimit import rate_limit
from apps.core.retention import retention_notices
from apps.core.security import client_ip, user_agent
from apps.customers.decorators import member_required
from apps.customers.selectors import customer_for_user


def _safe_next(request, fallback="/"):
    """The posted `next`, else the one in the query string, if it stays on this site."""
    for data in (request.POST, request.GET):
        form = NextForm(data)
        if form.is_valid() and form.cleaned_data["next"]:
            target = form.cleaned_data["next"]
            if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                return target
            return fallback
    return fallback


# Database rows the body shows: read only when the body is rendered, kept out of the digest.
ROWS_READ_WHEN_RENDERED = ("policy", "purposes", "contractors_abroad", "provision_countries_abroad")


def _contractors_abroad() -> list:
    return [
        (contractor, transfers.country_name(contractor.country))
        for contractor in selectors.contractors_abroad()
    ]


def _provision_countries_abroad() -> list:
    return [
        (transfers.country_name(code), system)
        for code, system in selectors.provision_countries_abroad(today=timezone.localdate())
    ]


def privacy_notice(request):
    """/privacy/: the current policy, the matters APPI Art. 32 says we must publish, what GDPR
    Art. 13 adds (legal basis per purpose, keeping periods from the retention registry,
    recipients abroad and their safeguards, the contact, the right to complain) and the request
    procedure (form, identity documents per requester, fee and how to pay)."""
    # Read only when the cached body is missing (apps/consents/notice_cache.py); a saved or
    # deleted contractor or provision record replaces the cache's generation (apps.py).
    context = {
        "policy": SimpleLazyObject(selectors.policy_current),
        "purposes": selectors.purposes_active(),
        "shop": {
            "name": settings.SHOP_NAME,
            "address": settings.SHOP_POSTAL_ADDRESS,
            "representative": settings.SHOP_REPRESENTATIVE,
            "email": settings.SHOP_CONTACT_EMAIL,
            "phone": getattr(settings, "SHOP_CONTACT_PHONE", ""),
        },
        "fee_yen": getattr(settings, "PRIVACY_REQUEST_FEE_YEN", 1000),
        "due_days": getattr(settings, "PRIVACY_REQUEST_DUE_DAYS", 14),
        # The defaults are lazy translations: as text in this request's language, so that the
        # cache key's digest is the same in every process.
        "data_countries": [str(country) for country in settings.SHOP_DATA_COUNTRIES],
        "security_measures": [str(measure) for measure in settings.SHOP_SECURITY_MEASURES],
        # Sentences built from the settings of the retention rules: part of the digest.
        "retention_notices": [str(notice) for notice in retention_notices()],
        "data_protection_contact": settings.SHOP_DATA_PROTECTION_CONTACT
        or settings.SHOP_CONTACT_EMAIL,
        "eu_representative": settings.SHOP_EU_REPRESENTATIVE,
        "fee_payment": getattr(settings, "PRIVACY_REQUEST_FEE_PAYMENT", ""),
        "seal_certificate_required": getattr(settings, "PRIVACY_REQUIRE_SEAL_CERTIFICATE", True),
        "contractors_abroad": SimpleLazyObject(_contractors_abroad),
        "provision_countries_abroad": SimpleLazyObject(_provision_countries_abroad),
    }
    published = {k: v for k, v in context.items() if k not in ROWS_READ_WHEN_RENDERED}
    generation = notice_generation()
    context["notice_key"] = generation and f"{generation}:{settings_digest(published)}"
    context["notice_cache_seconds"] = settings.PRIVACY_NOTICE_CACHE_SECONDS
    return render(request, "consents/privacy.html", context)


def policy_versions(request):
    return render(request, "consents/versions.html", {"versions": selectors.policy_published()})


def policy_version_detail(request, version):
    policy = get_object_or_404(PolicyVersion, version=version, published_at__isnull=False)
    return render(request, "consents/version_detail.html", {"policy": policy})


def cookie_list(request):
    tags = ExternalTag.objects.filter(is_active=True).order_by("category", "name")
    rows = [(tag, cookies.consented(request, tag.category)) for tag in tags]
    return render(request, "consents/cookies.html", {"rows": rows})


@require_POST
@rate_limit("cookie_choice")
def cookie_choice(request):
    form = CookieChoiceForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown cookie choice."), content_type="text/plain")
    choices = form.categories()
    visitor_id = cookies.read_visitor_id(request) or new_visitor_id()
    customer = customer_for_user(user=request.user)
    wording = _(
        "Cookies: necessary (always on), analytics, advertising / remarketing. "
        "See the list of tags on /privacy/cookies/."
    )
    services.cookie_choice_record(
        choices=choices,
        visitor_id=visitor_id,
        customer=customer,
        wording=wording,
        ip_address=client_ip(request),
        user_agent=user_agent(request),
    )
    response = redirect(_safe_next(request))
    cookies.write(response, choices=choices, visitor_id=visitor_id, secure=request.is_secure())
    messages.success(request, _("Your cookie choice has been saved."))
    return response


@member_required
@rate_limit("mypage")
def mypage_privacy(request):
    """/mypage/privacy/: each purpose with its state; grant or withdraw; the history."""
    customer = request.customer
    if request.method == "POST":
        form = ConsentToggleForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("That choice is not available."))
            return redirect("consents:mypage")
        purpose, action = form.cleaned_data["purpose"], form.cleaned_data["action"]
        services.consent_set(
            purpose=purpose,
            granted=action == "grant",
            source=Source.MYPAGE,
            customer=customer,
            evidence=services.Evidence(
                wording=consent_wording(purpose),
                ip_address=client_ip(request),
                user_agent=user_agent(request),
            ),
        )
        if action == "grant":
            messages.success(request, _("Thank you: you agreed to “%s”.") % purpose.name)
        else:
            messages.success(request, _("Done: you withdrew your consent to “%s”.") % purpose.name)
        return redirect("consents:mypage")
    states = selectors.consent_states_for(customer=customer)
    rows = [(purpose, states.get(purpose.pk)) for purpose in selectors.purposes_active_list()]
    restriction = selectors.restriction_for(customer=customer)
    # "Necessary only" in the cookie banner records withdrawals; to someone who never agreed
    # the page says "not consented", and "withdrawn" only after an agreement.
    first_grants = selectors.consent_first_grants_for(customer=customer)
    history = [
        (
            event,
            event.action == ConsentEvent.Action.WITHDRAW
            and not (
                event.purpose_id in first_grants
                and first_grants[event.purpose_id] <= event.occurred_at
            ),
        )
        for event in selectors.consent_history_recent_for(customer=customer)
    ]
    return render(
        request,
        "consents/mypage_privacy.html",
        {
            "rows": rows,
            "history": history,
            "never_agreed": {purpose.pk for purpose, _state in rows} - set(first_grants),
            "restriction": restriction,
            "extra_sections": privacy_page_sections(request, customer),
        },
    )


# Upper apps (marketing) add a section to /mypage/privacy/ without this app knowing them.
_privacy_page_sections = []


def register_privacy_page_section(func):
    _privacy_page_sections.append(func)
    return func


def privacy_page_sections(request, customer):
    return [section(request, customer) for section in _privacy_page_sections]


@member_required
@rate_limit("mypage")
def reconfirm(request):
    customer = request.customer
    states = list(selectors.pending_confirmations_for(customer=customer))
    if not states:
        return redirect(_safe_next(request, "/mypage/"))
    form = ReconfirmForm(request.POST or None, states=states)
    if request.method == "POST" and form.is_valid():
        for state in states:
            services.consent_set(
                purpose=state.purpose,
                granted=form.cleaned_data[state.purpose.code],
                source=Source.MYPAGE,
                customer=customer,
                evidence=services.Evidence(
                    wording=consent_wording(state.purpose),
                    ip_address=client_ip(request),
                    user_agent=user_agent(request),
                ),
            )
        messages.success(request, _("Thank you: your answers have been saved."))
        return redirect(_safe_next(request, "/mypage/"))
    return render(
        request,
        "consents/reconfirm.html",
        {"form": form, "policy": selectors.policy_current(), "next": _safe_next(request, "")},
    )
