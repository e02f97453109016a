from django.db import migrations
from django.db.models import Exists, OuterRef


def subscribers_not_inquiries(apps, schema_editor):
    """The subscription form recorded visitors it created as "inquiry". Those people (no login,
    "inquiry", and a subscription) came through the form: say so. Nothing else set "inquiry"."""
    Customer = apps.get_model("customers", "Customer")
    Subscription = apps.get_model("marketing", "Subscription")
    subscribed = Subscription.objects.filter(customer_id=OuterRef("pk"))
    Customer.objects.filter(acquired_via="inquiry", user__isnull=True).filter(
        Exists(subscribed)
    ).update(acquired_via="subscription")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_acquired_via_subscription"),
        ("marketing", "0005_delivery_esp_feedback"),
    ]

    operations = [migrations.RunPython(subscribers_not_inquiries, migrations.RunPython.noop)]
