"""`make run`: SQLite, Celery eager, mail to the console; nothing to set up."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="local-development-only-not-secret")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
SHOP_NAME = env("SHOP_NAME", default="デモショップ株式会社")
SHOP_POSTAL_ADDRESS = env("SHOP_POSTAL_ADDRESS", default="〒100-0001 東京都千代田区千代田1-1")
SHOP_REPRESENTATIVE = env("SHOP_REPRESENTATIVE", default="代表取締役 山田太郎")
SHOP_CONTACT_EMAIL = env("SHOP_CONTACT_EMAIL", default="privacy@example.com")
SHOP_CONTACT_PHONE = env("SHOP_CONTACT_PHONE", default="03-0000-0000")
# The demo shows a fee request as a shop would run it: how to pay, in the shop's own words.
PRIVACY_REQUEST_FEE_PAYMENT = env(
    "PRIVACY_REQUEST_FEE_PAYMENT",
    default="銀行振込（デモ銀行 本店営業部 普通 1234567 デモショップ（カ）。振込手数料はご負担ください。"
    "お振込名義の前に受付番号をご記入ください）",
)

SUPPRESSION_HMAC_KEY = env("SUPPRESSION_HMAC_KEY", default="local-only-suppression-key")
