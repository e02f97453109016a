from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from apps.consents import cookies
from apps.consents.models import ExternalTag

register = template.Library()


@register.simple_tag(takes_context=True)
def external_tags(context):
    """The snippets of the active external tags whose category this browser consented to.
    Nothing of an advertising or analytics tag reaches the page before consent."""
    request = context.get("request")
    if request is None:
        return ""
    tags = [
        tag
        for tag in ExternalTag.objects.filter(is_active=True).exclude(snippet="")
        if cookies.consented(request, tag.category)
    ]
    # Snippets are written by staff with the change permission on external tags.
    return format_html_join("\n", "{}", ((mark_safe(tag.snippet),) for tag in tags))  # noqa: S308
