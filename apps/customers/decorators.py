from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from apps.customers.privacy_center import privacy_center_customer
from apps.customers.selectors import customer_for_request


def member_required(view):
    """Log in first; then the view gets `request.customer`, the member's own profile only.

    On the privacy pages a privacy-center session (apps/customers/privacy_center.py) counts as
    well: `request.customer` is its person and `request.user` stays anonymous."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            customer = customer_for_request(request)
            if customer is None:
                raise Http404("No member profile for this login.")
        else:
            customer = privacy_center_customer(request)
            if customer is None:
                return redirect_to_login(request.get_full_path())
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapper
