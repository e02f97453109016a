from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MypageConfig(AppConfig):
    """My Page's overview: composes what the lower apps offer; owns no data."""

    name = "apps.mypage"
    verbose_name = _("My Page")
