"""Production: every secret from the environment, no defaults; HTTPS only."""

from config.settings.base import *  # noqa: F403
from config.settings.base import FRAME_CACHE, cache_config, database_config, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": database_config(env.db("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
# Shared by every process: rate limits and lockouts must hold across gunicorn workers/machines.
CACHES = {"default": cache_config(env.cache("CACHE_URL")), "frame": FRAME_CACHE}

# Every staff user passes a TOTP second factor to use the admin; not switchable here.
ADMIN_REQUIRE_2FA = True

SHOP_NAME = env("SHOP_NAME")
SHOP_POSTAL_ADDRESS = env("SHOP_POSTAL_ADDRESS")
SHOP_REPRESENTATIVE = env("SHOP_REPRESENTATIVE")
SHOP_CONTACT_EMAIL = env("SHOP_CONTACT_EMAIL")
SUPPRESSION_HMAC_KEY = env("SUPPRESSION_HMAC_KEY")
PSEUDONYMISATION_KEY = env("PSEUDONYMISATION_KEY")
SITE_URL = env("SITE_URL")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# A load balancer checks health over plain HTTP inside the network; it answers, never redirects.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Static files straight from the app server, compressed and with far-future cache headers.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]  # noqa: F405

# Each template parsed once per process (Django's default with DEBUG off, written down so that
# no later edit of TEMPLATES drops it by accident).
TEMPLATES[0]["APP_DIRS"] = False  # noqa: F405
TEMPLATES[0]["OPTIONS"]["loaders"] = [  # noqa: F405
    (
        "django.template.loaders.cached.Loader",
        [
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    )
]
