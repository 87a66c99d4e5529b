"""Signing per the Standard Webhooks specification (https://www.standardwebhooks.com), with
the `standardwebhooks` library: secrets in the `whsec_…` format, message ids, the body as
sent, and the three headers a receiver checks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets

from standardwebhooks import Webhook

# 32 random bytes: as long as the HMAC-SHA256 key the specification recommends.
SECRET_BYTES = 32


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def body(payload: dict) -> bytes:
    """The bytes posted (and signed): compact, keys sorted, the same on every attempt."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signed_headers(
    *, message_id: str, data: bytes, at: dt.datetime, secrets_in_use: list[str]
) -> dict[str, str]:
    """`webhook-signature` carries one `v1,…` signature per secret in use (two for a while
    after a rotation), separated by spaces, as the specification allows."""
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=at, data=data)
        for secret in secrets_in_use
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
