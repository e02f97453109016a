"""The WSGI application: the site with its full middleware, and the machine-facing paths
(``API_PATH_PREFIXES``: the storefront API, the providers' webhooks) with the short list
``API_MIDDLEWARE``.

The machines' calls carry a key or a signature, never a session or a cookie: sessions, CSRF,
messages, OTP, the staff-session timeout, the consent banner's cookie, axes and the HTML page's
Content-Security-Policy would only cost them time (about a millisecond a call, measured by
``bench_ingest``). SecurityMiddleware (HSTS, nosniff) and LocaleMiddleware (the API's messages
follow Accept-Language) stay.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

site = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after setup, as get_wsgi_application does it)
from django.core.exceptions import MiddlewareNotUsed  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402


class ApiHandler(WSGIHandler):
    """Django's WSGI handler with ``settings.API_MIDDLEWARE`` in place of ``MIDDLEWARE``
    (synchronous middleware only, as the site's is)."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for middleware_path in reversed(settings.API_MIDDLEWARE):
            try:
                instance = import_string(middleware_path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


api = ApiHandler()
_API_PREFIXES = tuple(settings.API_PATH_PREFIXES)


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(_API_PREFIXES):
        return api(environ, start_response)
    return site(environ, start_response)
