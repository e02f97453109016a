from django.contrib import admin
from django.urls import include, path

from apps.core.views import healthz
from apps.customers.views import contact
from apps.integration.shopify_views import shopify_webhook
from apps.mypage.views import email_confirm, signup

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("contact/", contact, name="contact"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # The mail providers' bounce and complaint reports (apps/marketing/esp.py).
    path("integrations/esp/", include("apps.marketing.esp_urls")),
    # The storefront's API (apps/integration): keys per client, problem details, OpenAPI.
    path("api/v1/", include("apps.integration.api.urls")),
    # Shopify's mandatory privacy webhooks (apps/integration/shopify_views.py).
    path("integrations/shopify/webhooks/", shopify_webhook, name="shopify_webhook"),
    path("accounts/signup/", signup, name="signup"),
    # The link mailed to an address to confirm it: the token is the credential, no login needed.
    path("accounts/email/confirm/<text:token>/", email_confirm, name="email_confirm"),
    path("accounts/", include("apps.customers.account_urls")),
    path("", include("apps.integration.privacy_link")),  # /privacy-center/<token>/
    path("", include("apps.consents.urls")),
    path("", include("apps.marketing.urls")),
    path("mypage/", include("apps.mypage.urls")),
    path("mypage/", include("apps.customers.urls")),
    path("mypage/orders/", include("apps.orders.urls")),
    path("mypage/requests/", include("apps.privacy_requests.urls")),
    # A non-member's disclosure download: the link mailed to them, opened with a one-time code.
    path("disclosure/", include("apps.privacy_requests.public_urls")),
    path("", include("apps.core.urls")),
]

# Staff refused inside the admin get a page in its look (apps/audit/views.py); others Django's.
handler403 = "apps.audit.views.permission_denied"
