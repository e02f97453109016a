"""My Page pages that compose several apps: the overview and signup (profile + consents)."""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from apps.consents import services as consent_services
from apps.consents.forms import ConsentChoicesForm
from apps.consents.models import Source
from apps.consents.views import user_agent
from apps.core.ratelimit import rate_limit
from apps.core.security import client_ip
from apps.customers import services as customer_services
from apps.customers.decorators import member_required
from apps.customers.forms import SignupForm
from apps.customers.selectors import address_default
from apps.customers.views import apply_errors
from apps.orders.selectors import order_list_for


@member_required
def overview(request):
    customer = request.customer
    context = {
        "customer": customer,
        "default_address": address_default(customer=customer),
        "recent_orders": order_list_for(customer=customer)[:3],
    }
    return render(request, "mypage/overview.html", context)


@rate_limit("signup")
def signup(request):
    """Membership: the profile, then each optional consent as its own unticked box. Only the
    boxes ticked become grants; leaving one empty is not recorded as anything."""
    if request.user.is_authenticated:
        return redirect("mypage:overview")
    form = SignupForm(request.POST or None)
    consent_form = ConsentChoicesForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and consent_form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                customer = customer_services.member_signup(
                    email=data["email"],
                    password=data["password1"],
                    family_name=data["family_name"],
                    given_name=data["given_name"],
                    family_name_kana=data["family_name_kana"],
                    given_name_kana=data["given_name_kana"],
                    phone=data["phone"],
                    date_of_birth=data["date_of_birth"],
                )
                for purpose, granted, wording in consent_form.choices():
                    if granted:
                        consent_services.consent_grant(
                            purpose=purpose,
                            source=Source.SIGNUP,
                            customer=customer,
                            wording=wording,
                            ip_address=client_ip(request),
                            user_agent=user_agent(request),
                        )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            login(request, customer.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your account has been created."))
            return redirect("mypage:overview")
    return render(request, "account/signup.html", {"form": form, "consent_form": consent_form})
