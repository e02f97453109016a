"""One page of a member's list (orders, requests): a list that grows with the person's history
is never rendered whole."""

from django.core.paginator import Page, Paginator

PER_PAGE = 20


def page_of(request, object_list, *, per_page: int = PER_PAGE) -> Page:
    """The page asked for in ``?page=``; junk gives the first page, a page past the end the
    last, as Paginator.get_page does: a stale link is not an error page."""
    return Paginator(object_list, per_page).get_page(request.GET.get("page"))
