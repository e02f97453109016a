"""The request admin: the privacy officer's queue (requests.py) with its filters, inlines, read-only
columns (display.py), steps (actions.py) and own pages (views.py); and the action that turns an
inquiry into a request (inquiry.py), which this app adds to customers' inquiry admin."""

from django.contrib import admin

from apps.core.admin_extensions import admin_extension_add
from apps.privacy_requests.admin.inquiry import create_privacy_request
from apps.privacy_requests.admin.requests import PrivacyRequestAdmin
from apps.privacy_requests.models import PrivacyRequest

admin.site.register(PrivacyRequest, PrivacyRequestAdmin)

# customers knows nothing of privacy_requests: its inquiry admin reads the actions added here.
# The inquiry model is reached through the request's foreign key, not imported.
admin_extension_add(
    model=PrivacyRequest._meta.get_field("inquiry").related_model,
    actions=[create_privacy_request],
)
