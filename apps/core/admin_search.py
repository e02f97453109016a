"""Admin search that keeps what was searched for out of URLs (and so out of access logs,
browser history and Referer headers): staff search people by name, e-mail or phone.

The search box posts to ``<changelist>/search/``; the term is kept in the staff member's
session under a short random token, and the change list is opened with ``?s=<token>``. Its
paging, sorting and filter links carry the token, never the term. A token from another session
(or an expired one) opens the list unsearched."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

TOKEN_VAR = "s"  # noqa: S105 (the name of a query parameter, not a secret)
SESSION_KEY = "admin_searches"
KEEP = 20  # searches remembered per session: enough for the back button of a working day


class PostedSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)


class PostedSearchChangeList(ChangeList):
    def __init__(self, request, *args, **kwargs):
        self.search_token = getattr(request, "_admin_search_token", None)
        super().__init__(request, *args, **kwargs)
        if self.search_token:
            self.params.pop(SEARCH_VAR, None)  # the search form's hidden fields

    def get_query_string(self, new_params=None, remove=None):
        # Every link of the list (paging, sorting, filters, facets) carries the token instead.
        query = super().get_query_string(new_params, remove)
        if not self.search_token:
            return query
        pairs = parse_qsl(query[1:], keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if k != SEARCH_VAR]
        if len(kept) < len(pairs):
            kept.append((TOKEN_VAR, self.search_token))
        return f"?{urlencode(sorted(kept))}"


class PostedSearchAdminMixin:
    def _changelist_url(self) -> str:
        opts = self.model._meta
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")

    def get_urls(self):
        opts = self.model._meta
        view = self.admin_site.admin_view(require_POST(self.posted_search_view))
        name = f"{opts.app_label}_{opts.model_name}_search"
        return [path("search/", view, name=name), *super().get_urls()]

    def get_changelist(self, request, **kwargs):
        return PostedSearchChangeList

    def posted_search_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = PostedSearchForm(request.POST)
        term = form.cleaned_data["q"] if form.is_valid() else ""
        skip = {"csrfmiddlewaretoken", SEARCH_VAR, TOKEN_VAR, PAGE_VAR}
        params = [(k, v) for k, values in request.POST.lists() if k not in skip for v in values]
        if term:
            token = secrets.token_urlsafe(6)
            searches = dict(list(request.session.get(SESSION_KEY, {}).items())[-(KEEP - 1) :])
            searches[token] = term
            request.session[SESSION_KEY] = searches
            params.append((TOKEN_VAR, token))
        query = f"?{urlencode(params)}" if params else ""
        return HttpResponseRedirect(self._changelist_url() + query)

    def changelist_view(self, request, extra_context=None):
        token = request.GET.get(TOKEN_VAR)
        if token is not None:
            query = request.GET.copy()
            del query[TOKEN_VAR]
            term = request.session.get(SESSION_KEY, {}).get(token)
            if term is None:
                suffix = f"?{query.urlencode()}" if query else ""
                return HttpResponseRedirect(self._changelist_url() + suffix)
            query[SEARCH_VAR] = term
            request.GET = query
            request._admin_search_token = token
        return super().changelist_view(request, extra_context)
