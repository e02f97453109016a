from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    """Replaces ``django.contrib.admin`` in INSTALLED_APPS so that ``admin.site`` (and every
    ``@admin.register``) is the shop's site: two-factor login and the access log for all."""

    default_site = "apps.audit.admin_site.ShopAdminSite"
