"""Uploads above the size limit are refused before anything is written to disk.

Django's own handlers keep a file in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE and then write it
to a temporary file as it arrives, whatever its size; the form sees it only afterwards. This
handler, first in FILE_UPLOAD_HANDLERS, decides earlier:

- a request whose declared body is larger than the limit plus room for the form's other fields
  carries a file over the limit: the handlers after this one never see it (no temporary file is
  opened), its bytes are counted and dropped;
- otherwise the bytes are counted as they arrive and none past the limit is handed on (a client
  may lie about the length); what the next handler had kept is closed, which deletes it.

Either way the form receives a ``RefusedUpload`` of the size received and no content, so its
usual size check answers with the usual clear message ("too large: at most 10 MB").
The limit is PRIVACY_UPLOAD_MAX_BYTES: identity documents are the product's only uploads.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

# Room for the form's other fields and the multipart framing around the file.
FORM_ALLOWANCE = 64 * 1024


class RefusedUpload(UploadedFile):
    """Stands in for a file refused for its size: the size received, no content."""

    def __init__(self, *, name: str, content_type: str, size: int) -> None:
        super().__init__(
            file=io.BytesIO(), name=name, content_type=content_type, size=size, charset=None
        )


class SizeLimitUploadHandler(FileUploadHandler):
    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.limit = settings.PRIVACY_UPLOAD_MAX_BYTES
        self.declared_too_large = False
        self.refused = False
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        self.declared_too_large = content_length > self.limit + FORM_ALLOWANCE

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.refused = self.declared_too_large
        self.received = 0
        if self.refused:
            raise StopFutureHandlers  # no later handler opens a file for it

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused = True
        return None if self.refused else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.refused:
            return None  # within the limit: the next handler's file stands
        if not self.declared_too_large and self.request is not None:
            # The later handlers had this file's first bytes (within the limit).
            for handler in self.request.upload_handlers:
                if handler is not self and getattr(handler, "file", None) is not None:
                    handler.file.close()  # a temporary file is deleted when closed
        return RefusedUpload(
            name=self.file_name, content_type=self.content_type or "", size=self.received
        )
