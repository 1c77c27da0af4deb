"""Billing and retry options shared by workflow runs, resumes and reseeds, checked before any
network I/O and turned into the wire's snake_case body keys and the ``Idempotency-Key`` header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sogni_sync.errors import ValidationError

__all__ = ["BillingMode", "billing_body", "check_media_references", "idempotency_headers"]

BillingMode = Literal["auto", "subscription", "tokens"]

TOKEN_TYPES = ("sogni", "spark")
BILLING_MODES = ("auto", "subscription", "tokens")


def billing_body(
    token_type: str | None, billing_mode: str | None, app_source: str | None
) -> dict[str, Any]:
    """``token_type`` / ``billing_mode`` / ``app_source`` body keys, each only when given
    (``app_source`` is the client's option, checked when the client was built)."""
    if token_type is not None and token_type not in TOKEN_TYPES:
        raise ValidationError(f"token_type must be 'sogni' or 'spark', got {token_type!r}")
    if billing_mode is not None and billing_mode not in BILLING_MODES:
        raise ValidationError(
            f"billing_mode must be 'auto', 'subscription' or 'tokens', got {billing_mode!r}")
    body: dict[str, Any] = {}
    if token_type:
        body["token_type"] = token_type
    if billing_mode:
        body["billing_mode"] = billing_mode
    if app_source:
        body["app_source"] = app_source
    return body


def idempotency_headers(key: str | None) -> dict[str, str] | None:
    """The ``Idempotency-Key`` header for ``key``; None when no key is given."""
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip() or len(key) > 255:
        raise ValidationError("idempotency_key must be a non-empty string of at most 255 "
                              "characters")
    return {"Idempotency-Key": key}


def check_media_references(refs: Any) -> list[dict[str, Any]]:
    """Durable runs keep media by URL: every reference must be an object whose ``url`` is
    http(s); inline ``data:`` URIs (``url`` or ``dataUri``) are refused."""
    if not isinstance(refs, (list, tuple)):
        raise ValidationError("media_references must be a list of objects")
    bad: list[str] = []
    for index, ref in enumerate(refs):
        if not isinstance(ref, Mapping):
            raise ValidationError(f"media_references[{index}] must be an object")
        url = ref.get("url")
        if isinstance(url, str) and url.strip() \
                and not url.strip().lower().startswith(("http://", "https://")):
            bad.append(f"media_references[{index}].url")
        for key in ("dataUri", "data_uri"):
            if isinstance(ref.get(key), str) and ref[key].strip():
                bad.append(f"media_references[{index}].{key}")
    if bad:
        raise ValidationError(
            "durable creative workflows keep media by URL: upload the media first and pass "
            f"its http(s) URL instead of inline data ({', '.join(bad)})")
    return [dict(ref) for ref in refs]
