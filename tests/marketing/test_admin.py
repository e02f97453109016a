import email
import re
from email import policy

import pytest
from django.conf import settings
from django.urls import reverse

from apps.marketing.models import Campaign
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db


def test_marketing_sees_counts_not_recipients(client, marketer):
    mag = magazine()
    people = [subscriber(mag, family_name="秘密") for _ in range(3)]
    c = campaign(mag)
    page = client.get(reverse("admin:marketing_campaign_change", args=[c.pk])).content.decode()
    assert "Ready to send" in page
    assert "3" in page  # may receive it now
    for person in people:
        assert person.email not in page
    assert "秘密" not in page
    assert client.get(reverse("admin:marketing_subscription_changelist")).status_code == 403
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 403


def test_send_now_from_the_admin(
    client, marketer, smtp_settings, django_capture_on_commit_callbacks
):
    mag = magazine()
    subscriber(mag)
    c = campaign(mag)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:marketing_campaign_changelist"),
            {"action": "send_now", "_selected_action": [c.pk]},
        )
    c.refresh_from_db()
    assert c.status == "sent" and len(smtp_settings.messages) == 1
    page = client.get(reverse("admin:marketing_campaign_change", args=[c.pk])).content.decode()
    assert "1 sent" in page
    # Sent: read-only.
    client.post(reverse("admin:marketing_campaign_change", args=[c.pk]), {"subject": "changed"})
    c.refresh_from_db()
    assert c.subject != "changed"


def test_missing_footer_settings_give_a_clear_admin_error(client, marketer, settings):
    settings.SHOP_CONTACT_EMAIL = ""
    c = campaign(magazine())
    response = client.post(
        reverse("admin:marketing_campaign_changelist"),
        {"action": "send_now", "_selected_action": [c.pk]},
        follow=True,
    )
    assert "SHOP_CONTACT_EMAIL" in response.content.decode()
    c.refresh_from_db()
    assert c.status == "draft"


def test_preview_and_test_send(client, marketer, smtp_settings):
    c = campaign(magazine())
    page = client.post(  # the sample name goes by POST, never in the URL
        reverse("admin:marketing_campaign_preview", args=[c.pk]), {"name": "試験 太郎"}
    )
    assert page.status_code == 200 and "試験 太郎" in page.content.decode()
    client.post(
        reverse("admin:marketing_campaign_changelist"),
        {"action": "send_test_to_me", "_selected_action": [c.pk]},
    )
    assert [m["to"] for m in smtp_settings.messages] == [["mkt@shop.test"]]
    c.refresh_from_db()
    assert c.status == "draft" and not c.deliveries.exists()
    assert Campaign.objects.count() == 1


# ------------------------------------------------------------------ what a campaign may contain


def _add_campaign(client, mag, **fields):
    data = {"magazine": mag.pk, "subject": "新茶のご案内", "body_text": "{name} 様", "body_html": "",
            "scheduled_at_0": "", "scheduled_at_1": ""}  # fmt: skip
    return client.post(reverse("admin:marketing_campaign_add"), {**data, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"body_html": '<a href="https://collector.example/?n={name}">新茶</a>'},
        {"body_html": '<img src="https://collector.example/?n={name}" alt="">'},
        {"body_html": '<img src="https://collector.example/p.gif" alt="{name}">'},
        {"body_html": '<p title="{name}">新茶</p>'},
        {"body_html": '<p style="color:red" data-who="{name}">新茶</p>'},  # dropped, still refused
        {"body_html": '<a href="{unsubscribe_url}" title="{name}">配信停止</a>'},
        {"body_html": '<img src="{unsubscribe_url}" alt="">'},
        {"body_html": '<a href="https://collector.example/?u={unsubscribe_url}">x</a>'},
        {"body_html": "<p>https://collector.example/?n=<b>{name}</b></p>"},
        {"body_text": "{name} 様 https://collector.example/?n={name}"},
        {"body_text": "詳しくは mailto:c@collector.example?body={unsubscribe_url}"},
        {"subject": "{name} 様へ新茶のご案内"},
    ],
)
def test_a_placeholder_in_a_url_attribute_or_header_is_refused_in_the_admin(
    client, marketer, fields
):
    response = _add_campaign(client, magazine(), **fields)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    field = next(iter(fields))
    assert field in errors, errors
    assert "placeholder" in " ".join(errors[field]).lower()
    assert not Campaign.objects.exists()


def test_the_unsubscribe_link_as_a_whole_href_is_accepted_and_works(client, marketer):
    from apps.marketing.mail import PreparedCampaign, Recipient
    from apps.marketing.models import Subscription

    mag = magazine()
    reader = subscriber(mag)
    body = '<p>{name} 様</p><p><a href="{unsubscribe_url}">配信停止はこちら</a></p>'
    response = _add_campaign(client, mag, body_html=body)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = Campaign.objects.get()
    assert 'href="{unsubscribe_url}"' in stored.body_html
    subscription = Subscription.objects.get(customer=reader)
    raw, _mid = PreparedCampaign(stored).render(
        Recipient(address=reader.email, name="佐藤", subscription_id=subscription.pk,
                  delivery_id=1)
    )  # fmt: skip
    html = email.message_from_bytes(raw, policy=policy.default).get_body(("html",)).get_content()
    link = re.search(r'<a href="([^"]+)"[^>]*>配信停止はこちら', html).group(1)
    assert link.startswith("http") and "{" not in link
    client.logout()
    client.post(link.replace(settings.SITE_URL.rstrip("/"), ""))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED


def test_scripts_handlers_and_javascript_links_do_not_survive_saving(client, marketer):
    from apps.marketing.mail import PreparedCampaign, Recipient

    body = (
        '<p onclick="steal()">{name} 様</p><script>alert(1)</script><style>p{}</style>'
        '<img src="https://shop.example/tea.png" onerror="alert(1)" alt="新茶">'
        '<a href="javascript:alert(1)">見る</a><a href="https://shop.example/tea">新茶</a>'
        '<form action="https://collector.example/"><input name=x></form>'
    )
    assert _add_campaign(client, magazine(), body_html=body).status_code == 302
    stored = Campaign.objects.get().body_html
    for gone in ("script", "alert", "onclick", "onerror", "javascript:", "<style", "<form",
                 "<input"):  # fmt: skip
        assert gone not in stored, gone
    assert '<img src="https://shop.example/tea.png" alt="新茶">' in stored
    assert 'href="https://shop.example/tea"' in stored
    # The text placeholder still works, and the value is escaped in the HTML part.
    raw, _mid = PreparedCampaign(Campaign.objects.get()).render(
        Recipient(address="a@example.com", name='<img src=x onerror="1">&"', subscription_id=1,
                  delivery_id=1)
    )  # fmt: skip
    html = email.message_from_bytes(raw, policy=policy.default).get_body(("html",)).get_content()
    assert "<p>&lt;img src=x onerror=&quot;1&quot;&gt;&amp;&quot; 様</p>" in html
    assert 'onerror="1"' not in html
    # What is stored is what is previewed.
    preview = client.post(
        reverse("admin:marketing_campaign_preview", args=[Campaign.objects.get().pk])
    )
    assert "alert" not in preview.content.decode()


@pytest.mark.parametrize("name", ["名" * 101, "山田\x00"])
def test_preview_with_a_sample_name_that_is_no_name_says_so(client, marketer, name):
    c = campaign(magazine())
    page = client.post(reverse("admin:marketing_campaign_preview", args=[c.pk]), {"name": name})
    assert page.status_code == 200
    assert page.context["form"].errors["name"]
    assert "山田 花子" in page.context["text"]  # the default sample, not the typed one
