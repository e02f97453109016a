"""A database-wide and file-wide search for one or many people's personal data.

After an erasure nothing of the person may be left except what the law makes the shop keep, and
what is kept holds no personal field. Rather than trusting each eraser's own idea of what it
covers, this reads EVERY text, character, JSON, e-mail and address column of EVERY table (found
by introspection, with raw SQL, so tables no app registered are searched too) and every file
under MEDIA_ROOT and PRIVACY_PRIVATE_ROOT (inside zip archives as well), and reports where any
of the given values still occurs.

Hits name the table and column (or file) and the kind of value ("email", "phone", ...), never
the value itself, so they can be printed and logged.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

# Django field types (as introspection reports them) whose contents are searched.
TEXT_TYPES = {
    "CharField",
    "TextField",
    "EmailField",
    "JSONField",
    "SlugField",
    "URLField",
    "GenericIPAddressField",
    "IPAddressField",
}
# Values shorter than this would match by chance (a two-digit room number, say).
MIN_NEEDLE_LENGTH = 2
FETCH_ROWS = 2000
ASCII_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")
HIRAGANA_OFFSET = ord("ァ") - ord("ぁ")


@dataclass(frozen=True)
class Hit:
    where: str  # "table.column" or "file:relative/path[!member]"
    kind: str  # which kind of value was found: "email", "phone", ...
    count: int

    def __str__(self):
        return f"{self.where}: {self.kind} ×{self.count}"


def _to_hiragana(text: str) -> str:
    return "".join(chr(ord(c) - HIRAGANA_OFFSET) if "ァ" <= c <= "ヶ" else c for c in text)


def _variants(kind: str, value: str) -> set[str]:
    """The forms in which a value may have been stored: as typed, without hyphens or spaces,
    in hiragana for kana, and JSON-escaped (SQLite keeps JSON with \\u escapes)."""
    value = (value or "").strip().casefold()
    if not value:
        return set()
    forms = {value}
    if kind in ("phone", "postal_code"):
        forms.add(value.replace("-", "").replace(" ", ""))
    if kind in ("name", "kana", "street"):
        forms.add(value.replace(" ", "").replace("\u3000", ""))
    if kind == "kana":
        forms |= {_to_hiragana(f) for f in list(forms)}
    forms |= {json.dumps(f)[1:-1] for f in list(forms)}
    return {f for f in forms if len(f) >= MIN_NEEDLE_LENGTH}


def needles_for_customer(customer) -> dict[str, set[str]]:
    """What identifies one person, read before the erasure: kind -> values (as stored)."""
    from apps.customers.models import Address

    found: dict[str, set[str]] = {}

    def add(kind, value):
        if value:
            found.setdefault(kind, set()).add(str(value))

    add("name", customer.family_name)
    add("name", customer.given_name)
    add("name", f"{customer.family_name} {customer.given_name}".strip())
    add("kana", customer.family_name_kana)
    add("kana", customer.given_name_kana)
    add("kana", f"{customer.family_name_kana} {customer.given_name_kana}".strip())
    add("email", customer.email)
    if customer.user_id:
        add("email", customer.user.email)
    add("phone", customer.phone)
    for address in Address.objects.filter(customer=customer):
        add("name", address.recipient_name)
        add("postal_code", address.postal_code)
        add("street", address.line1)
        add("street", address.line2)
        add("phone", address.phone)
    return found


class Matcher:
    """Finds any of many needles in a text in one pass: needles are bucketed by their first two
    characters, so each position of the text costs one dictionary look-up."""

    def __init__(self, needles: dict[str, Iterable[str]]):
        self.buckets: dict[str, list[tuple[str, str, bool]]] = {}
        for kind, values in needles.items():
            for value in values:
                for form in _variants(kind, value):
                    # All-digit forms (a phone or postal code without hyphens) only count when
                    # they stand alone, not inside a longer number or a hex digest.
                    standalone = form.isascii() and form.isdigit()
                    self.buckets.setdefault(form[:2], []).append((form, kind, standalone))

    def __bool__(self):
        return bool(self.buckets)

    def kinds_in(self, text: str) -> set[str]:
        text = text.casefold()
        kinds: set[str] = set()
        buckets = self.buckets
        for i in range(len(text) - 1):
            candidates = buckets.get(text[i : i + 2])
            if candidates is None:
                continue
            for form, kind, standalone in candidates:
                if not text.startswith(form, i):
                    continue
                if standalone:
                    before = text[i - 1] if i else ""
                    after = text[i + len(form) : i + len(form) + 1]
                    if before in ASCII_ALNUM or after in ASCII_ALNUM:
                        continue
                kinds.add(kind)
        return kinds


def text_columns(using: str = "default") -> dict[str, list[str]]:
    """table -> the columns of a searched type, for every table in the database."""
    connection = connections[using]
    tables: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for info in connection.introspection.get_table_list(cursor):
            if info.type != "t":
                continue
            columns = []
            for column in connection.introspection.get_table_description(cursor, info.name):
                try:
                    field_type = connection.introspection.get_field_type(column.type_code, column)
                except KeyError:
                    continue
                if field_type in TEXT_TYPES:
                    columns.append(column.name)
            if columns:
                tables[info.name] = columns
    return tables


def scan_database(needles: dict[str, Iterable[str]], *, using: str = "default") -> list[Hit]:
    matcher = Matcher(needles)
    if not matcher:
        return []
    connection = connections[using]
    quote = connection.ops.quote_name
    counts: Counter[tuple[str, str]] = Counter()
    for table, columns in sorted(text_columns(using).items()):
        select = ", ".join(f"CAST({quote(c)} AS TEXT)" for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {select} FROM {quote(table)}")  # noqa: S608 (names from introspection)
            while rows := cursor.fetchmany(FETCH_ROWS):
                for row in rows:
                    for column, value in zip(columns, row, strict=True):
                        if value:
                            for kind in matcher.kinds_in(value):
                                counts[(f"{table}.{column}", kind)] += 1
    return [Hit(where, kind, n) for (where, kind), n in sorted(counts.items())]


def _file_texts(path: Path) -> Iterable[tuple[str, str]]:
    data = path.read_bytes()
    yield "", data.decode("utf-8", errors="ignore")
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield f"!{member}", archive.read(member).decode("utf-8", errors="ignore")


def file_roots() -> list[Path]:
    roots = [Path(settings.MEDIA_ROOT), Path(settings.PRIVACY_PRIVATE_ROOT)]
    return [root for root in dict.fromkeys(roots) if root.is_dir()]


def scan_files(needles: dict[str, Iterable[str]], roots: Iterable[Path] | None = None) -> list[Hit]:
    matcher = Matcher(needles)
    hits = []
    for root in roots if roots is not None else file_roots():
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
            relative = path.relative_to(root)
            for kind in sorted(matcher.kinds_in(str(relative))):
                hits.append(Hit(f"file:{relative}(name)", kind, 1))
            for member, text in _file_texts(path):
                for kind in sorted(matcher.kinds_in(text)):
                    hits.append(Hit(f"file:{relative}{member}", kind, 1))
    return hits


def scan(needles: dict[str, Iterable[str]], *, using: str = "default") -> list[Hit]:
    """Every place in the database and the stored files where any of the values occurs."""
    return scan_database(needles, using=using) + scan_files(needles)
