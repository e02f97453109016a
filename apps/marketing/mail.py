"""Building campaign mail fast.

A campaign's message is prepared once (headers encoded, bodies templated, footer added); each
recipient then costs a few string replacements and a base64 pass, not a full MIME build, which
is what lets a worker keep up with the mail transport itself.
"""

from __future__ import annotations

import base64
import email.utils
import html
import secrets
from dataclasses import dataclass
from email.header import Header

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

UNSUBSCRIBE_SALT = "marketing.unsubscribe"
_signer = signing.Signer(salt=UNSUBSCRIBE_SALT, sep=".")

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


def unsubscribe_token(subscription_id: int) -> str:
    return _signer.sign(str(subscription_id))


def unsubscribe_token_check(token: str) -> int | None:
    try:
        return int(_signer.unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def unsubscribe_url(subscription_id: int) -> str:
    path = reverse("marketing:unsubscribe", args=[unsubscribe_token(subscription_id)])
    return settings.SITE_URL.rstrip("/") + path


def missing_sender_settings(campaign=None) -> list[str]:
    """What the Specified Electronic Mail Act (Art. 4) and RFC 8058 need before any mail goes."""
    missing = [
        name
        for name in ("SHOP_NAME", "SHOP_POSTAL_ADDRESS", "SHOP_CONTACT_EMAIL", "SITE_URL")
        if not str(getattr(settings, name, "") or "").strip()
    ]
    if campaign is not None:
        if not campaign.magazine.from_name.strip():
            missing.append("sender name (magazine)")
        if not campaign.magazine.from_email.strip():
            missing.append("sender address (magazine)")
    return missing


def _b64(text: str) -> bytes:
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")


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
        self.header_prefix = (
            f"From: {from_header}\r\n"
            f"Subject: {Header(campaign.subject, 'utf-8').encode()}\r\n"
            "MIME-Version: 1.0\r\n"
            f"X-Campaign: {campaign.pk}\r\n"
        ).encode("ascii")
        self.boundary = "=_" + secrets.token_hex(12)

    def render(self, recipient: Recipient, *, date: str | None = None) -> tuple[bytes, str]:
        """The message for one recipient, as bytes ready for SMTP, and its Message-ID."""
        url = unsubscribe_url(recipient.subscription_id)
        text = self.text_template.replace("{unsubscribe_url}", url).replace(
            "{name}", recipient.name
        )
        html_body = self.html_template.replace("{unsubscribe_url}", html.escape(url)).replace(
            "{name}", html.escape(recipient.name)
        )
        message_id = f"<c{self.campaign_id}.d{recipient.delivery_id}@{self.domain}>"
        date = date or email.utils.format_datetime(timezone.now())
        b = self.boundary
        head = (
            f"To: {recipient.address}\r\n"
            f"Date: {date}\r\n"
            f"Message-ID: {message_id}\r\n"
            f"List-Unsubscribe: <{url}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            f'Content-Type: multipart/alternative; boundary="{b}"\r\n\r\n'
            f"--{b}\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode("ascii")
        middle = (
            f"--{b}\r\n"
            'Content-Type: text/html; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode("ascii")
        tail = f"--{b}--\r\n".encode("ascii")
        raw = b"".join((self.header_prefix, head, _b64(text), middle, _b64(html_body), tail))
        return raw, message_id
