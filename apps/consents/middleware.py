from django.shortcuts import redirect
from django.urls import reverse

from apps.consents import cookies, services
from apps.consents.selectors import pending_confirmations_for
from apps.customers.selectors import customer_for_request


class ConsentMiddleware:
    """Carries the cookie choices this browser made as a visitor over to the member who logs in,
    on their first page (tags and the banner then follow the member's ledger, see
    ``cookies.choices_for``); and sends a member with consents pending re-confirmation (after a
    widening policy change) to the confirmation page before My Page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            if not request.session.get("visitor_linked"):
                visitor_id = cookies.read_visitor_id(request)
                if visitor_id is not None:
                    customer = customer_for_request(request)
                    if customer is not None:
                        services.visitor_link(visitor_id=visitor_id, customer=customer)
                    # Once per session, member or not: later requests pay nothing for it.
                    request.session["visitor_linked"] = True
            if request.path.startswith("/mypage/"):
                customer = customer_for_request(request)
                confirm_url = reverse("consents:reconfirm")
                if (
                    customer is not None
                    and request.path != confirm_url
                    and pending_confirmations_for(customer=customer).exists()
                ):
                    return redirect(f"{confirm_url}?next={request.path}")
        return self.get_response(request)
