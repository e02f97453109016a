"""Private file storage for identity documents and disclosure packages.

Files live under ``PRIVACY_PRIVATE_ROOT``, outside MEDIA_ROOT and outside any URL: they are
only ever streamed by views that check permissions (or the member's own signed link).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    # Read the settings on each use (not once at import) so tests and deployments can move it.
    @property
    def base_location(self):
        return str(settings.PRIVACY_PRIVATE_ROOT)

    @property
    def location(self):
        return str(settings.PRIVACY_PRIVATE_ROOT)

    @property
    def file_permissions_mode(self):
        return 0o600

    @property
    def directory_permissions_mode(self):
        return 0o700

    def url(self, name):
        raise ValueError("Private files have no URL; stream them through a checked view.")


_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage callable the FileFields name (so migrations need no storage instance)."""
    return _storage
