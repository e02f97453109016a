from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from apps.consents.views import register_privacy_page_section
from apps.core.ratelimit import rate_limit
from apps.core.security import client_ip, user_agent
from apps.customers.decorators import member_required
from apps.marketing import selectors, services
from apps.marketing.forms import MemberSubscriptionForm, OneClickUnsubscribeForm, SubscribeForm
from apps.marketing.mail import unsubscribe_token_check
from apps.marketing.models import Subscription


def _subscription_from_token(token):
    subscription_id = unsubscribe_token_check(token)
    if subscription_id is None:
        return None
    return Subscription.objects.select_related("magazine").filter(pk=subscription_id).first()


@csrf_exempt  # the signed token is the credential; RFC 8058 one-click POSTs carry no CSRF token
@rate_limit("unsubscribe")
def unsubscribe(request, token):
    """GET: a confirmation page. POST (from that page, or a mail client's RFC 8058 one-click):
    unsubscribe at once. No login. A tampered token is a 400 and changes nothing."""
    subscription = _subscription_from_token(token)
    if subscription is None:
        return HttpResponseBadRequest(
            render_to_string("marketing/unsubscribe_invalid.html", request=request)
        )
    if request.method == "POST":
        services.subscription_unsubscribe(
            subscription=subscription, ip_address=client_ip(request), user_agent=user_agent(request)
        )
        if OneClickUnsubscribeForm(request.POST).is_one_click():
            return HttpResponse(status=200, content_type="text/plain")
        return render(request, "marketing/unsubscribed.html", {"magazine": subscription.magazine})
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "marketing/unsubscribe_confirm.html",
        {"magazine": subscription.magazine, "done": subscription.status == "unsubscribed"},
    )


@rate_limit("newsletter_subscribe")
def subscribe(request):
    """A visitor subscribes; a confirmation mail follows (double opt-in)."""
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.subscription_request(
            email=form.cleaned_data["email"],
            magazine=form.cleaned_data["magazine"],
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )
        return render(request, "marketing/subscribe_sent.html")
    return render(request, "marketing/subscribe.html", {"form": form})


@rate_limit("newsletter_confirm")
def confirm(request, token):
    if request.method != "POST":
        return render(request, "marketing/confirm.html", {"token": token})
    try:
        subscription = services.subscription_confirm(
            token=token, ip_address=client_ip(request), user_agent=user_agent(request)
        )
    except ValidationError as exc:
        return render(request, "marketing/confirm.html", {"error": exc.messages[0]}, status=400)
    return render(request, "marketing/confirmed.html", {"magazine": subscription.magazine})


@member_required
@rate_limit("mypage")
def mypage_subscription(request):
    """Subscribe or unsubscribe per magazine, from /mypage/privacy/."""
    if request.method != "POST":
        return redirect("consents:mypage")
    form = MemberSubscriptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That choice is not available."))
        return redirect("consents:mypage")
    magazine, action = form.cleaned_data["magazine"], form.cleaned_data["action"]
    customer = request.customer
    try:
        if action == "subscribe":
            subscription = services.subscription_subscribe_member(
                customer=customer,
                magazine=magazine,
                ip_address=client_ip(request),
                user_agent=user_agent(request),
            )
            if (
                subscription.status == Subscription.Status.PENDING
                and subscription.confirm_token_hash
            ):
                messages.info(
                    request,
                    _(
                        "Your address was erased from our records at your request, so we sent "
                        "a confirmation link to it: “%s” starts when you open it."
                    )
                    % magazine.name,
                )
            elif subscription.status == Subscription.Status.PENDING:
                messages.info(
                    request,
                    _("Confirm your e-mail address first (see My Page): “%s” starts then.")
                    % magazine.name,
                )
            else:
                messages.success(request, _("You are subscribed to “%s”.") % magazine.name)
        elif action == "reconfirm":
            services.subscription_reconfirm(customer=customer, magazine=magazine)
            messages.success(request, _("We sent a confirmation link to your new address."))
        else:
            subscription = Subscription.objects.filter(customer=customer, magazine=magazine).first()
            if subscription is not None:
                services.subscription_unsubscribe(
                    subscription=subscription,
                    ip_address=client_ip(request),
                    user_agent=user_agent(request),
                )
            messages.success(request, _("You will no longer receive “%s”.") % magazine.name)
    except (ValidationError, Subscription.DoesNotExist) as exc:
        messages.error(request, getattr(exc, "messages", [str(exc)])[0])
    return redirect("consents:mypage")


@register_privacy_page_section
def subscriptions_section(request, customer):
    subscriptions = selectors.subscriptions_for(customer=customer)
    current_hash = selectors.address_hash(customer.email)
    rows = []
    for magazine in selectors.magazines_listed():
        subscription = subscriptions.get(magazine.pk)
        needs_reconfirm = bool(
            subscription
            and subscription.status == Subscription.Status.ACTIVE
            and subscription.email_hash != current_hash
        )
        rows.append((magazine, subscription, needs_reconfirm))
    return render_to_string("marketing/mypage_section.html", {"rows": rows}, request=request)
