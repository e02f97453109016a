"""Settings shared by every environment; each value comes from the environment or `.env`."""

import datetime
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# SECRET_KEY: each environment module sets it (production has no default).
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# ---------------------------------------------------------------- i18n
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------- database


def database_config(url: dict) -> dict:
    """DATABASE_URL's settings, with no request-wide transaction; on PostgreSQL, parameters
    sent apart from the statement and a statement a connection has run twice prepared on the
    server: PostgreSQL parses and plans it once per connection, not on every call (half its CPU
    on a My Page request). DATABASE_PREPARE_THRESHOLD="" turns preparing off (behind a pooler
    in transaction mode that keeps no prepared statements: PgBouncer before 1.21)."""
    url["ATOMIC_REQUESTS"] = False
    if url["ENGINE"] == "django.db.backends.postgresql":
        threshold = env("DATABASE_PREPARE_THRESHOLD", default="2")
        url.setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=int(threshold) if threshold else None
        )
    return url


DATABASES = {
    "default": database_config(
        env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------- apps
DJANGO_APPS = [
    # django.contrib.admin, with the shop's site (two-factor login, access log) as admin.site
    "apps.audit.admin_config.ShopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "anymail",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "apps.core",
    "apps.customers",
    "apps.orders",
    "apps.consents",
    "apps.marketing",
    "apps.mypage",
    "apps.demo",
    "apps.privacy_requests",
    "apps.audit",
    "apps.incidents",
    "apps.integration",
    "apps.bench",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

AUTH_USER_MODEL = "customers.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "mypage:overview"
LOGOUT_REDIRECT_URL = "login"

# Axes first: it refuses locked-out credentials before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the member profile with the login (one query, not two).
    "apps.customers.backends.MemberBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: it logs an expired staff session out with a message.
    "apps.audit.middleware.StaffSessionTimeoutMiddleware",
    "apps.consents.middleware.ConsentMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: turns a lockout into a 429 page.
    "axes.middleware.AxesMiddleware",
]

# The machine-facing paths and their short middleware list (config/wsgi.py): calls there carry
# a key or a signature, never a session or a cookie.
# How long each process keeps an API key it has read (apps/integration/api/authentication.py):
# a revoked key or an inactive client is refused by every process within this many seconds.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)
API_PATH_PREFIXES = ["/api/", "/integrations/"]
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.shop",
                "apps.consents.context_processors.cookie_banner",
            ],
        },
    }
]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# ---------------------------------------------------------------- static & uploads
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Identity documents and other uploads are never served under a public URL.
MEDIA_URL = "/private-media/"  # no URL pattern serves it

# ---------------------------------------------------------------- sessions & security
# Database sessions that know their login, so a person's sessions end with one DELETE.
SESSION_ENGINE = "apps.customers.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Staff must pass a TOTP second factor to use the admin (always on in production).
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = "Shop privacy back office"

# Login lockout (django-axes): after AXES_FAILURE_LIMIT failures for one e-mail from one
# address, that pair is locked for the cool-off time. Per pair, not per address alone: shoppers
# on mobile networks share carrier-grade NAT addresses.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
# No table of successful logins, and axes' own log lines carry a keyed hash, not the e-mail/IP.
AXES_DISABLE_ACCESS_LOG = True
# No axes pages in the admin: they list and search typed e-mails and IP addresses.
AXES_ENABLE_ADMIN = False
AXES_CLIENT_STR_CALLABLE = "apps.core.security.axes_client_str"
AXES_CLIENT_IP_CALLABLE = "apps.core.security.client_ip"

# The reverse proxies in front of the app, one entry per hop, outermost first (an IP, a CIDR
# network or a prefix), e.g. "127.0.0.1" for nginx on the same machine. Empty: REMOTE_ADDR is
# the client and X-Forwarded-For is ignored. apps.core.security.client_ip decides the client
# address from it for rate limits, the login lockout, the access log and consent evidence.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Staff sessions (is_staff) end after this long without a request, and this long after login
# whatever they do (apps/audit/middleware.py); members keep the usual cookie age.
STAFF_SESSION_IDLE_TIMEOUT = datetime.timedelta(
    minutes=env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
)
STAFF_SESSION_MAX_AGE = datetime.timedelta(hours=env.int("STAFF_SESSION_MAX_HOURS", default=12))

