"""Standard Webhooks signatures (https://www.standardwebhooks.com/), through its own library.

A secret is ``whsec_`` + base64 of 32 random bytes. Each attempt is signed over
``{webhook-id}.{webhook-timestamp}.{body}`` with every secret the endpoint has in force: after a
rotation the old and the new secret both sign (``webhook-signature: v1,<a> v1,<b>``), so the
receiver may switch to the new secret at any moment of the overlap."""

from __future__ import annotations

import base64
import datetime
import secrets as random

from standardwebhooks import Webhook

PREFIX = "whsec_"


def secret_generate() -> str:
    return PREFIX + base64.b64encode(random.token_bytes(32)).decode("ascii")


def signers(secrets: list[str]) -> list[Webhook]:
    """Built once per sending run: each decodes its secret."""
    return [Webhook(secret) for secret in secrets]


def signed_headers(
    *, signers: list[Webhook], msg_id: str, body: str, at: datetime.datetime
) -> dict[str, str]:
    # The library reads the timestamp as UTC whatever its zone says: give it UTC.
    at = at.astimezone(datetime.UTC)
    signature = " ".join(signer.sign(msg_id=msg_id, timestamp=at, data=body) for signer in signers)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
