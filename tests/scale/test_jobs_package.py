"""The disclosure package of a person with many orders is written piece by piece (issue 16):
the zip goes to a temporary file member by member, data.json and the CSV files as they are
encoded, so neither the package nor any of its machine-readable files is ever one value in
memory."""

from __future__ import annotations

import io
import json
import tempfile
import tracemalloc
import zipfile

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from apps.core.privacy import personal_data_sections, sections_as_data
from apps.orders.models import Order, OrderLine, Payment
from apps.privacy_requests.services import (
    disclosure_package_bytes,
    privacy_request_create_from_mypage,
)
from apps.privacy_requests.services.carry_out import _build_package
from apps.privacy_requests.services.package_files import write_machine_readable, write_page
from tests.factories import AddressFactory, CustomerFactory
from tests.scale.helpers import orders_for

pytestmark = [pytest.mark.django_db]

ORDERS = 3000


@pytest.fixture
def many_orders(settings, tmp_path):
    """A member with ORDERS orders, each with a line and a card payment, and a disclosure
    request."""
    settings.PRIVACY_PRIVATE_ROOT = str(tmp_path)
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default=True)
    orders_for(customer, ORDERS)
    orders = list(Order.objects.filter(customer=customer))
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=o, sku="SKU-1", product_name="有機緑茶 100g", unit_price=1000, quantity=1
            )
            for o in orders
        ]
    )
    Payment.objects.bulk_create(
        [Payment(order=o, method="card", card_brand="VISA", card_last4="4242", amount=1500)
         for o in orders]
    )  # fmt: skip
    return privacy_request_create_from_mypage(
        customer=customer, kind="disclosure", disclosure_form="electronic"
    )


def test_data_json_and_the_csv_files_are_never_held_whole_in_memory(many_orders):
    sections = personal_data_sections(customer_id=many_orders.customer_id)
    data = sections_as_data(sections)
    with tempfile.TemporaryFile() as out, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        tracemalloc.start()
        try:
            write_machine_readable(zf, sections=sections, data=data)
            _size, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        data_json = zf.getinfo("data.json").file_size
        orders_csv = zf.getinfo("csv/orders-orders.csv").file_size
    # Writing them takes less memory than half of data.json would take as one string (the
    # whole-string way held all of it, and once more encoded): what it does hold is the
    # compressor's window and a row at a time, whatever the number of orders.
    assert orders_csv > 500_000 and data_json > 1_000_000
    assert peak < data_json / 2, (peak, orders_csv, data_json)


def test_the_stored_package_holds_what_the_package_always_held(many_orders):
    _build_package(many_orders)
    many_orders.refresh_from_db()
    expected = zipfile.ZipFile(
        io.BytesIO(
            disclosure_package_bytes(
                customer_id=many_orders.customer_id, privacy_request=many_orders
            )
        )
    )
    with many_orders.package.open("rb") as stored, zipfile.ZipFile(stored) as archive:
        assert archive.namelist() == expected.namelist()
        for name in archive.namelist():
            assert archive.read(name) == expected.read(name), name
        orders = json.loads(archive.read("data.json"))["orders"]["orders"]
        assert len(orders) == ORDERS
        csv = archive.read("csv/orders-orders.csv").decode("utf-8-sig")
        assert csv.count("\n") == ORDERS + 1
        # The page, written a run of rows at a time, is the disclosure page rendered whole.
        with translation.override(many_orders.language):
            whole = render_to_string(
                "privacy_requests/disclosure.html",
                {
                    "data": sections_as_data(
                        personal_data_sections(customer_id=many_orders.customer_id)
                    ),
                    "privacy_request": many_orders,
                    "settings": settings,
                    "package": True,
                },
            )
        page = archive.read("index.html").decode()
        assert page == whole
        assert page.count("4242") == ORDERS


def test_the_page_is_written_without_holding_it_whole(many_orders):
    data = sections_as_data(personal_data_sections(customer_id=many_orders.customer_id))
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        with translation.override(many_orders.language):
            # Templates loaded and translations read once beforehand: not what is measured.
            write_page(io.StringIO(), data={}, privacy_request=many_orders)
            tracemalloc.start()
            try:
                write_page(out, data=data, privacy_request=many_orders)
                _size, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        size = out.tell()
    # A run of rows at a time: less than the page itself (rendered whole, it took five times
    # its size in display values and pieces of text).
    assert size > 2_000_000
    assert peak < size / 2, (peak, size)
