"""pytest: the database and broker come from the environment (`make test` starts throwaway
PostgreSQL and Redis); without them, SQLite in memory and tests needing services skip."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

SECRET_KEY = env("SECRET_KEY", default="test-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"
SHOP_NAME = "Test Shop K.K."
SHOP_POSTAL_ADDRESS = "〒100-0001 東京都千代田区千代田1-1"
SHOP_REPRESENTATIVE = "Taro Yamada"
SHOP_CONTACT_EMAIL = "privacy@shop.test"
SHOP_CONTACT_PHONE = "03-0000-0000"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SUPPRESSION_HMAC_KEY = env("SUPPRESSION_HMAC_KEY", default="test-only-suppression-key")
PSEUDONYMISATION_KEY = env("PSEUDONYMISATION_KEY", default="test-only-pseudonymisation-key")
SITE_URL = "http://testserver"

# A test-only app with personal data (tests/registry_app): proves that a new personal field
# reaches the export, the erasure preview and the notices from the owning app alone.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.registry_app"]  # noqa: F405

# Every test reads keys from the database (tests/api/test_foundation.py tests the cache itself).
API_KEY_CACHE_SECONDS = 0
