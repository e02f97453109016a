"""The registry's contract: erasers' order is declared and checked when a handler registers;
counts read in people's words; sections' columns take the fields' verbose names by default;
one helper says how a value reads; the disclosure renderer knows no app."""

import ast
import datetime
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from apps.core import privacy
from apps.core.display import NOTHING, display_value
from apps.core.privacy import (
    Column,
    ErasureReport,
    Section,
    columns_of,
    erasure_label,
    handlers,
    register,
    unregister,
)
from apps.customers.models import Customer, Inquiry

ROOT = Path(__file__).resolve().parents[2]


def nothing(*args, **kwargs):
    return ErasureReport()


@pytest.fixture
def probes():
    """Names registered by a test, removed after it."""
    names = []
    yield names
    for name in names:
        unregister(name)


def probe(probes, name, **order):
    probes.append(name)
    register(name, exporter=lambda _id: [], eraser=nothing, covers={}, **order)


def test_erasers_run_in_the_declared_order():
    names = [h.name for h in handlers()]
    # Order snapshots, subscriptions (whose hashes come from the person's address), consents
    # and requests go before the customer row is emptied; consents after the unsubscription.
    assert names == [
        "orders",
        "marketing",
        "consents",
        "privacy_requests",
        "integration",
        "customers",
    ]
    for position, handler in enumerate(handlers()):
        assert set(handler.runs_after) <= set(names[:position]), handler.name


def test_runs_after_and_runs_before_place_a_new_handler(probes):
    probe(probes, "probe", runs_after=("consents",), runs_before=("privacy_requests",))
    names = [h.name for h in handlers()]
    assert names.index("consents") < names.index("probe") < names.index("privacy_requests")


def test_an_unknown_name_raises_at_registration_and_registers_nothing(probes):
    with pytest.raises(ImproperlyConfigured, match="unknown"):
        probe(probes, "probe", runs_after=("loyalty_points",))
    assert "probe" not in [h.name for h in handlers()]


def test_a_cycle_raises_at_registration_and_registers_nothing(probes):
    probe(probes, "first", runs_after=("orders",))
    with pytest.raises(ImproperlyConfigured, match="cycle"):
        probe(probes, "second", runs_after=("first",), runs_before=("orders",))
    with pytest.raises(ImproperlyConfigured, match="cycle"):
        probe(probes, "itself", runs_after=("itself",))
    assert [h.name for h in handlers()][-2:] == ["customers", "first"]


def test_a_name_given_before_its_app_registered_is_checked_when_the_registry_closes(
    probes, monkeypatch
):
    monkeypatch.setattr(privacy, "_closed", False)  # as during start-up
    probe(probes, "early", runs_after=("later",))  # "later" may still register
    with pytest.raises(ImproperlyConfigured, match="later"):
        privacy.registry_close()
    probe(probes, "later")
    privacy.registry_close()
    names = [h.name for h in handlers()]
    assert names.index("later") < names.index("early")


def test_counts_read_in_the_words_their_app_registered(db):
    assert erasure_label("customers.Session") == "signed-in sessions"
    assert erasure_label("marketing.SuppressedAddress").startswith("do-not-mail list")
    assert erasure_label("customers.Address") == "addresses"  # the model's plural name
    assert erasure_label("gone.Model") == "gone.Model"
    with translation.override("ja"):
        assert erasure_label("customers.Session") != "signed-in sessions"
        assert erasure_label("customers.Address") != "addresses"
    customer = Customer.objects.create(family_name="山田")
    report = privacy.personal_data_erase(customer_id=customer.pk, dry_run=True)
    assert set(report.labels) == {*report.deleted, *report.anonymised, *report.kept}
    assert report.labels["customers.Customer"] == "customers"


def test_columns_take_the_fields_verbose_names_and_choices_unless_overridden():
    topic, message, name = columns_of(
        Inquiry, "topic", "message", "name", name=Column("name", "Who wrote")
    )
    assert (str(topic.label), str(message.label), name.label) == ("Topic", "Message", "Who wrote")
    assert topic.labels()["order"] == Inquiry.Topic.ORDER.label
    assert message.labels() is None


def test_a_section_lists_every_label_it_declares_nested_ones_too():
    section = Section(
        "orders",
        "Orders",
        (
            Column("total", "Total", money=True),
            Column("lines", "Items", columns=(Column("product", "Product"),)),
        ),
    )
    assert section.headers == {"total": "Total", "lines": "Items", "lines.product": "Product"}
    assert section.with_rows([{"total": 1}]).rows == ({"total": 1},)
    assert section.column("lines").children()[0].key == "product"


def test_one_helper_says_how_a_value_reads():
    with translation.override("en"):
        assert display_value(None) == display_value("") == display_value([]) == NOTHING
        assert (display_value(True), display_value(False)) == ("Yes", "No")
        # The shop's time zone (Asia/Tokyo), to the minute.
        at = datetime.datetime(2026, 11, 23, 7, 9, 30, 123456, tzinfo=datetime.UTC)
        assert display_value(at) == "2026-11-23 16:09"
        assert display_value(datetime.date(2027, 3, 31)) == "2027-03-31"
        assert display_value(1500, money=True) == "¥1,500" and display_value(1500) == "1500"
        assert display_value("card", labels={"card": "Credit card"}) == "Credit card"
        assert display_value(0, labels={0: "none"}) == "none"
    with translation.override("ja"):
        assert display_value(True) != "Yes"


def test_the_disclosure_renderer_imports_no_other_app():
    source = ROOT / "apps/privacy_requests/templatetags/disclosure.py"
    imported = [
        node.module
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    ] + [
        alias.name
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    ours = [name for name in imported if name.startswith("apps.")]
    assert ours and all(name.startswith("apps.core.") for name in ours), ours
    assert len(source.read_text().splitlines()) <= 200
