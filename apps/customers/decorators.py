from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from apps.customers.selectors import customer_for_request


def member_required(view):
    """Log in first; then the view gets `request.customer`, the member's own profile only."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        customer = customer_for_request(request)
        if customer is None:
            raise Http404("No member profile for this login.")
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapper
