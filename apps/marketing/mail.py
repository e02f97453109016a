"""Building campaign mail fast.

A campaign's message is prepared once (headers encoded, bodies templated, footer added); each
recipient then costs a few string replacements and a base64 pass, not a full MIME build, which
is what lets a worker keep up with the mail transport itself.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import hashlib
import hmac
import html
import re
import secrets
from dataclasses import dataclass
from email.header import Header

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

UNSUBSCRIBE_SALT = b"apps.marketing.unsubscribe"
# SMTP allows 998 bytes a line; a part whose template has longer lines goes base64 instead.
_MAX_8BIT_LINE = 900

FOOTER_TEXT = """
--
このメールは{shop}のメールマガジン「{magazine}」の配信を希望された方にお送りしています。
配信を希望されない場合は、次のリンクから配信を停止できます（ログイン不要、すぐに反映されます）。
You receive this because you subscribed to "{magazine}". You may opt out at any time here:
{{unsubscribe_url}}

{shop}
{address}
ご意見・苦情のお問い合わせ / Complaints and questions: {contact}
"""

FOOTER_HTML = """<hr>
<p style="font-size:12px;color:#555">このメールは{shop}のメールマガジン「{magazine}」の配信を希望された方にお送りしています。
配信を希望されない場合は、<a href="{{unsubscribe_url}}">こちらから配信を停止</a>できます（ログイン不要、すぐに反映されます）。<br>
You receive this because you subscribed to “{magazine}”. You may <a href="{{unsubscribe_url}}">opt out at any time</a>.<br>
{shop}<br>{address}<br>ご意見・苦情のお問い合わせ / Complaints and questions: {contact}</p>
"""


@functools.lru_cache(maxsize=4)
def _token_key(secret: str) -> bytes:
    return hashlib.sha256(UNSUBSCRIBE_SALT + secret.encode("utf-8")).digest()


def _mac(subscription_id: str) -> str:
    # hmac.digest: OpenSSL's one-shot HMAC, without building an HMAC object for each mail.
    digest = hmac.digest(_token_key(settings.SECRET_KEY), subscription_id.encode("ascii"), "sha256")
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def unsubscribe_token(subscription_id: int) -> str:
    """`<subscription id>.<144-bit HMAC>`: names one subscription, cannot be made up, never
    expires (an unsubscribe link must keep working), and carries no personal data."""
    return f"{subscription_id}.{_mac(str(subscription_id))}"


def unsubscribe_token_check(token: str) -> int | None:
    subscription_id, _, mac = (token or "").partition(".")
    # isascii: "١" and "²" are digits to str.isdigit(), and no id of ours.
    if not (subscription_id.isascii() and subscription_id.isdigit()) or len(subscription_id) > 18:
        return None
    if not hmac.compare_digest(mac.encode("ascii", "replace"), _mac(subscription_id).encode()):
        return None
    return int(subscription_id)


def unsubscribe_url_prefix() -> str:
    path = reverse("marketing:unsubscribe", args=["0.TOKEN"])
    return settings.SITE_URL.rstrip("/") + path.replace("0.TOKEN/", "")


def unsubscribe_url(subscription_id: int) -> str:
    return f"{unsubscribe_url_prefix()}{unsubscribe_token(subscription_id)}/"


def missing_sender_settings(campaign=None) -> list[str]:
    """What the Specified Electronic Mail Act (Art. 4) and RFC 8058 need before any mail goes."""
    missing = [
        name
        for name in ("SHOP_NAME", "SHOP_POSTAL_ADDRESS", "SHOP_CONTACT_EMAIL", "SITE_URL")
        if not str(getattr(settings, name, "") or "").strip()
    ]
    if campaign is not None:
        if not campaign.magazine.from_name.strip():
            missing.append(gettext("sender name (magazine)"))
        if not campaign.magazine.from_email.strip():
            missing.append(gettext("sender address (magazine)"))
    return missing


def _b64(text: str) -> bytes:
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _fits_8bit(template: str) -> bool:
    # Room for the longest name and URL that can be put into a line.
    return all(len(line.encode("utf-8")) + 400 <= _MAX_8BIT_LINE for line in template.split("\n"))


def transport_address(address: str) -> str:
    """The address as it goes into SMTP commands and the To: header: the domain in IDNA form
    (例え.jp → xn--r8jz45g.jp), the local part as it is (non-ASCII only with SMTPUTF8). Raises
    ValueError for an address that cannot be sent to; the message never holds the address."""
    local, at, domain = (address or "").rpartition("@")
    if not at or not local or not domain or any(c in address for c in '\r\n<> \t"'):
        raise ValueError("not a mailbox address")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("domain not valid in IDNA form") from None
    return f"{local}@{domain}"


@dataclass
class Recipient:
    address: str
    name: str
    subscription_id: int
    delivery_id: int


class PreparedCampaign:
    """Everything about a campaign's message that is the same for every recipient."""

    def __init__(self, campaign):
        magazine = campaign.magazine
        footer_values = {
            "shop": settings.SHOP_NAME,
            "magazine": magazine.name,
            "address": settings.SHOP_POSTAL_ADDRESS,
            "contact": settings.SHOP_CONTACT_EMAIL,
        }
        self.text_template = (
            campaign.body_text.rstrip() + "\n" + FOOTER_TEXT.format(**footer_values)
        )
        body_html = campaign.body_html.strip() or (
            "<p>" + html.escape(campaign.body_text).replace("\n", "<br>\n") + "</p>"
        )
        escaped = {k: html.escape(v) for k, v in footer_values.items()}
        self.html_template = (
            '<!doctype html><html><body>\n' + body_html + "\n" + FOOTER_HTML.format(**escaped)
            + "</body></html>\n"
        )  # fmt: skip
        self.from_address = magazine.from_email
        from_header = email.utils.formataddr(
            (str(Header(magazine.from_name, "utf-8")), magazine.from_email)
        )
        self.domain = magazine.from_email.rsplit("@", 1)[-1]
        self.campaign_id = campaign.pk
        # Folded with CRLF: Header's default "\n" between encoded words is a bare LF, which
        # strict servers refuse (RFC 5321 §2.3.8), and Japanese subjects of ~29 characters fold.
        subject = Header(campaign.subject, "utf-8").encode(linesep="\r\n")
        self.header_prefix = (
            f"From: {from_header}\r\n"
            f"Subject: {subject}\r\n"
            "MIME-Version: 1.0\r\n"
            f"X-Campaign: {campaign.pk}\r\n"
        ).encode("ascii")
        self.boundary = "=_" + secrets.token_hex(12)
        self.url_prefix = unsubscribe_url_prefix()
        self.text_8bit = _fits_8bit(self.text_template)
        self.html_8bit = _fits_8bit(self.html_template)
        if self.text_8bit:
            self.text_template = _crlf(self.text_template)
        if self.html_8bit:
            self.html_template = _crlf(self.html_template)
        self._layouts: dict[bool, _Layout] = {}

    def _layout(self, eight_bit: bool) -> _Layout:
        """What render() joins for one recipient, built once per campaign and transfer mode:
        the bytes that are the same for everyone, with the slots the recipient's values fill."""
        layout = self._layouts.get(eight_bit)
        if layout is None:
            text_8bit, html_8bit = eight_bit and self.text_8bit, eight_bit and self.html_8bit
            b = self.boundary
            layout = self._layouts[eight_bit] = _Layout(
                text=_Template(self.text_template) if text_8bit else None,
                html=_Template(self.html_template) if html_8bit else None,
                after_url=(
                    ">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                    f'Content-Type: multipart/alternative; boundary="{b}"\r\n\r\n'
                    f"--{b}\r\n"
                    'Content-Type: text/plain; charset="utf-8"\r\n'
                    f"Content-Transfer-Encoding: {'8bit' if text_8bit else 'base64'}\r\n\r\n"
                ).encode("ascii"),
                middle=(
                    f"--{b}\r\n"
                    'Content-Type: text/html; charset="utf-8"\r\n'
                    f"Content-Transfer-Encoding: {'8bit' if html_8bit else 'base64'}\r\n\r\n"
                ).encode("ascii"),
                tail=f"--{b}--\r\n".encode("ascii"),
            )
        return layout

    def render(
        self, recipient: Recipient, *, date: str | None = None, eight_bit: bool = False
    ) -> tuple[bytes, str]:
        """The message for one recipient, as bytes ready for SMTP, and its Message-ID. With
        eight_bit (the server announced 8BITMIME) the UTF-8 bodies go as they are; otherwise
        base64."""
        layout = self._layout(eight_bit)
        url = f"{self.url_prefix}{unsubscribe_token(recipient.subscription_id)}/"
        name = recipient.name
        if layout.text is not None:
            text_bytes = layout.text.fill(url, name)
        else:
            text = self.text_template.replace("{unsubscribe_url}", url).replace("{name}", name)
            text_bytes = _b64(text)
        escaped_url, escaped_name = html.escape(url), html.escape(name)
        if layout.html is not None:
            html_bytes = layout.html.fill(escaped_url, escaped_name)
        else:
            html_body = self.html_template.replace("{unsubscribe_url}", escaped_url).replace(
                "{name}", escaped_name
            )
            html_bytes = _b64(html_body)
        message_id = f"<c{self.campaign_id}.d{recipient.delivery_id}@{self.domain}>"
        date = date or email.utils.format_datetime(timezone.now())
        # ASCII but for an address that goes out with SMTPUTF8.
        head = (
            f"To: {recipient.address}\r\nDate: {date}\r\nMessage-ID: {message_id}\r\n"
            f"List-Unsubscribe: <{url}"
        ).encode()
        raw = b"".join(
            (self.header_prefix, head, layout.after_url, text_bytes, layout.middle, html_bytes,
             layout.tail)
        )  # fmt: skip
        return raw, message_id


