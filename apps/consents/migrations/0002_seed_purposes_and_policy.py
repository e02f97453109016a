"""The purposes of use of the policies in shared/seeds, and the first published policy."""

from django.db import migrations
from django.utils import timezone

PURPOSES = [
    # code, ja, en, description ja, description en, opt-in, cookie category
    ("fulfil_sales", "商品の販売・お届け", "Selling and delivering products",
     "ご注文の商品をお届けし、ご注文内容やお取引状況をマイページに表示するため。",
     "To deliver the products you order and show your orders and registration on My Page.",
     False, ""),
    ("after_sales", "アフターサービス", "After-sales service",
     "お届けした商品の交換・返品・修理などのアフターサービスのため。",
     "To provide after-sales service such as exchanges, returns and repairs.", False, ""),
    ("resale_prevention", "不正利用・転売の防止", "Preventing resale and misuse",
     "利用規約に違反する転売や不正な利用をされる方のご利用をお断りするため。",
     "To refuse service to people who resell goods or otherwise violate the terms of use.",
     False, ""),
    ("identity_verification", "本人確認", "Identity verification",
     "お客様ご本人であることを確認するため。", "To verify that you are who you say you are.",
     False, ""),
    ("billing", "代金のご請求", "Billing",
     "ご購入いただいた商品の代金をご請求するため。", "To bill you for the products you buy.",
     False, ""),
    ("inquiries", "お問い合わせへの対応", "Answering inquiries",
     "お問い合わせにお答えし、必要なご連絡をするため。",
     "To answer your inquiries and contact you when necessary.", False, ""),
    ("new_products", "新商品・サービスのご案内", "Announcements of new products and services",
     "新商品・新サービスや催し物について電子メールでご案内するため。",
     "To tell you by e-mail about new products, services and events.", True, ""),
    ("newsletter", "メールマガジン・DMの送付", "Mail magazines and direct mail",
     "メールマガジンやダイレクトメールをお送りするため。",
     "To send you mail magazines and direct mail.", True, ""),
    ("remarketing", "リマーケティング広告", "Remarketing advertisements",
     "当サイトの閲覧履歴をもとに、広告配信事業者を通じて他のサイトで当店の広告を表示するため（Cookieを使用します）。",
     "To show our advertisements on other sites through ad-serving companies, based on your "
     "visits to this site (uses cookies).", True, "advertising"),
    ("analytics", "アクセス解析", "Site analytics",
     "サイトの利用状況を統計的に把握し、改善するため（Cookieを使用します）。",
     "To understand how the site is used, statistically, and improve it (uses cookies).",
     True, "analytics"),
    ("third_party_provision", "第三者への提供", "Provision to third parties",
     "ご本人の同意を得たうえで、提携先の第三者に個人情報を提供するため。",
     "To provide your personal information to partner companies, with your consent.",
     True, ""),
]  # fmt: skip

POLICY_JA = """プライバシーポリシー

当店は、お客様の個人情報を適切に保護することを社会的責務と考え、個人情報の保護に関する法律その他の法令を遵守し、以下のとおり取り扱います。

1. 取得する個人情報
氏名、住所、電話番号、メールアドレス、パスワード、お届け先、お取引の履歴とその内容。

2. 利用目的
当店は、取得した個人情報を、このページに掲げる利用目的の範囲内でのみ利用します。メールマガジン、新商品のご案内、リマーケティング広告、アクセス解析、第三者への提供は、お客様の同意をいただいた場合に限ります。同意はマイページからいつでも撤回できます。

3. 第三者提供
法令に基づく場合、業務委託先に提供する場合を除き、ご本人の同意なく第三者に提供しません。

4. 開示等のご請求
利用目的の通知、開示、訂正・追加・削除、利用停止・消去、第三者提供の停止は、マイページまたはお問い合わせ窓口からご請求いただけます。
"""

POLICY_EN = """Privacy policy

We consider protecting our customers' personal information a social responsibility. We comply
with the Act on the Protection of Personal Information and other laws, and handle personal
information as follows.

1. What we collect
Name, address, phone number, e-mail address, password, shipping details, and your transaction
history with us.

2. Purposes of use
We use personal information only within the purposes listed on this page. Mail magazines,
announcements of new products, remarketing advertisements, analytics and provision to third
parties happen only with your consent, which you can withdraw at any time on My Page.

3. Provision to third parties
We do not provide personal information to third parties without your consent, except where
the law requires it or to contractors who work for us.

4. Requests
You can ask for notification of purposes, disclosure, correction, addition or deletion, stop of
use or erasure, and stop of third-party provision on My Page or through our contact form.
"""


def seed(apps, schema_editor):
    Purpose = apps.get_model("consents", "Purpose")
    PolicyVersion = apps.get_model("consents", "PolicyVersion")
    for order, (code, name_ja, name_en, desc_ja, desc_en, opt_in, cookie) in enumerate(PURPOSES):
        Purpose.objects.update_or_create(
            code=code,
            defaults={
                "name_ja": name_ja,
                "name_en": name_en,
                "description_ja": desc_ja,
                "description_en": desc_en,
                "requires_opt_in": opt_in,
                "cookie_category": cookie,
                "sort_order": order * 10,
            },
        )
    PolicyVersion.objects.get_or_create(
        version="1.0",
        defaults={
            "title": "プライバシーポリシー",
            "body_ja": POLICY_JA,
            "body_en": POLICY_EN,
            "change_summary": "初版 / First version",
            "published_at": timezone.now(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("consents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
