"""Amazon SNS message signatures, for Amazon SES's bounce and complaint reports.

Anymail checks the basic auth and that the SNS headers match the body, but not SNS's own
signature ("Future: verify SNS message signature"). This does, as AWS documents it
(https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html): the fields
of the message, in a fixed order, signed with the private key of the certificate at
SigningCertURL, which must be an https URL on an SNS host of Amazon's.

The certificate is downloaded once and kept in the cache (ESP_SNS_CERTIFICATE_CACHE_SECONDS).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# sns.<region>.amazonaws.com (and .com.cn in China): a certificate anywhere else proves nothing.
SNS_CERT_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}  # fmt: skip
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
_MAX_CERT_BYTES = 16_384


class SNSSignatureError(Exception):
    """The message is not SNS's: refused (400)."""


class SNSCertificateUnavailable(Exception):
    """The certificate could not be downloaded now: an error (500), so SNS sends it again."""


def string_to_sign(message: dict) -> bytes:
    fields = _SIGNED_FIELDS.get(message.get("Type"))
    if fields is None:
        raise SNSSignatureError("unknown SNS message type")
    # Subject is signed only when the message has one.
    return "".join(
        f"{name}\n{message[name]}\n" for name in fields if name != "Subject" or name in message
    ).encode("utf-8")


def cert_url_problem(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not SNS_CERT_HOST.fullmatch(parts.hostname or ""):
        return "signing certificate not on an Amazon SNS host"
    if parts.port not in (None, 443) or not parts.path.endswith(".pem"):
        return "signing certificate URL is not an SNS certificate"
    return None


def _cache_key(url: str) -> str:
    return "sns-cert:" + url


def certificate_pem(url: str) -> bytes:
    """The signing certificate: from the cache, else downloaded (and then cached)."""
    try:
        pem = cache.get(_cache_key(url))
    except Exception:  # a cache that is down only costs a download
        logger.warning("sns certificate cache unavailable")
        pem = None
    if pem:
        return pem
    response = requests.get(url, timeout=5, allow_redirects=False)
    response.raise_for_status()
    pem = response.content[: _MAX_CERT_BYTES + 1]
    if len(pem) > _MAX_CERT_BYTES:
        raise SNSSignatureError("signing certificate too large")
    try:
        cache.set(_cache_key(url), pem, settings.ESP_SNS_CERTIFICATE_CACHE_SECONDS)
    except Exception:
        logger.warning("sns certificate cache unavailable")
    return pem


def verify(message: dict) -> None:
    """Raise SNSSignatureError unless Amazon SNS signed this message."""
    problem = cert_url_problem(message.get("SigningCertURL", ""))
    if problem:
        raise SNSSignatureError(problem)
    algorithm = _HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise SNSSignatureError("unknown SNS signature version")
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except (binascii.Error, ValueError):
        raise SNSSignatureError("SNS signature is not base64") from None
    topics = settings.ESP_SES_TOPIC_ARNS
    if topics and message.get("TopicArn") not in topics:
        raise SNSSignatureError("SNS topic is not one of ESP_SES_TOPIC_ARNS")
    try:
        pem = certificate_pem(message["SigningCertURL"])
    except requests.RequestException as exc:
        logger.warning(
            "sns certificate download failed host=%s", urlsplit(message["SigningCertURL"]).hostname
        )
        raise SNSCertificateUnavailable from exc
    try:
        public_key = x509.load_pem_x509_certificate(pem).public_key()
        public_key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        raise SNSSignatureError("SNS signature does not match") from None
