from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "apps.marketing"
    verbose_name = _("Mail magazines")

    def ready(self):
        # Adds the subscriptions section to /mypage/privacy/ (consents knows nothing of us).
        # Receives the mail providers' bounce and complaint reports (anymail's tracking signal).
        from apps.marketing import (
            esp,  # noqa: F401
            views,  # noqa: F401
        )
