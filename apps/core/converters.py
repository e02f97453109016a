"""URL converters. `<text:…>` is Django's `str` without control characters: none of our
references, order numbers, policy versions or tokens has one, and a NUL byte that reached a
query would be refused by PostgreSQL with an error (a 500) instead of matching nothing."""

from django.urls.converters import StringConverter


class TextConverter(StringConverter):
    regex = r"[^/\x00-\x1f\x7f]+"
