"""The machine-readable files of the disclosure package (data.json, a CSV file per section),
written into the zip as they are encoded: neither is ever one string in memory, however many
orders the person has (issue 16)."""

from __future__ import annotations

import datetime
import io
import json
import secrets
import zipfile

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone

from apps.core import csvsafe
from apps.core.privacy import Section
from apps.privacy_requests.templatetags.disclosure import disclosure_section_runs


def csv_write(rows, out) -> None:
    """One section's raw values as CSV, written row by row to `out`. Datetimes are written in
    the shop's time zone to the second and nested values (order lines, payment) as JSON, so that
    a spreadsheet shows the times the person knows and data another program can read, not UTC
    microseconds or Python reprs."""

    def plain(value):
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).replace(microsecond=0).isoformat()
        return DjangoJSONEncoder().default(value)

    def cell(value):
        if isinstance(value, dict | list):
            return json.dumps(value, default=plain, ensure_ascii=False)
        if isinstance(value, datetime.datetime):
            return plain(value)
        return "" if value is None else value

    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    writer = csvsafe.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(key)) for key in columns])


def text_member(archive: zipfile.ZipFile, name: str):
    """A text member of `archive`, written (compressed) as it is given, UTF-8."""
    return io.TextIOWrapper(archive.open(name, "w"), encoding="utf-8", newline="")


def write_machine_readable(
    archive: zipfile.ZipFile, *, sections: list[tuple[str, Section]], data: dict
) -> None:
    """data.json and a CSV file per section, each encoded and compressed as it is written:
    neither is ever one string in memory, however many orders the person has."""
    with text_member(archive, "data.json") as member:
        encoder = DjangoJSONEncoder(ensure_ascii=False, indent=2)
        for chunk in encoder.iterencode(data):
            member.write(chunk)
    for app, section in sections:
        if section.rows:
            with text_member(archive, f"csv/{app}-{section.key}.csv") as member:
                member.write("\ufeff")
                csv_write(section.rows, member)


# Rows of a section rendered at a time on the package's page.
PAGE_RUN = 50


def write_page(out, *, data: dict, privacy_request) -> None:
    """The package's page (index.html), written to `out` a run of rows at a time: the frame
    of the disclosure page, then each section's runs in between, as the page shows them."""
    marker = f"@@sections-{secrets.token_hex(8)}@@"
    frame = render_to_string(
        "privacy_requests/disclosure.html",
        {
            "data": {},
            "privacy_request": privacy_request,
            "settings": settings,
            "package": True,
            "sections_apart": marker,
        },
    )
    head, tail = frame.split(marker)
    out.write(head)
    for section, first, last in disclosure_section_runs(data, size=PAGE_RUN):
        out.write(
            render_to_string(
                "privacy_requests/_disclosure_section.html",
                {"section": section, "first": first, "last": last},
            )
        )
    out.write(tail)