# Content-Security-Policy (django-csp): scripts and styles from our own origin only; no inline
# script anywhere (templates use static/js/*.js). The nonce appears only in responses that use
# it: a page placing an external tag (consented, on an allowed host) lets exactly that <script>
# element load, not its whole host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Rate limits of every anonymous or member write endpoint: "count/period", period s, m, h or d
# (e.g. "5/h", "10/15m"); apps/core/ratelimit.py. Counted per member when logged in, else per
# client address (TRUSTED_PROXIES below); shared across processes through the cache. Only POSTs
# count. Each scope is set from RATE_LIMIT_<SCOPE> in the environment; a test checks that every
# scope here guards a URL, so add the line together with the @rate_limit("<scope>").
RATE_LIMITS = {
    "signup": env("RATE_LIMIT_SIGNUP", default="10/h"),
    # Per address, on top of django-axes' lockout per e-mail and address: guessing across
    # many accounts from one place. Generous, as shoppers on a mobile carrier share addresses.
    "login": env("RATE_LIMIT_LOGIN", default="60/10m"),
    "password_reset": env("RATE_LIMIT_PASSWORD_RESET", default="5/h"),
    "password_reset_confirm": env("RATE_LIMIT_PASSWORD_RESET_CONFIRM", default="10/h"),
    "contact": env("RATE_LIMIT_CONTACT", default="5/h"),
    "newsletter_subscribe": env("RATE_LIMIT_NEWSLETTER_SUBSCRIBE", default="5/h"),
    "newsletter_confirm": env("RATE_LIMIT_NEWSLETTER_CONFIRM", default="20/h"),
    # Generous: RFC 8058 one-click unsubscribes arrive from a mail provider's few servers, and
    # an unsubscribe refused is a legal problem (Specified E-mail Act Art. 3(3)).
    "unsubscribe": env("RATE_LIMIT_UNSUBSCRIBE", default="120/m"),
    # The cookie banner's choice writes a consent record, also for visitors (generous: every
    # visitor behind a shared address answers the banner once).
    "cookie_choice": env("RATE_LIMIT_COOKIE_CHOICE", default="300/h"),
    "privacy_request": env("RATE_LIMIT_PRIVACY_REQUEST", default="5/h"),
    # One-time code entry; the code itself also locks after PRIVACY_CODE_MAX_ATTEMPTS.
    "privacy_code": env("RATE_LIMIT_PRIVACY_CODE", default="10/h"),
    # My Page writes (profile, addresses, consents, subscriptions, withdrawing a request):
    # generous, per member; it only stops a script hammering the tables.
    "mypage": env("RATE_LIMIT_MYPAGE", default="60/10m"),
    "email_change": env("RATE_LIMIT_EMAIL_CHANGE", default="5/h"),
    "email_confirm": env("RATE_LIMIT_EMAIL_CONFIRM", default="20/h"),
    # The privacy-center link's landing page (a one-time token from the storefront's API call).
    "privacy_link": env("RATE_LIMIT_PRIVACY_LINK", default="60/h"),
}


def cache_config(url: dict) -> dict:
    """A Redis cache gets Django's backend with one client per pool instead of one per call
    (apps/core/cache.py); any other cache is left as CACHE_URL names it."""
    if url["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        url["BACKEND"] = "apps.core.cache.RedisCache"
    return url


# Template fragments that depend on nothing but the code and the language (the page frame's
# links, footer and scripts, My Page's menu): in each process's memory, gone with it at a deploy.
FRAME_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "frame",
    "TIMEOUT": None,
}
CACHES = {
    "default": cache_config(env.cache("CACHE_URL", default="locmemcache://")),
    "frame": FRAME_CACHE,
}
# The body of /privacy/, the same for everyone in a language (apps/consents/notice_cache.py):
# a change of policy or purpose shows at once; this bounds anything changed behind the ORM.
PRIVACY_NOTICE_CACHE_SECONDS = env.int("PRIVACY_NOTICE_CACHE_SECONDS", default=600)
# Admin change lists of tables at least this large show the planner's row estimate when
# unfiltered instead of counting every row per page view (apps/core/admin_pagination.py).
ADMIN_ESTIMATED_COUNT_ABOVE = env.int("ADMIN_ESTIMATED_COUNT_ABOVE", default=100_000)

# External tags (apps/consents/external_tags.py): the exact host names a tag's https script URL
# may point at, comma-separated. Empty (the default): no external script loads.
EXTERNAL_TAG_ALLOWED_HOSTS = env.list("EXTERNAL_TAG_ALLOWED_HOSTS", default=[])

# ---------------------------------------------------------------- mail
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 30

