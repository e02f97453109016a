"""External tags become a script URL instead of raw HTML.

A snippet that was exactly one `<script src="https://…"></script>` (with at most async, defer,
type, charset, crossorigin or referrerpolicy) keeps its URL. Any other snippet cannot be
expressed as a script URL: the tag is switched off and its old snippet is kept, as text, in the
staff note so staff can see what it did and set it up again.
"""

import html
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import migrations, models

import apps.consents.external_tags

_SCRIPT = re.compile(r"\A\s*<script\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>\s*</script\s*>\s*\Z", re.I)
_ATTRIBUTE = re.compile(
    r"\s+([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_HARMLESS = {"async", "defer", "type", "charset", "crossorigin", "referrerpolicy"}

DISABLED_NOTE = (
    "Switched off when external tags became script URLs: its HTML snippet was not a single "
    '<script src="https://…"></script>, so it cannot load any more. Set the script URL (an '
    "allow-listed https host) to use it again. The old snippet, kept as text only:\n\n"
)
HOST_NOTE = (
    "Kept its script URL when external tags became script URLs, but its host is not in "
    "EXTERNAL_TAG_ALLOWED_HOSTS: it loads only once the operator adds the host."
)


def script_url_of(snippet: str) -> str | None:
    """The https URL of a snippet that is exactly one external script element, else None."""
    match = _SCRIPT.match(snippet)
    if not match:
        return None
    attributes, rest = {}, match.group(1)
    position = 0
    for attribute in _ATTRIBUTE.finditer(rest):
        if attribute.start() != position:
            return None
        position = attribute.end()
        value = next((v for v in attribute.groups()[1:] if v is not None), "")
        attributes[attribute.group(1).lower()] = html.unescape(value).strip()
    if rest[position:].strip() or not set(attributes) - {"src"} <= _HARMLESS:
        return None
    url = attributes.get("src", "")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname or len(url) > 500:
        return None
    return url


def forwards(apps, schema_editor):
    ExternalTag = apps.get_model("consents", "ExternalTag")
    allowed = {h.strip().lower() for h in getattr(settings, "EXTERNAL_TAG_ALLOWED_HOSTS", [])}
    for tag in ExternalTag.objects.exclude(snippet=""):
        url = script_url_of(tag.snippet)
        if url is None:
            tag.script_url = ""
            tag.is_active = False
            tag.staff_note = DISABLED_NOTE + tag.snippet
        else:
            tag.script_url = url
            if urlsplit(url).hostname.lower() not in allowed:
                tag.staff_note = HOST_NOTE
        tag.save(update_fields=["script_url", "is_active", "staff_note"])


def backwards(apps, schema_editor):
    ExternalTag = apps.get_model("consents", "ExternalTag")
    for tag in ExternalTag.objects.exclude(script_url=""):
        tag.snippet = f'<script src="{html.escape(tag.script_url)}" async></script>'
        tag.save(update_fields=["snippet"])


class Migration(migrations.Migration):
    dependencies = [
        ("consents", "0004_alter_consentevent_source"),
    ]

    operations = [
        migrations.AddField(
            model_name="externaltag",
            name="script_url",
            field=models.URLField(
                blank=True,
                help_text="An https address on a host of the allow-list (EXTERNAL_TAG_ALLOWED_HOSTS). The site loads it as a script only for visitors who consented to the category. Empty: the tag is listed but loads nothing.",
                max_length=500,
                validators=[apps.consents.external_tags.validate_script_url],
                verbose_name="script URL",
            ),
        ),
        migrations.AddField(
            model_name="externaltag",
            name="staff_note",
            field=models.TextField(blank=True, verbose_name="note for staff"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(
            model_name="externaltag",
            name="snippet",
        ),
    ]
