from django.shortcuts import render

from apps.customers.decorators import member_required
from apps.customers.selectors import address_default
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