# ---------------------------------------------------------------- celery
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Every periodic task is declared in apps/core/schedules.py (not CELERY_BEAT_SCHEDULE): migrate
# writes them into this scheduler's tables.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Celery's own default; a benchmark's workers get a queue unique to the run through the
# environment (apps/bench/isolation.py), so no other worker of the broker takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# Durable background work (apps/core/durable.py): a job that fails waits
# DURABLE_BACKOFF_SECONDS * 2^(attempts-1), at most DURABLE_BACKOFF_MAX_SECONDS, and is given up
# (shown to staff) after DURABLE_MAX_ATTEMPTS: by default 12 tries over about 5.5 hours, so a
# mail server down for an afternoon delays mail instead of losing it. An enqueued job whose task
# has not started after DURABLE_ENQUEUE_GRACE_SECONDS is enqueued again by the sweep (every
# minute), which takes DURABLE_SWEEP_BATCH rows per transaction.
DURABLE_MAX_ATTEMPTS = env.int("DURABLE_MAX_ATTEMPTS", default=12)
DURABLE_BACKOFF_SECONDS = env.int("DURABLE_BACKOFF_SECONDS", default=30)
DURABLE_BACKOFF_MAX_SECONDS = env.int("DURABLE_BACKOFF_MAX_SECONDS", default=3600)
DURABLE_ENQUEUE_GRACE_SECONDS = env.int("DURABLE_ENQUEUE_GRACE_SECONDS", default=60)
DURABLE_SWEEP_BATCH = env.int("DURABLE_SWEEP_BATCH", default=500)
# Durable-work rows that are done are deleted this many days later (given-up ones stay).
JOB_DONE_KEEP_DAYS = env.int("JOB_DONE_KEEP_DAYS", default=30)

# ---------------------------------------------------------------- retention (apps/*/retention.py)
# Guests (customers without a login) with no order or inquiry for this many years are anonymised.
RETENTION_GUEST_INACTIVE_YEARS = env.int("RETENTION_GUEST_INACTIVE_YEARS", default=3)
# Inquiries of people without a login are deleted this many days after receipt.
RETENTION_INQUIRY_DAYS = env.int("RETENTION_INQUIRY_DAYS", default=365)
# A visitor's cookie choice lapses after 180 days (apps/consents/cookies.py); its IP address and
# user agent are cleared after this many days.
RETENTION_VISITOR_EVIDENCE_DAYS = env.int("RETENTION_VISITOR_EVIDENCE_DAYS", default=180)
# Contractors (consignees) are reviewed at least this often (APPI Art. 25 supervision); an older
# review stands out in the admin.
CONTRACTOR_REVIEW_MONTHS = env.int("CONTRACTOR_REVIEW_MONTHS", default=12)
# Inactive guests anonymised per transaction (set-based SQL over the batch).
RETENTION_GUEST_BATCH = env.int("RETENTION_GUEST_BATCH", default=500)
# Orders are tax records (Corporation Tax Act Art. 126, Enforcement Regulations Art. 59): kept
# TAX_HOLD_YEARS from the day after the filing deadline of their business year, the deadline
# being TAX_FILING_MONTHS after the year ends in FISCAL_YEAR_END_MONTH (1-12).
TAX_HOLD_YEARS = env.int("TAX_HOLD_YEARS", default=7)
FISCAL_YEAR_END_MONTH = env.int("FISCAL_YEAR_END_MONTH", default=3)
TAX_FILING_MONTHS = env.int("TAX_FILING_MONTHS", default=2)

# ---------------------------------------------------------------- the shop
# These appear in the legally required mail footer and on the published notice (APPI Art. 32).
SHOP_NAME = env("SHOP_NAME", default="")
SHOP_POSTAL_ADDRESS = env("SHOP_POSTAL_ADDRESS", default="")
SHOP_REPRESENTATIVE = env("SHOP_REPRESENTATIVE", default="")
SHOP_CONTACT_EMAIL = env("SHOP_CONTACT_EMAIL", default="")
SHOP_CONTACT_PHONE = env("SHOP_CONTACT_PHONE", default="")
# Published on /privacy/ as the contact for data protection (GDPR Art. 13(1)(b)); empty: the
# shop's contact e-mail. The EU representative (GDPR Art. 27), where the shop has one.
SHOP_DATA_PROTECTION_CONTACT = env("SHOP_DATA_PROTECTION_CONTACT", default="")
SHOP_EU_REPRESENTATIVE = env("SHOP_EU_REPRESENTATIVE", default="")
# Published on /privacy/ (APPI Art. 32): where the data is stored and how it is protected.
# The defaults are translated (one language per page); a shop's own list from the environment
# is shown as written.
SHOP_DATA_COUNTRIES = env.list("SHOP_DATA_COUNTRIES", default=[_("Japan")])
SHOP_SECURITY_MEASURES = env.list(
    "SHOP_SECURITY_MEASURES",
    default=[
        _("Written handling rules; regular staff training"),
        _("Least-privilege access per role; staff access is logged"),
        _("All traffic is encrypted with TLS"),
        _("An incident response procedure"),
    ],
)

