from django import template

from apps.consents import cookies, external_tags
from apps.consents.models import ExternalTag
from apps.core.compiled import CompiledQuery

register = template.Library()
# Every page of a visitor who allowed a category reads it: compiled once (apps/core/compiled.py).
_TAGS_ACTIVE = CompiledQuery(
    lambda: ExternalTag.objects.filter(is_active=True).exclude(script_url="")
)


@register.inclusion_tag("consents/external_tags.html", takes_context=True, name="external_tags")
def external_tags_placed(context):
    """The active external tags whose category this browser consented to, placed by our own
    template. Nothing of an advertising or analytics tag reaches the page before consent, and
    a URL that no longer passes the host allow-list is left out."""
    request = context.get("request")
    tags = []
    # Most visitors allowed no optional category: their pages need no read of the tag table.
    if request is not None and any(cookies.consented(request, c) for c in cookies.CATEGORIES):
        tags = [
            tag
            for tag in _TAGS_ACTIVE()
            if cookies.consented(request, tag.category)
            and external_tags.script_url_problem(tag.script_url) is None
        ]
    return {"tags": tags, "request": request}
