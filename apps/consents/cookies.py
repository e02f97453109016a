"""The cookie-consent cookie: which categories a browser agreed to, and its anonymous id."""

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


def consented(request, category: str) -> bool:
    if category == "necessary":
        return True
    choices = getattr(request, "cookie_choices", None)
    if choices is None:
        choices = read_choices(request)
    return bool(choices and choices.get(category))
