"""The cookie-consent cookie: which categories a browser agreed to, and its anonymous id; and
`choices_for`, the one answer tags and the banner use (the ledger for a member, this cookie for a
visitor)."""

import uuid

from django.core import signing

CHOICE_COOKIE = "cookie_consent"
VISITOR_COOKIE = "visitor_id"
MAX_AGE = 60 * 60 * 24 * 180  # ask again after six months
SALT = "consents.cookie"
CATEGORIES = ("analytics", "advertising")


def read_choices(request) -> dict[str, bool] | None:
    raw = request.get_signed_cookie(CHOICE_COOKIE, default=None, salt=SALT, max_age=MAX_AGE)
    if not raw:
        return None
    try:
        parts = dict(item.split("=", 1) for item in raw.split(","))
    except ValueError:
        return None
    return {c: parts.get(c) == "1" for c in CATEGORIES}


def read_visitor_id(request) -> uuid.UUID | None:
    try:
        raw = request.get_signed_cookie(VISITOR_COOKIE, default=None, salt=SALT)
        return uuid.UUID(raw) if raw else None
    except (ValueError, signing.BadSignature):
        return None


def write(response, *, choices: dict[str, bool], visitor_id: uuid.UUID, secure: bool) -> None:
    value = ",".join(f"{c}={'1' if choices.get(c) else '0'}" for c in CATEGORIES)
    common = {"salt": SALT, "httponly": True, "samesite": "Lax", "secure": secure}
    response.set_signed_cookie(CHOICE_COOKIE, value, max_age=MAX_AGE, **common)
    response.set_signed_cookie(VISITOR_COOKIE, str(visitor_id), max_age=MAX_AGE * 2, **common)


def choices_for(request) -> dict[str, bool] | None:
    """Which tag categories this request may load; None when nobody has answered yet (the
    banner shows). For a logged-in member the ledger's current state decides, so a withdrawal
    on My Page stops the tags on every browser at once; the cookie speaks for visitors (and
    staff without a member profile). Looked up once per request, in one indexed query, and
    only when a page asks."""
    if not hasattr(request, "cookie_choices"):
        from apps.consents.selectors import cookie_choices_for_user

        user = getattr(request, "user", None)
        member_choices = (
            cookie_choices_for_user(user_id=user.pk)
            if user is not None and user.is_authenticated
            else None
        )
        if member_choices is None:
            request.cookie_choices = read_choices(request)
        else:
            request.cookie_choices = member_choices.get("choices")
    return request.cookie_choices


def consented(request, category: str) -> bool:
    if category == "necessary":
        return True
    choices = choices_for(request)
    return bool(choices and choices.get(category))
