"""What the server says about a project's wait in the queue: the ``queued`` frame's estimated
start and coarse status, and the waiting reason (from that frame or the live lookup)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from sogni_sync._convert import structure

__all__ = ["WaitingReason", "queue_status", "start_seconds", "waiting_reason"]

_REASONS = frozenset({"concurrency_limit", "model_concurrency_limit", "payment_pending",
                      "no_workers", "queued"})


@attrs.frozen
class WaitingReason:
    """Why a queued project waits: ``reason`` is ``concurrency_limit``,
    ``model_concurrency_limit``, ``payment_pending``, ``no_workers`` or ``queued``; ``message``
    says it for people."""

    reason: str
    message: str
    media_type: str | None = None
    payment_model: str | None = None
    subscription_tier: str | None = None
    model_family: str | None = None


def waiting_reason(raw: Any) -> WaitingReason | None:
    """A server waiting reason, or None when it is absent or not one of the known shapes."""
    if not isinstance(raw, Mapping):
        return None
    reason, message = raw.get("reason"), raw.get("message")
    if reason not in _REASONS or not isinstance(message, str) or not message.strip() \
            or len(message) > 600:
        return None
    return structure(raw, WaitingReason, "waitingReason")


def start_seconds(value: Any) -> float | None:
    """``estimatedStartSeconds``: seconds until a worker starts the project (None: unknown)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def queue_status(value: Any) -> str | None:
    """``queueStatus``: ``waiting``, or ``no-workers`` when nothing connected can run it."""
    return value if value in ("waiting", "no-workers") else None