# ---------------------------------------------------------------- mail magazines
# Absolute links in mail (unsubscribe, confirmation) start with this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# Key of the suppression list's address hashes (HMAC-SHA256). Changing it forgets the list.
SUPPRESSION_HMAC_KEY = env("SUPPRESSION_HMAC_KEY", default="")
# The key of the pseudonymised export's ids (APPI Art. 41, apps/orders/pseudonymised.py): kept
# apart from the export (whoever holds it can link ids back to people), never rotated casually
# (the ids of earlier exports would no longer match). Empty: the export refuses to run.
PSEUDONYMISATION_KEY = env("PSEUDONYMISATION_KEY", default="")
MARKETING_CHUNK_SIZE = env.int("MARKETING_CHUNK_SIZE", default=1000)
# The fan-out writes a campaign's Delivery rows this many recipients at a time, each slice in a
# transaction of its own whose chunks are enqueued as soon as it commits: the first mails go out
# while later slices are still being written.
MARKETING_FANOUT_SLICE = env.int("MARKETING_FANOUT_SLICE", default=5000)
# A row still `sending` after this long belongs to a lost worker. A row is claimed with its
# half-batch just before it is sent, so it is `sending` for as long as two half-batches take;
# EMAIL_TIMEOUT bounds one message and the first timeout defers the rest. (Marking a row that is
# still being sent `unknown` sends nobody twice: the worker then records nothing over it.)
MARKETING_STALE_SENDING_SECONDS = env.int("MARKETING_STALE_SENDING_SECONDS", default=90)
# At most this many rows of a worker are in `sending` at once (the half-batch being sent and
# the next, claimed ahead): a worker killed mid-chunk leaves at most this many `unknown` (they
# may have gone out, so they are never resent).
MARKETING_CLAIM_BATCH = env.int("MARKETING_CLAIM_BATCH", default=20)
# A mail server unreachable or answering 4xx: the rows retry after 30 s, 60 s, 120 s… (at most
# an hour apart) and fail after MARKETING_MAX_ATTEMPTS tries (about 5 hours with these).
MARKETING_RETRY_BASE_SECONDS = env.int("MARKETING_RETRY_BASE_SECONDS", default=30)
MARKETING_RETRY_MAX_SECONDS = env.int("MARKETING_RETRY_MAX_SECONDS", default=3600)
MARKETING_MAX_ATTEMPTS = env.int("MARKETING_MAX_ATTEMPTS", default=12)
# The sweep re-enqueues a campaign's due rows only when no batch of it was claimed for this
# long (otherwise chunk tasks are at work on it, and duplicates would only claim nothing).
MARKETING_SWEEP_IDLE_SECONDS = env.int("MARKETING_SWEEP_IDLE_SECONDS", default=30)

# ---------------------------------------------------------------- mail provider webhooks
# Bounces and complaints reported by the mail provider (django-anymail tracking webhooks under
# /integrations/esp/<esp>/tracking/). Each endpoint answers 404 until its secrets are set.
# ANYMAIL_WEBHOOK_SECRET: "user:password" (comma-separated to rotate), the basic auth put in
# the webhook URL given to the provider. Mailgun also needs its webhook signing key; SendGrid
# checks its signed event webhook when the verification (public) key is set.
# Empty values are left out: anymail would take an empty Mailgun key as a key.
ANYMAIL = {
    name: value
    for name, value in {
        "WEBHOOK_SECRET": env.list("ANYMAIL_WEBHOOK_SECRET", default=[]),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env("ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env(
            "ANYMAIL_SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY", default=""
        ),
        # Amazon SNS asks to confirm a subscription once; anymail confirms it (with boto3)
        # when the request carries the basic auth above.
        "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": env.bool(
            "ANYMAIL_AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS", default=True
        ),
    }.items()
    if value != "" and value != []
}
# Amazon SES reports through Amazon SNS: its messages' signatures are checked too (the signing
# certificate is downloaded from Amazon once, then cached). Optionally only these topics.
ESP_SES_VERIFY_SNS_SIGNATURE = env.bool("ESP_SES_VERIFY_SNS_SIGNATURE", default=True)
ESP_SES_TOPIC_ARNS = env.list("ESP_SES_TOPIC_ARNS", default=[])
ESP_SNS_CERTIFICATE_CACHE_SECONDS = env.int("ESP_SNS_CERTIFICATE_CACHE_SECONDS", default=86400)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # How long before a task a lost worker had taken is handed to another worker.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}

