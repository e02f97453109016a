"""config.settings.production for the benchmark's gunicorn, with the collected static files
(whitenoise's manifest) in a directory of the run's own instead of the checkout's."""

import os

from config.settings.production import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
