from django.http import Http404
from django.shortcuts import render

from apps.core.pagination import page_of
from apps.customers.decorators import member_required
from apps.orders import selectors


@member_required
def order_list(request):
    page = page_of(request, selectors.order_list_for(customer=request.customer))
    return render(request, "orders/order_list.html", {"orders": page.object_list, "page_obj": page})


@member_required
def order_detail(request, number):
    order = selectors.order_get_for(customer=request.customer, number=number)
    if order is None:
        raise Http404
    return render(request, "orders/order_detail.html", {"order": order})