# ---------------------------------------------------------------- privacy requests
PRIVACY_REQUEST_DUE_DAYS = env.int("PRIVACY_REQUEST_DUE_DAYS", default=14)
# GDPR Art. 12(3): one month from receipt, extendable once by at most two further months.
PRIVACY_REQUEST_GDPR_DUE_MONTHS = env.int("PRIVACY_REQUEST_GDPR_DUE_MONTHS", default=1)
PRIVACY_REQUEST_GDPR_MAX_EXTENSION_MONTHS = 2
PRIVACY_REQUEST_FEE_YEN = env.int("PRIVACY_REQUEST_FEE_YEN", default=1000)
# How requesters pay the fee (bank account, postal stamps...), shown on My Page and in the
# receipt mail; empty: "we will tell you how to pay".
PRIVACY_REQUEST_FEE_PAYMENT = env("PRIVACY_REQUEST_FEE_PAYMENT", default="")
PRIVACY_MYPAGE_COUNTS_AS_VERIFIED = env.bool("PRIVACY_MYPAGE_COUNTS_AS_VERIFIED", default=True)
PRIVACY_REQUIRE_SEAL_CERTIFICATE = env.bool("PRIVACY_REQUIRE_SEAL_CERTIFICATE", default=True)
PRIVACY_CODE_TTL_MINUTES = env.int("PRIVACY_CODE_TTL_MINUTES", default=30)
PRIVACY_CODE_MAX_ATTEMPTS = env.int("PRIVACY_CODE_MAX_ATTEMPTS", default=5)
PRIVACY_UPLOAD_MAX_BYTES = env.int("PRIVACY_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# A file above PRIVACY_UPLOAD_MAX_BYTES is refused before any byte of it reaches disk (see
# apps/core/uploads.py); Django's handlers after it keep what is allowed.
FILE_UPLOAD_HANDLERS = [
    "apps.core.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# The fields of a request besides its files (a campaign's HTML body is the largest), in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Identity documents and disclosure packages: outside MEDIA_ROOT and outside any URL.
PRIVACY_PRIVATE_ROOT = env.path("PRIVACY_PRIVATE_ROOT", default=BASE_DIR / "private")
PRIVACY_PURGE_DOCUMENTS_ON_VERIFICATION = env.bool(
    "PRIVACY_PURGE_DOCUMENTS_ON_VERIFICATION", default=True
)
PRIVACY_DOCUMENT_RETENTION_DAYS = env.int("PRIVACY_DOCUMENT_RETENTION_DAYS", default=30)
# Documents of a request left unfinished (nothing done on it for this many days) are purged.
PRIVACY_UNFINISHED_DOCUMENT_DAYS = env.int("PRIVACY_UNFINISHED_DOCUMENT_DAYS", default=90)
PRIVACY_DISCLOSURE_LINK_DAYS = env.int("PRIVACY_DISCLOSURE_LINK_DAYS", default=14)
PRIVACY_REQUEST_RECORD_YEARS = env.int("PRIVACY_REQUEST_RECORD_YEARS", default=3)

# ---------------------------------------------------------------- logging
# Personal data never goes to the log: log lines carry ids, states and counts only; mail
# refusals are re-raised without the address (apps/core/mail.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # aiosmtpd (the test and benchmark SMTP sink) logs every recipient address at INFO.
    "loggers": {"mail.log": {"level": "WARNING"}},
}

# ---------------------------------------------------------------- the storefront API (apps/integration)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.integration.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.integration.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.integration.api.throttling.ClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "apps.integration.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop privacy back office API",
    "DESCRIPTION": "Customers, orders, consents and privacy requests from the shop's storefront. "
    "See docs/integration.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several resources have a "status": name each model's own set.
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "apps.customers.models.Customer.Status",
        "OrderStatusEnum": "apps.orders.models.Order.Status",
        "PaymentStatusEnum": "apps.orders.models.Payment.Status",
        "ItemStatusEnum": ["created", "updated", "unchanged", "conflict", "error"],
    },
}
# After a key is rotated, the old key keeps working this long.
API_KEY_ROTATION_OVERLAP_HOURS = env.int("API_KEY_ROTATION_OVERLAP_HOURS", default=24)
# Shopify's privacy webhooks (/integrations/shopify/webhooks/): the largest body accepted, how
# long a rotated client secret is still accepted, and how many people one shop/redact job files
# erasure requests for before it hands the rest to the next job.
SHOPIFY_WEBHOOK_MAX_BYTES = env.int("SHOPIFY_WEBHOOK_MAX_BYTES", default=256 * 1024)
SHOPIFY_SECRET_ROTATION_OVERLAP_HOURS = env.int("SHOPIFY_SECRET_ROTATION_OVERLAP_HOURS", default=24)
SHOPIFY_SHOP_REDACT_BATCH = env.int("SHOPIFY_SHOP_REDACT_BATCH", default=200)
# The privacy-center link (POST /api/v1/customers/<id>/privacy-link): how long the one-time URL
# works, and how long the session it opens (My Page's privacy pages only) lasts.
PRIVACY_LINK_TTL_MINUTES = env.int("PRIVACY_LINK_TTL_MINUTES", default=10)
PRIVACY_CENTER_SESSION_MINUTES = env.int("PRIVACY_CENTER_SESSION_MINUTES", default=30)
# Customer imports (apps/integration/imports): rows per call of the ingest services, the largest
# file the admin's import page takes, and how long an uploaded file waits for its confirmation.
IMPORT_CHUNK_SIZE = env.int("IMPORT_CHUNK_SIZE", default=1000)
IMPORT_UPLOAD_MAX_BYTES = env.int("IMPORT_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_UPLOAD_KEEP_MINUTES = env.int("IMPORT_UPLOAD_KEEP_MINUTES", default=60)

# ---------------------------------------------------------------- outgoing webhooks (apps/integration/outbound)
# One attempt waits at most this long for the receiver's answer.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# The waits after the 1st, 2nd... failed attempt; when they run out the delivery is given up
# (staff can retry). 5 s, 5 min, 30 min, 1 h, 2 h: six attempts over about 3.6 hours.
WEBHOOK_RETRY_SCHEDULE = [
    float(seconds)
    for seconds in env.list("WEBHOOK_RETRY_SCHEDULE", default=["5", "300", "1800", "3600", "7200"])
]
# An endpoint whose every attempt failed for this long is disabled and the privacy officer mailed.
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=24)
# A given-up delivery keeps its body this many days after its last attempt (staff can still
# resend it), then the body goes and the log keeps ids and states only.
WEBHOOK_GIVEN_UP_KEEP_DAYS = env.int("WEBHOOK_GIVEN_UP_KEEP_DAYS", default=30)
# Shopify's privacy webhooks keep the Shopify ids they named this many days after they were
# handled (to answer a question about them), then those ids go; the row keeps topic and outcome.
SHOPIFY_WEBHOOK_IDS_KEEP_DAYS = env.int("SHOPIFY_WEBHOOK_IDS_KEEP_DAYS", default=30)
# After a secret is rotated, the old one keeps signing beside the new one this long.
WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS", default=24)
# A propagation task still open this many days after it was created (or past its request's due
# date) stands out as overdue in the admin.
PROPAGATION_OVERDUE_DAYS = env.int("PROPAGATION_OVERDUE_DAYS", default=7)
# Endpoints must be https; http://127.0.0.1 (or localhost) is allowed with DEBUG or this.
WEBHOOK_ALLOW_HTTP_LOOPBACK = env.bool("WEBHOOK_ALLOW_HTTP_LOOPBACK", default=False)
# Requests one sending task keeps in flight (a slow receiver holds one, not the others), and how
# long a task keeps taking an endpoint's due rows before it hands over to a fresh task.
WEBHOOK_CONCURRENCY = env.int("WEBHOOK_CONCURRENCY", default=16)
WEBHOOK_DRAIN_SECONDS = env.float("WEBHOOK_DRAIN_SECONDS", default=20)
# Who is mailed when an endpoint is disabled; empty: the staff in the "Privacy officer" group.
SHOP_PRIVACY_OFFICER_EMAIL = env("SHOP_PRIVACY_OFFICER_EMAIL", default="")
