"""Announcements: the REST reads and dismissals, and ``appAlert`` delivered once per id."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sogni_sync.account import Announcement
from sogni_sync.errors import NotFoundError, ValidationError

BANNER = {"id": "ann-1", "kind": "banner", "severity": "warn", "title": "Maintenance",
          "bodyMarkdown": "Down at **noon**", "pinned": True, "dismissible": True,
          "actions": [{"label": "Status", "href": "https://status.example", "external": True}],
          "startsAt": 1_700_000_000_000, "endsAt": 4_000_000_000_000}


def publish(net: Any, alert: dict[str, Any], platform: str | None = None) -> None:
    net.call(lambda s: s.extras["announcements"].publish(dict(alert), platform))


def test_active_and_dismiss(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(disable_socket=True)
    publish(sogni_supernet, BANNER)
    publish(sogni_supernet, {"id": "mac-only", "title": "For the Mac app"}, "sogni-mac")
    (live,) = client.announcements.active()
    assert isinstance(live, Announcement) and live.id == "ann-1" and live.pinned
    assert live.body_markdown == "Down at **noon**" and live.ends_at == 4_000_000_000_000
    assert live.actions[0]["href"] == "https://status.example"
    assert [a.id for a in client.announcements.active(platform="sogni-mac")] == [
        "ann-1", "mac-only"]
    client.announcements.dismiss("ann-1")
    assert [a.id for a in client.announcements.active(platform="sogni-mac")] == ["mac-only"]
    with pytest.raises(NotFoundError):
        client.announcements.dismiss("nope")
    with pytest.raises(ValidationError):
        client.announcements.dismiss("")
    with pytest.raises(ValidationError):
        client.announcements.active(platform=" ")


def test_app_alert_is_delivered_once_per_id(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(socket_event_subscriptions={"appAlert": True})
    got: list[Announcement] = []
    two = threading.Event()

    def on_alert(alert: Announcement) -> None:
        got.append(alert)
        if len(got) == 2:
            two.set()

    client.announcements.on_alert(on_alert)
    client.connect(timeout=10)
    publish(sogni_supernet, BANNER)
    publish(sogni_supernet, BANNER)  # redelivered, as on a reconnect
    publish(sogni_supernet, {"id": "ann-2", "title": "New model"})
    assert two.wait(10)
    assert [a.id for a in got] == ["ann-1", "ann-2"]
    assert got[1].kind == "toast" and got[1].severity == "info"
    assert client.announcements.seen_ids == {"ann-1", "ann-2"}
    # the server did send the banner twice: the client dropped the repeat
    assert [f["id"] for f in sogni_supernet.sent("appAlert")][-3:] == ["ann-1", "ann-1", "ann-2"]


def test_without_the_opt_in_a_toast_arrives_instead(make_client: Any,
                                                    sogni_supernet: Any) -> None:
    client = make_client()
    toasts: list[Any] = []
    seen = threading.Event()

    def on_toast(payload: Any) -> None:
        toasts.append(payload)
        seen.set()

    client.on("toastMessage", on_toast)
    alerts: list[Announcement] = []
    client.announcements.on_alert(alerts.append)
    client.connect(timeout=10)
    publish(sogni_supernet, {"id": "ann-3", "title": "Hello", "bodyMarkdown": "there"})
    assert seen.wait(10)
    assert toasts[0]["title"] == "Hello" and alerts == []


def test_a_pinned_banner_resent_on_reconnect_is_seen_once(make_client: Any,
                                                          sogni_supernet: Any) -> None:
    publish(sogni_supernet, BANNER)  # live before the client connects
    client = make_client(socket_event_subscriptions={"appAlert": True})
    got: list[str] = []
    arrived = threading.Event()

    def on_alert(alert: Announcement) -> None:
        got.append(alert.id)
        arrived.set()

    client.announcements.on_alert(on_alert)
    client.connect(timeout=10)
    assert arrived.wait(10) and got == ["ann-1"]
    sent = len(sogni_supernet.sent("appAlert"))
    sogni_supernet.disconnect(app_id=client.options.app_id)
    deadline = time.monotonic() + 10
    while len(sogni_supernet.sent("appAlert")) == sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sogni_supernet.sent("appAlert")) == sent + 1  # the server sent it again
    publish(sogni_supernet, {"id": "ann-2", "title": "after the reconnect"})
    deadline = time.monotonic() + 10
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert got == ["ann-1", "ann-2"]
