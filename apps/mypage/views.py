"""My Page pages that compose several apps: the overview and signup (profile + consents)."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.consents.forms import ConsentChoicesForm
from apps.core.forms import form_apply_errors
from apps.core.ratelimit import rate_limit
from apps.core.security import client_ip, user_agent
from apps.customers import services as customer_services
from apps.customers.decorators import member_required
from apps.customers.forms import EmailChangeForm, EmailConfirmResendForm, SignupForm
from apps.customers.selectors import address_default, login_email_state
from apps.mypage import services
from apps.orders.selectors import order_recent_for


@member_required
def overview(request):
    customer = request.customer
    context = {
        "customer": customer,
        "default_address": address_default(customer=customer),
        "recent_orders": order_recent_for(customer=customer),
        "login": login_email_state(customer=customer),
    }
    return render(request, "mypage/overview.html", context)


@rate_limit("signup")
def signup(request):
    """Membership: the profile, then each optional consent as its own unticked box. Only the
    boxes ticked become grants; leaving one empty is not recorded as anything."""
    if request.user.is_authenticated:
        return redirect("mypage:overview")
    if request.method == "GET" and request.GET.get("sent"):
        return render(request, "account/signup_sent.html")
    form = SignupForm(request.POST or None)
    consent_form = ConsentChoicesForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and consent_form.is_valid():
        data = form.cleaned_data
        try:
            services.member_join_or_remind(
                email=data["email"],
                password=data["password1"],
                family_name=data["family_name"],
                given_name=data["given_name"],
                family_name_kana=data["family_name_kana"],
                given_name_kana=data["given_name_kana"],
                phone=data["phone"],
                date_of_birth=data["date_of_birth"],
                consents=consent_form.choices(),
                ip_address=client_ip(request),
                user_agent=user_agent(request),
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            # The same answer whether or not the address already had an account (the mail to
            # it says which), and no login: letting one in would tell the two apart.
            return redirect(f"{reverse('signup')}?sent=1")
    return render(request, "account/signup.html", {"form": form, "consent_form": consent_form})


@member_required
@rate_limit("email_change")
def email_change(request):
    """Move the login to a new address: the password now, the link in the new address's inbox
    next. Nothing changes until the link is opened."""
    form = EmailChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            customer_services.user_email_change_request(
                user=request.user, new_email=form.cleaned_data["email"]
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "We sent a link to the new address. Your login changes when you open it; "
                    "until then, keep using your current address."
                ),
            )
            return redirect("customers:profile")
    return render(request, "mypage/email_change.html", {"form": form})


@require_POST
@member_required
@rate_limit("email_confirm")
def email_confirm_resend(request):
    form = EmailConfirmResendForm(request.POST)
    if form.is_valid():
        try:
            customer_services.user_email_confirmation_resend(user=request.user)
        except ValidationError as exc:
            messages.info(request, exc.messages[0])
        else:
            messages.success(
                request, _("We sent a new confirmation link. Earlier links no longer work.")
            )
    return redirect("customers:profile")


def _path_holds_a_token(view):
    """The path holds the link's token: keep Django's "Bad Request: <path>" (and "Too Many
    Requests: <path>") warning out of the log by marking the response as logged already."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._has_been_logged = True
        return response

    return wrapper


@_path_holds_a_token
@rate_limit("email_confirm")
def email_confirm(request, token):
    """The link from the mail. GET shows a button (mail scanners open links: a GET changes
    nothing); POST confirms. No login needed: the link may be opened on another device."""
    if request.method != "POST":
        return render(request, "mypage/email_confirm.html")
    form = EmailConfirmResendForm(request.POST)  # no fields: the CSRF-checked button
    keep = request.session.session_key if request.user.is_authenticated else None
    try:
        if not form.is_valid():
            raise ValidationError(_("This confirmation link is not valid (or was already used)."))
        confirmation = services.member_email_confirm(
            token=token,
            keep_session_key=keep,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )
    except ValidationError as exc:
        return render(request, "mypage/email_confirm.html", {"error": exc.messages[0]}, status=400)
    return render(
        request, "mypage/email_confirmed.html", {"changed": confirmation.kind != "signup"}
    )