@dataclass
class _Layout:
    text: _Template | None  # None: the part goes base64, encoded for each recipient
    html: _Template | None
    after_url: bytes
    middle: bytes
    tail: bytes


class _Template:
    """An 8-bit body as UTF-8 bytes cut at its placeholders: filling it in is one join, with
    the same result as replacing {unsubscribe_url} and then {name} in the text (a URL holds no
    braces, and a name put in is not searched again), ended by CRLF."""

    def __init__(self, template: str):
        pieces = re.split(r"(\{unsubscribe_url\}|\{name\})", template)
        self.parts: list[bytes] = [
            b"" if piece in _SLOTS else piece.encode("utf-8") for piece in pieces
        ]
        self.url_slots = [i for i, piece in enumerate(pieces) if piece == "{unsubscribe_url}"]
        self.name_slots = [i for i, piece in enumerate(pieces) if piece == "{name}"]

    def fill(self, url: str, name: str) -> bytes:
        parts = self.parts.copy()
        url_bytes, name_bytes = url.encode("utf-8"), name.encode("utf-8")
        for i in self.url_slots:
            parts[i] = url_bytes
        for i in self.name_slots:
            parts[i] = name_bytes
        body = b"".join(parts)
        return body if body.endswith(b"\r\n") else body + b"\r\n"


_SLOTS = ("{unsubscribe_url}", "{name}")
