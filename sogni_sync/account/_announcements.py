"""``client.announcements``: in-app announcements (toasts and pinned banners) for the account.

Live ones arrive as the ``appAlert`` socket event, which is opt-in: build the client with
``socket_event_subscriptions={"appAlert": True}`` (without it the server sends the plain
``toastMessage`` instead). The server re-sends a live pinned banner on every reconnect, so
:meth:`AnnouncementsApi.on_alert` hands each announcement id to its callback once.
:meth:`~AnnouncementsApi.active` reads what is live (at start-up, before the socket is up) and
:meth:`~AnnouncementsApi.dismiss` hides one for the account on every device.
"""

from __future__ import annotations

import builtins
import itertools
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from sogni_sync._convert import register_wire, structure
from sogni_sync._transport import Events, RestAccess, quote_segment
from sogni_sync.errors import UnexpectedResponseError, ValidationError

__all__ = ["Announcement", "AnnouncementsApi", "AnnouncementsTransport"]

log = logging.getLogger(__name__)

ACTIVE = "/v1/announcements/active"
EVENT = "appAlert"


class AnnouncementsTransport(Events, RestAccess, Protocol):
    """The socket events (``appAlert``) and the REST client."""


@attrs.frozen
class Announcement:
    """One announcement; ``id`` is stable across redeliveries and is what ``dismiss`` takes.
    Times are epoch milliseconds; ``raw`` keeps every key."""

    id: str
    kind: str | None = None  # "toast" | "banner"
    severity: str | None = None  # "info" | "success" | "warn" | "danger"
    title: str | None = None
    body_markdown: str | None = None
    pinned: bool = False
    dismissible: bool = True
    icon: str | None = None
    accent: str | None = None
    auto_close_ms: int | None = None
    actions: tuple[Mapping[str, Any], ...] = ()
    starts_at: int | None = None
    ends_at: int | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


def _wire(value: Any) -> dict[str, Any]:
    raw = dict(value) if isinstance(value, Mapping) else {}
    actions = raw.get("actions")
    return {**raw, "actions": tuple(a for a in actions if isinstance(a, Mapping))
            if isinstance(actions, list) else (), "raw": raw}


register_wire(Announcement, _wire)

AlertCallback = Callable[[Announcement], Any]


class AnnouncementsApi:
    """Read, dismiss and follow the account's announcements."""

    def __init__(self, transport: AnnouncementsTransport) -> None:
        self._transport = transport
        self._seen: set[str] = set()
        self._callbacks: dict[int, AlertCallback] = {}
        self._ids = itertools.count(1)
        transport.subscribe(EVENT, self._on_alert, replay_last=True)

    def active(self, platform: str | None = None) -> builtins.list[Announcement]:
        """Announcements live for this account, minus those it dismissed. ``platform`` is this
        app's ``app_source`` (e.g. ``"sogni-mac"``): announcements scoped to a platform are only
        returned when it is given."""
        if platform is not None and (not isinstance(platform, str) or not platform.strip()):
            raise ValidationError("platform must be a non-empty string")
        # the official clients disagree on the envelope (JS reads data.announcements, Python
        # a top-level announcements): take either
        data = self._transport.rest.request(
            "GET", ACTIVE, params={"platform": platform} if platform else None, envelope=False)
        inner = data.get("data") if isinstance(data, Mapping) else None
        rows = inner.get("announcements") if isinstance(inner, Mapping) else None
        if rows is None and isinstance(data, Mapping):
            rows = data.get("announcements")
        if rows is None:
            return []
        if not isinstance(rows, builtins.list):
            raise UnexpectedResponseError.expected(ACTIVE, "an announcements list", data)
        return [structure(a, Announcement, ACTIVE) for a in rows
                if isinstance(a, Mapping) and isinstance(a.get("id"), str)]

    def dismiss(self, announcement_id: str) -> None:
        """Dismiss one announcement for the account, on every device."""
        if not isinstance(announcement_id, str) or not announcement_id:
            raise ValidationError("announcement_id must be a non-empty string")
        path = f"/v1/announcements/{quote_segment(announcement_id, 'announcement_id')}/dismiss"
        self._transport.rest.request("POST", path, idempotent=True)

    def on_alert(self, callback: AlertCallback) -> Callable[[], None]:
        """Call ``callback(Announcement)`` once per announcement id the socket delivers (on the
        client's callback thread, in order). Returns a function that unsubscribes. Needs the
        ``appAlert`` opt-in (see the module docs)."""
        if not callable(callback):
            raise ValidationError("callback must be callable")
        with self._transport.lock:
            key = next(self._ids)
            self._callbacks[key] = callback

        def unsubscribe() -> None:
            with self._transport.lock:
                self._callbacks.pop(key, None)

        return unsubscribe

    @property
    def seen_ids(self) -> frozenset[str]:
        """Ids of the announcements delivered so far on the socket."""
        with self._transport.lock:
            return frozenset(self._seen)

    def _on_alert(self, payload: Any) -> None:  # socket thread, lock held
        if not isinstance(payload, Mapping) or not isinstance(payload.get("id"), str):
            log.debug("ignoring an appAlert without an id: %r", payload)
            return
        if payload["id"] in self._seen:
            return
        try:
            alert = structure(payload, Announcement, EVENT)
        except UnexpectedResponseError:
            log.warning("ignoring a malformed appAlert %r", payload.get("id"))
            return
        self._seen.add(alert.id)
        for callback in list(self._callbacks.values()):
            self._transport.dispatch(callback, alert)
