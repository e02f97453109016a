"""External tags are structured: a script URL on an allow-listed https host, placed by our
template with the CSP nonce, only after consent for its category. No markup of staff's own
reaches a page."""

import re

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse

from apps.consents.models import ExternalTag

pytestmark = pytest.mark.django_db

TAG = {"name": "Remarketing pixel", "recipient": "AdCo, USA", "data_sent": "page URL, cookie id",
       "purpose": "remarketing", "category": "advertising", "is_active": "on"}  # fmt: skip


@pytest.fixture(autouse=True)
def allowed_hosts(settings):
    settings.EXTERNAL_TAG_ALLOWED_HOSTS = ["tags.adco.example"]


@pytest.mark.parametrize(
    ("script_url", "message"),
    [
        ("https://evil.example/t.js", "not on the allow-list"),
        ("https://tags.adco.example.evil.example/t.js", "not on the allow-list"),
        ("http://tags.adco.example/t.js", "https"),
        ("javascript:alert(1)", "Enter a valid URL"),
        ("ftp://tags.adco.example/t.js", "https"),
        ("https://user:pw@tags.adco.example/t.js", "user name"),
        ("https://tags.adco.example:8443/t.js", "port"),
        ('<script src="https://tags.adco.example/t.js"></script>', "Enter a valid URL"),
        ('https://tags.adco.example/t.js?a="><b>', "characters"),
    ],
)
def test_the_admin_refuses_a_script_url_off_the_allow_list_or_not_https(
    admin_client, script_url, message
):
    response = admin_client.post(
        reverse("admin:consents_externaltag_add"), {**TAG, "script_url": script_url}
    )
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors.get("script_url", []))
    assert message in errors, errors
    assert not ExternalTag.objects.exists()


def test_the_admin_accepts_an_allow_listed_https_script(admin_client):
    response = admin_client.post(
        reverse("admin:consents_externaltag_add"),
        {**TAG, "script_url": "https://TAGS.adco.example/t.js?id=42",
         "snippet": '<img src=x onerror="alert(1)">'},
    )  # fmt: skip
    assert response.status_code == 302
    tag = ExternalTag.objects.get()
    assert tag.script_url == "https://TAGS.adco.example/t.js?id=42"
    assert not hasattr(tag, "snippet")


def test_markup_can_no_longer_be_stored_on_a_tag():
    with pytest.raises(FieldDoesNotExist):
        ExternalTag._meta.get_field("snippet")


def _tag(**fields):
    return ExternalTag.objects.create(
        **{**TAG, "is_active": True, "script_url": "https://tags.adco.example/t.js?id=42", **fields}
    )


def _script_src(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def test_a_tag_renders_as_our_script_element_only_after_consent(client):
    tag = _tag()
    before = client.get("/")
    assert "tags.adco.example" not in before.content.decode()
    assert _script_src(before)["script-src"] == "'self'"
    client.post(reverse("consents:cookie_choice"), {"choice": "necessary"})
    assert "tags.adco.example" not in client.get("/").content.decode()

    client.post(reverse("consents:cookie_choice"), {"choice": "all"})
    response = client.get("/")
    page = response.content.decode()
    scripts = re.findall(r"<script[^>]*tags\.adco\.example[^>]*>", page)
    nonce = re.search(r'nonce="([^"]+)"', scripts[0]).group(1)
    assert scripts == [
        f'<script src="https://tags.adco.example/t.js?id=42" async nonce="{nonce}" '
        f'data-external-tag="{tag.pk}">'
    ]
    # The page's policy lets exactly this element load: the nonce, no host, no inline script.
    assert _script_src(response)["script-src"] == f"'self' 'nonce-{nonce}'"
    assert nonce not in client.get("/").content.decode()  # a new nonce per response


def test_a_tag_whose_host_left_the_allow_list_or_that_holds_markup_does_not_render(
    client, settings
):
    _tag()
    # Stored past the admin's validation: rendering checks again and never prints markup.
    _tag(
        name="forged",
        category="necessary",
        script_url='https://tags.adco.example/x.js?"><img src=x onerror=alert(1)>',
    )
    _tag(name="elsewhere", category="necessary", script_url="https://x.example/t.js")
    client.post(reverse("consents:cookie_choice"), {"choice": "all"})
    page = client.get("/").content.decode()
    assert "tags.adco.example/t.js" in page
    assert "onerror" not in page and "x.js" not in page and "https://x.example" not in page
    settings.EXTERNAL_TAG_ALLOWED_HOSTS = []
    response = client.get("/")
    assert "tags.adco.example/t.js" not in response.content.decode()
    assert _script_src(response)["script-src"] == "'self'"


def test_the_cookie_page_lists_every_tag_what_it_sends_and_to_whom(client):
    _tag()
    _tag(name="Analytics", category="analytics", recipient="StatCo, Japan", script_url="",
         data_sent="pages viewed")  # fmt: skip
    listing = client.get(reverse("consents:cookies")).content.decode()
    for text in ("Remarketing pixel", "AdCo, USA", "page URL, cookie id", "tags.adco.example",
                 "Analytics", "StatCo, Japan", "pages viewed"):  # fmt: skip
        assert text in listing, text


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_a_single_script_url_and_switches_off_any_other_snippet(settings):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("consents", "0004_alter_consentevent_source")]
    after = [("consents", "0005_externaltag_script_url_instead_of_snippet")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("consents", "ExternalTag")
        snippets = {
            "script": '<script async src="https://tags.adco.example/t.js?id=1&amp;x=2"></script>',
            "other host": "<script src='https://cdn.other.example/a.js' defer></script>",
            "inline": "<script>track()</script>",
            "two": '<script src="https://tags.adco.example/a.js"></script><img src="x">',
            "handler": '<script src="https://tags.adco.example/a.js" onload="go()"></script>',
            "http": '<script src="http://tags.adco.example/a.js"></script>',
            "pixel": '<img src="https://px.example/p.gif" onerror="alert(1)">',
        }
        for name, snippet in snippets.items():
            old.objects.create(name=name, recipient="r", data_sent="d", purpose="p",
                               category="analytics", snippet=snippet)  # fmt: skip
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    tags = {tag.name: tag for tag in ExternalTag.objects.all()}
    assert tags["script"].script_url == "https://tags.adco.example/t.js?id=1&x=2"
    assert tags["script"].is_active and tags["script"].staff_note == ""
    assert tags["other host"].script_url == "https://cdn.other.example/a.js"
    assert "EXTERNAL_TAG_ALLOWED_HOSTS" in tags["other host"].staff_note
    for name in ("inline", "two", "handler", "http", "pixel"):
        assert tags[name].script_url == "" and not tags[name].is_active, name
        assert "Switched off" in tags[name].staff_note and snippets[name] in tags[name].staff_note
