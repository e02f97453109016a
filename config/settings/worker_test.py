"""The Celery worker that integration tests start: test settings, but real SMTP and no eager."""

from config.settings.test import *  # noqa: F403
from config.settings.test import EMAIL_CONFIG

CELERY_TASK_ALWAYS_EAGER = False
vars().update(EMAIL_CONFIG)
