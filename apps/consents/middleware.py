from django.shortcuts import redirect
from django.urls import reverse

from apps.consents import cookies, services
from apps.consents.notice_cache import notice_generation
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
                    and _reconfirmation_pending(request, customer)
                ):
                    return redirect(f"{confirm_url}?next={request.path}")
        return self.get_response(request)


CHECKED_UNDER = "consents_reconfirm_checked"


def _reconfirmation_pending(request, customer) -> bool:
    """Only publishing a widening policy makes consents pending re-confirmation, and every save
    of a policy version replaces the generation in apps/consents/notice_cache.py (at the save
    and after its commit): a session that found nothing pending under the current generation
    need not ask the database again on every My Page request until the next publish."""
    generation = notice_generation()
    if generation is not None and request.session.get(CHECKED_UNDER) == generation:
        return False
    if pending_confirmations_for(customer=customer).exists():
        return True
    if generation is not None:
        request.session[CHECKED_UNDER] = generation
    return False
