import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from apps.core import roles
from apps.customers.models import User
from apps.marketing.models import Campaign
from tests.marketing.helpers import campaign, magazine, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(client):
    call_command("setup_roles", verbosity=0)
    user = User.objects.create_user(email="mkt@shop.test", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.MARKETING))
    client.force_login(user)
    return user


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


@pytest.mark.parametrize("name", ["名" * 101, "山田\x00"])
def test_preview_with_a_sample_name_that_is_no_name_says_so(client, marketer, name):
    c = campaign(magazine())
    page = client.post(reverse("admin:marketing_campaign_preview", args=[c.pk]), {"name": name})
    assert page.status_code == 200
    assert page.context["form"].errors["name"]
    assert "山田 花子" in page.context["text"]  # the default sample, not the typed one
