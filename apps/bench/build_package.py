"""`python -m apps.bench.build_package REQUEST_ID`: carry out one approved disclosure request
(build its package) in a process of its own, for `bench_scale`, and print one JSON line: the
seconds it took and the process's resident memory before and at its peak during the build.

The kernel's high-water mark is reset (/proc/self/clear_refs) once Django is loaded, so the
peak is the build's, not the start-up's."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main(request_id: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from apps.privacy_requests.services import privacy_request_execute

    before = _status_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:  # not Linux, or not allowed: the peak then includes the start-up
        reset = False
    started = time.monotonic()
    done = privacy_request_execute(privacy_request_id=request_id)
    seconds = time.monotonic() - started
    print(json.dumps({
        "done": done, "seconds": round(seconds, 3), "rss_before_mb": round(before / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1), "peak_reset": reset,
    }))  # fmt: skip
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
