"""Delivery in isolation (no socket): which events acknowledge a request, and what a drop
leaves in doubt."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sogni_sync._sync import Deadline
from sogni_sync._transport.delivery import Delivery
from sogni_sync._transport.link import Link
from sogni_sync._transport.outbox import Outbox
from sogni_sync.errors import ClientClosedError, ValidationError


def _delivery() -> tuple[Delivery, Link, list[tuple[str, int]]]:
    link = Link(threading.RLock(), threading.Event())
    link.open, link.gen, link.ready_gen = True, 1, 1  # an authenticated connection
    written: list[tuple[str, int]] = []
    delivery = Delivery(link, Outbox(), write=lambda frame, gen: written.append((frame, gen)),
                        start=lambda: None, submit=lambda fn, *a: fn(*a),
                        emit=lambda kind, info: None)
    return delivery, link, written


def test_events_acknowledge_a_request_by_the_key_its_concern_registered() -> None:
    delivery, link, written = _delivery()
    delivery.track("thing", named_by="thingID")
    delivery.send("thing", {"x": 1}, "r-1", Deadline(1))
    assert [gen for _, gen in written] == [1] and delivery.awaiting("r-1")
    with link.lock:
        delivery.note({"jobID": "r-1"})  # a key nobody registered names nothing
    assert delivery.awaiting("r-1")
    with link.lock:
        delivery.note({"thingID": "R-1"})  # ids are compared case-insensitively
    assert not delivery.awaiting("r-1")


def test_what_was_written_on_a_dropped_connection_is_in_doubt() -> None:
    delivery, link, _ = _delivery()
    delivery.send("thing", {}, "r-2", Deadline(1))
    assert not delivery.in_doubt("r-2")
    with link.lock:
        link.open = False
        delivery.dropped(1)
    assert delivery.in_doubt("r-2")


def test_refusals_before_anything_is_written() -> None:
    delivery, link, written = _delivery()
    with pytest.raises(ValidationError, match="not JSON-serialisable"):
        delivery.send("thing", {"x": object()}, None, Deadline(1))
    link.closing.set()
    with pytest.raises(ClientClosedError):
        delivery.send("thing", {}, None, Deadline(1))
    assert written == [] and len(delivery.outbox) == 0


def test_a_message_without_id_leaves_the_outbox_once_written() -> None:
    delivery, _, written = _delivery()
    delivery.send("ping", {"n": 1}, None, Deadline(1))
    payloads: list[Any] = [frame for frame, _ in written]
    assert len(payloads) == 1 and len(delivery.outbox) == 0
