from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentsConfig(AppConfig):
    name = "apps.consents"
    verbose_name = _("Consents and provision records")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from apps.consents.models import Contractor, PolicyVersion, ProvisionRecord, Purpose
        from apps.consents.notice_cache import notice_changed

        # /privacy/ shows contractors abroad and the countries of provision records too.
        for model in (PolicyVersion, Purpose, Contractor, ProvisionRecord):
            post_save.connect(notice_changed, sender=model, dispatch_uid=f"notice-{model.__name__}")
            post_delete.connect(
                notice_changed, sender=model, dispatch_uid=f"notice-del-{model.__name__}"
            )
