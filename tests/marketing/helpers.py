from apps.consents.models import Purpose
from apps.marketing import services
from apps.marketing.models import Campaign, MailMagazine
from tests.factories import CustomerFactory


def magazine(**kwargs) -> MailMagazine:
    defaults = {
        "name": "週刊メールマガジン",
        "slug": "weekly",
        "purpose": Purpose.objects.get(code="newsletter"),
        "from_name": "テストショップ",
        "from_email": "news@shop.test",
    }
    defaults.update(kwargs)
    return MailMagazine.objects.create(**defaults)


def subscriber(mag: MailMagazine, **customer_fields):
    customer = CustomerFactory(**customer_fields)
    services.subscription_subscribe_member(customer=customer, magazine=mag)
    return customer


def campaign(mag: MailMagazine, **kwargs) -> Campaign:
    defaults = {
        "subject": "秋の新商品のご案内",
        "body_text": "{name} 様\n\n秋の新商品が入荷しました。",
    }
    defaults.update(kwargs)
    return Campaign.objects.create(magazine=mag, **defaults)


def received_by(sink) -> list[str]:
    return sorted(rcpt for m in sink.messages for rcpt in m["to"])
