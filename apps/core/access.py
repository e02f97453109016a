"""Recording staff access to personal data from below the audit app.

The access log belongs to the audit app, which sits above the apps whose data it records. An
export that does not run through the admin (a management command) records its access here;
the audit app registers the recorder when it loads (``AuditConfig.ready``). With no recorder
registered an access cannot be recorded, so callers that promise a logged access refuse to run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Recorder = Callable[..., int]

_recorder: Recorder | None = None


def access_recorder_register(recorder: Recorder) -> None:
    global _recorder  # set once, when the audit app loads
    _recorder = recorder


def access_recording_available() -> bool:
    return _recorder is not None


def access_record(
    *,
    staff_user_id: int,
    action: str,
    model_label: str,
    object_ids: Iterable[object],
    ip_address: str | None = None,
) -> int:
    """One access-log row per object id (ids only); returns how many were written."""
    if _recorder is None:
        raise RuntimeError("no access-log recorder is registered (is apps.audit installed?)")
    return _recorder(
        staff_user_id=staff_user_id,
        action=action,
        model_label=model_label,
        object_ids=object_ids,
        ip_address=ip_address,
    )
