"""After a reconnect: decide, from the server's own answers, what became of uncertain requests.

A request is UNCERTAIN when bytes of it may have left on a connection that then dropped before
the server named its id. Nothing is decided at the drop. Once the next connection is
authenticated, each uncertain request from an earlier connection is settled here:

* its id is listed in the ``authenticated`` payload (under a listing key its concern
  registered) → the server has it: **confirmed**, tracking goes on;
* else, if its concern registered a ``lookup`` (and the server lists such requests at all, so
  it is recent enough to answer): the lookup runs on the io pool, never on the socket thread —
  ``True`` → confirmed; ``False`` (the server does not know the id) → it never arrived, so it is
  queued and **re-sent** on the current connection; an error is retried with backoff, and only
  when every attempt failed is the request declared lost;
* else nobody can tell whether it arrived → **lost** (never re-sent: it may run already).

So the server never receives a request twice: a re-send only follows the server's word that it
does not have the request. Each request is written at most :data:`~.outbox.MAX_SENDS` times.
Concerns register what they send with :meth:`Reconciler.track`; the transport names no
message types. Outcomes reach the connection handlers as ``request_confirmed`` (``listed``
says whether the payload named it — if not, its events may have gone to the dead connection)
and ``request_lost`` (with a :class:`~sogni_sync.errors.RequestLostError`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from sogni_sync._transport.outbox import MAX_SENDS, Entry, EntryState, Outbox
from sogni_sync.errors import RequestLostError

__all__ = ["Emit", "Lookup", "Reconciler", "Submit", "Tracking"]

log = logging.getLogger(__name__)

#: ``lookup(request_id)``: True when the server has the request, False when it does not know
#: the id (so it never arrived); raises when it could not be asked.
Lookup = Callable[[str], bool]
Emit = Callable[[str, Any], None]
Submit = Callable[..., Any]


@attrs.frozen
class Tracking:
    """How the server accounts for one message type after a reconnect."""

    #: ``authenticated`` payload keys whose lists name requests of this type the server holds
    listed_in: tuple[str, ...] = ()
    #: the key that names a request in its events, and in the listings' objects (besides ``id``)
    named_by: str | None = None
    lookup: Lookup | None = None


@attrs.frozen
class _Outcome:
    kind: str  # "confirmed" | "lost" | "resend"
    entry: Entry
    listed: bool = False
    reason: str = ""
    #: the state the entry must still be in for the outcome to apply
    expect: EntryState = EntryState.UNCERTAIN


class Reconciler:
    """Settles the outbox's UNCERTAIN entries; the transport calls it after ``authenticated``.

    ``lock`` is the transport's state lock (the outbox has none of its own); ``submit`` runs a
    function on the io pool; ``emit`` notifies connection handlers (called without the lock);
    ``flush`` writes re-queued entries on the current connection (called on the io pool).
    """

    #: lookups per uncertain request before it is declared lost
    lookup_attempts = 6
    #: first pause between lookups; doubles each time (0.25 … 4 s, ~8 s in all)
    lookup_backoff = 0.25
    #: io tasks one reconnect's lookups are spread over
    parallel_lookups = 4

    def __init__(self, lock: threading.RLock, outbox: Outbox, *, submit: Submit, emit: Emit,
                 flush: Callable[[], None], closing: threading.Event) -> None:
        self._lock = lock
        self._outbox = outbox
        self._submit = submit
        self._emit = emit
        self._flush = flush
        self._closing = closing
        self._tracks: dict[str, Tracking] = {}

    def track(self, msg_type: str, *, listed_in: Iterable[str] = (),
              lookup: Lookup | None = None, named_by: str | None = None) -> None:
        """Register how the server accounts for ``msg_type`` requests (sent with an id)."""
        with self._lock:
            self._tracks[msg_type] = Tracking(tuple(listed_in), named_by=named_by, lookup=lookup)

    def tracking(self, msg_type: str) -> Tracking:
        with self._lock:
            return self._tracks.get(msg_type, Tracking())

    # -- after authenticated (socket thread, or a writer thread) --------------------------------

    def settle(self, gen: int, payload: Mapping[str, Any]) -> None:
        """Decide every uncertain entry written before connection ``gen`` authenticated with
        ``payload``; lookups go to the io pool. Never blocks on the network."""
        outcomes: list[_Outcome] = []
        asks: dict[Lookup, list[Entry]] = {}
        with self._lock:
            listed = self._listed(payload)
            for entry in self._outbox.uncertain():
                if entry.checking or entry.gen >= gen:
                    continue
                outcome = self._decide_listed(entry, payload, listed)
                if outcome is None:
                    lookup = self._tracks[entry.msg_type].lookup
                    assert lookup is not None
                    entry.checking = True
                    asks.setdefault(lookup, []).append(entry)
                else:
                    outcomes.append(outcome)
            for lookup, entries in asks.items():
                for n in range(min(self.parallel_lookups, len(entries))):
                    self._submit(self._check, entries[n::self.parallel_lookups], lookup)
        self._apply(outcomes)

    def _listed(self, payload: Mapping[str, Any]) -> set[str]:
        return {rid for t in self._tracks.values() for key in t.listed_in
                for rid in _ids(payload.get(key), t.named_by)}

    def _decide_listed(self, entry: Entry, payload: Mapping[str, Any],
                       listed: set[str]) -> _Outcome | None:
        """Lock held: the outcome the payload alone decides, or None when the server must be
        asked."""
        rid = (entry.request_id or "").upper()
        if rid in listed:
            return _Outcome("confirmed", entry, listed=True)
        track = self._tracks.get(entry.msg_type, Tracking())
        if track.lookup is not None and any(key in payload for key in track.listed_in):
            return None
        return _Outcome("lost", entry, reason=(
            f"{entry.msg_type} {entry.request_id} may have reached the Supernet before the "
            "connection dropped and the server cannot be asked about it; it was not re-sent, "
            "so it never runs twice"))

    # -- lookups (io pool) ----------------------------------------------------------------------

    def _check(self, entries: list[Entry], lookup: Lookup) -> None:
        """Ask the server about each entry; those it could not answer are asked again after a
        pause shared by the whole round (so a REST outage costs ~8 s, not 8 s per request)."""
        delay = self.lookup_backoff
        failures: dict[int, BaseException] = {}
        pending = entries
        for attempt in range(1, self.lookup_attempts + 1):
            retry: list[Entry] = []
            for entry in pending:
                if self._closing.is_set():
                    return self._release(pending)
                if not self._still_uncertain(entry):
                    self._release([entry])
                    continue
                try:
                    found = lookup(entry.request_id or "")
                except Exception as exc:
                    failures[entry.seq] = exc
                    retry.append(entry)
                    continue
                self._apply([self._answered(entry, bool(found))])
            if not retry:
                return None
            log.info("could not ask about %d request(s) (attempt %d/%d): %s", len(retry),
                     attempt, self.lookup_attempts, failures[retry[0].seq])
            if attempt < self.lookup_attempts and self._closing.wait(delay):
                return self._release(retry)
            delay *= 2
            pending = retry
        self._apply([_Outcome("lost", entry, reason=(
            f"{entry.msg_type} {entry.request_id} may have reached the Supernet before the "
            f"connection dropped, and {self.lookup_attempts} attempts to ask the server failed "
            f"({type(failures[entry.seq]).__name__}: {failures[entry.seq]}); it was not "
            "re-sent, so it never runs twice")) for entry in pending])
        return None

    def _still_uncertain(self, entry: Entry) -> bool:
        with self._lock:
            return (entry.state is EntryState.UNCERTAIN
                    and self._outbox.get(entry.request_id or "") is entry)

    def _release(self, entries: list[Entry]) -> None:
        with self._lock:
            for entry in entries:
                entry.checking = False

    def _answered(self, entry: Entry, found: bool) -> _Outcome:
        if found:
            return _Outcome("confirmed", entry)
        if entry.sends >= MAX_SENDS:
            return _Outcome("lost", entry, reason=(
                f"{entry.msg_type} {entry.request_id} was written {entry.sends} times and "
                "the Supernet never received it"))
        return _Outcome("resend", entry)

    def give_up(self, entry: Entry, reason: str) -> None:
        """Stop trying to deliver ``entry`` (it never left): report it lost for ``reason``."""
        self._apply([_Outcome("lost", entry, reason=reason, expect=EntryState.QUEUED)])

    # -- outcomes -------------------------------------------------------------------------------

    def _apply(self, outcomes: list[_Outcome]) -> None:
        """Update the outbox (lock held), then notify and flush (lock released)."""
        events: list[tuple[str, dict[str, Any]]] = []
        resend = 0
        with self._lock:
            for out in outcomes:
                entry = out.entry
                entry.checking = False
                if (entry.state is not out.expect
                        or self._outbox.get(entry.request_id or "") is not entry):
                    continue  # acknowledged (or drained) meanwhile
                info: dict[str, Any] = {"request_id": entry.request_id, "type": entry.msg_type}
                if out.kind == "resend":
                    entry.state = EntryState.QUEUED
                    entry.attached = False
                    resend += 1
                    continue
                self._outbox.remove(entry)
                if out.kind == "confirmed":
                    events.append(("request_confirmed", {**info, "listed": out.listed}))
                else:
                    log.warning("request lost: %s", out.reason)
                    events.append(("request_lost", {**info, "error": RequestLostError(out.reason)}))
        if resend:
            log.info("%d request(s) the Supernet never received: sending again", resend)
            self._submit(self._flush)
        for kind, info in events:
            self._emit(kind, info)


def _ids(items: Any, named_by: str | None) -> Iterable[str]:
    """Upper-cased ids of a listing: strings, or objects with ``id`` (or ``named_by``)."""
    if not isinstance(items, list):
        return ()
    found = []
    for item in items:
        if isinstance(item, Mapping):
            value = item.get("id") or (item.get(named_by) if named_by else None)
        else:
            value = item
        if isinstance(value, str) and value:
            found.append(value.upper())
    return found
