from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.forms import form_apply_errors
from apps.core.ratelimit import rate_limit, rate_limit_refusal
from apps.customers import selectors, services
from apps.customers.decorators import member_required
from apps.customers.forms import AddressForm, InquiryForm, ProfileForm


@member_required
@rate_limit("mypage")
def profile(request):
    customer = request.customer
    form = ProfileForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.customer_update_profile(
                customer=customer, **{name: data[name] for name in services.PROFILE_FIELDS}
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, _("Your profile has been saved."))
            return redirect("customers:profile")
    return render(
        request,
        "customers/profile.html",
        {
            "form": form,
            "customer": customer,
            "login": selectors.login_email_state(customer=customer),
        },
    )


@member_required
def address_list(request):
    addresses = selectors.address_list(customer=request.customer)
    return render(request, "customers/address_list.html", {"addresses": addresses})


def _address_or_404(request, pk):
    address = selectors.address_get(customer=request.customer, pk=pk)
    if address is None:
        raise Http404
    return address


def _address_fields(data):
    return {name: data.get(name, "") for name in services.ADDRESS_EDITABLE_FIELDS}


@member_required
@rate_limit("mypage")
def address_create(request):
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_create(
                customer=request.customer,
                make_default=form.cleaned_data["make_default"],
                **_address_fields(form.cleaned_data),
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, _("The address has been added."))
            return redirect("customers:addresses")
    return render(request, "customers/address_form.html", {"form": form})


@member_required
@rate_limit("mypage")
def address_edit(request, pk):
    address = _address_or_404(request, pk)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_update(
                address=address,
                make_default=form.cleaned_data["make_default"],
                **_address_fields(form.cleaned_data),
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, _("The address has been saved."))
            return redirect("customers:addresses")
    return render(request, "customers/address_form.html", {"form": form, "address": address})


@require_POST
@member_required
@rate_limit("mypage")
def address_delete(request, pk):
    services.address_delete(address=_address_or_404(request, pk))
    messages.success(request, _("The address has been deleted."))
    return redirect("customers:addresses")


@require_POST
@member_required
@rate_limit("mypage")
def address_default(request, pk):
    services.address_set_default(address=_address_or_404(request, pk))
    messages.success(request, _("The default address has been changed."))
    return redirect("customers:addresses")


@rate_limit("contact", count="success")
def contact(request):
    if request.method == "GET" and request.GET.get("sent"):
        return render(request, "customers/contact_done.html")
    form = InquiryForm(request.POST or None)
    retry_after = getattr(request, "rate_limit_retry_after", None)
    if request.method == "POST" and retry_after:
        # Over the limit: nothing is sent, but the visitor keeps what they typed.
        form.is_valid()
        response = render(
            request,
            "customers/contact.html",
            {"form": form, "retry_minutes": max(1, (retry_after + 59) // 60)},
        )
        return rate_limit_refusal(response, retry_after)
    if request.method == "POST" and form.is_valid():
        customer = selectors.customer_for_user(user=request.user)
        try:
            services.inquiry_create(customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            # Post/redirect/get: reloading the thank-you page sends nothing again.
            return redirect(f"{reverse('contact')}?sent=1")
    return render(request, "customers/contact.html", {"form": form})
