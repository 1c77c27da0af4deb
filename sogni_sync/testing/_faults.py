"""Fault injection: ``net.faults``.

Faults are armed from test threads and consumed in order by the emulator loop; every armed
fault fires a bounded number of times and then disarms itself. ``net.reset()`` (or
``net.faults.clear()``) disarms everything.

Always on:
    a positive prompt containing ``[[fail]]`` (:attr:`Faults.marker`) makes the worker fail
    every job of that project with a job-level ``jobError`` (``error`` = :attr:`fail_code`,
    ``error_message`` = :attr:`fail_message`, ``isFromWorker: true``) after its first step.

Socket (server -> client frames; ``types`` = event names or ``None`` for any). Every socket
fault takes ``app_id=None``: ``None`` = the first connection that sends a matching frame,
else only the connection of that appId (use it when other clients share the emulator, e.g. a
session-scoped server with stragglers from earlier tests):
    ``drop_after(frames=0)``           abort the TCP connection (no close frame, client sees 1006)
                                       once N more frames were sent (frame N+1 is not sent).
    ``close_after(frames, code, reason="")`` the same with a WebSocket close ``code``.
    ``close_at(msg_type, code=0, reason="")`` close (0 = abort) instead of sending the next frame
                                       of that type, e.g. ``"jobResult"``.
    ``delay(seconds, types=None, count=1)`` hold matching frames back for ``seconds``.
    ``duplicate(types=None, count=1)``  send matching frames twice.
    ``reorder(count=1)``               swap each of the next ``count`` frames with the one after.
    ``malformed(count=1, kind="garbage")`` send a malformed frame before the next ones:
                                       ``garbage`` (not JSON), ``no_data`` (no ``data`` key),
                                       ``bad_base64``, ``not_object`` (JSON array).
    ``forget_next(msg_type="jobRequest", count=1)`` accept (and record) the next client
                                       message of that type but never act on it.
    ``refuse_connects(count=1, code=4021)`` accept then immediately close the next upgrades.

REST (both hosts):
    ``rest_error(route, status=503, times=1, retry_after=None, method=None)`` answer the next
    ``times`` calls whose path matches ``route`` (exact path or :mod:`fnmatch` glob such as
    ``"/v1/image/*"``) with ``status`` and the server's JSON error shape; ``retry_after`` adds a
    ``Retry-After`` header (seconds) and ``retryAfter`` in the body (429/503).

Workers:
    ``fail_next_jobs(count=1, error=1001, message=..., project_level=False)`` the next ``count``
                                       jobs fail after their first step with that ``error``
                                       (number or symbolic string such as ``"workerDisconnected"``);
                                       ``project_level`` sends one ``jobError`` without ``imgID``.
    ``retry_next_jobs(count=1)`` the next ``count`` jobs lose their worker after the first step:
                                       the server sends ``jobRetry`` and runs the same render
                                       again on another worker under a new ``imgID``.
    ``no_workers(model_id)`` hides a model from ``swarmModels`` (next connect, or at once with
    ``net.push_swarm_models()``) and fails its jobs with a project-level ``jobError`` 4009
    until ``clear()``.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["FrameFault", "Faults", "RestFault"]


@dataclass
class RestFault:
    route: str
    status: int
    times: int
    retry_after: float | None
    method: str | None


@dataclass
class FrameFault:
    """Actions for one outgoing frame, decided by :meth:`Faults.on_frame`."""

    delay: float = 0.0
    duplicate: bool = False
    hold: bool = False
    malformed: str | None = None
    close: int | None = None  # close instead of sending this frame; 0 = abort, no close frame
    close_reason: str = ""


def _types(types: str | Iterable[str] | None) -> frozenset[str] | None:
    if types is None:
        return None
    return frozenset([types] if isinstance(types, str) else types)


class Faults:
    marker = "[[fail]]"
    fail_code = 1001
    fail_message = "Worker failed to generate the media (emulator fault marker [[fail]])"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._closes: list[list[Any]] = []
            self._delays: list[list[Any]] = []
            self._dups: list[list[Any]] = []
            self._reorders: list[list[Any]] = []
            self._malformed: list[list[Any]] = []
            self._forget: dict[str, int] = {}
            self._refuse: list[int] = []
            self._rest: list[RestFault] = []
            self._close_at: list[list[Any]] = []
            self._job_failures: list[tuple[Any, str, bool]] = []
            self._job_retries = 0
            self.hidden_models: set[str] = set()

    # -- arming (any thread) -----------------------------------------------------------------

    def drop_after(self, frames: int = 0, app_id: str | None = None) -> None:
        with self._lock:
            self._closes.append([max(0, frames), 0, "", app_id])

    def close_after(self, frames: int, code: int, reason: str = "",
                    app_id: str | None = None) -> None:
        with self._lock:
            self._closes.append([max(0, frames), int(code), reason, app_id])

    def close_at(self, msg_type: str, code: int = 0, reason: str = "",
                 app_id: str | None = None) -> None:
        with self._lock:
            self._close_at.append([msg_type, int(code), reason, app_id])

    def fail_next_jobs(self, count: int = 1, error: int | str = 1001,
                       message: str = "Injected job failure", project_level: bool = False) -> None:
        with self._lock:
            self._job_failures.extend([(error, message, project_level)] * int(count))

    def retry_next_jobs(self, count: int = 1) -> None:
        with self._lock:
            self._job_retries += int(count)

    def take_job_retry(self) -> bool:
        with self._lock:
            if self._job_retries <= 0:
                return False
            self._job_retries -= 1
            return True

    def take_job_failure(self) -> tuple[Any, str, bool] | None:
        with self._lock:
            return self._job_failures.pop(0) if self._job_failures else None

    def delay(self, seconds: float, types: str | Iterable[str] | None = None,
              count: int = 1, app_id: str | None = None) -> None:
        with self._lock:
            self._delays.append([float(seconds), _types(types), int(count), app_id])

    def duplicate(self, types: str | Iterable[str] | None = None, count: int = 1,
                  app_id: str | None = None) -> None:
        with self._lock:
            self._dups.append([_types(types), int(count), app_id])

    def reorder(self, count: int = 1, app_id: str | None = None) -> None:
        with self._lock:
            self._reorders.append([int(count), app_id])

    def malformed(self, count: int = 1, kind: str = "garbage", app_id: str | None = None) -> None:
        if kind not in ("garbage", "no_data", "bad_base64", "not_object"):
            raise ValueError(f"unknown malformed kind {kind!r}")
        with self._lock:
            self._malformed.extend([[kind, app_id] for _ in range(int(count))])

    def forget_next(self, msg_type: str = "jobRequest", count: int = 1) -> None:
        with self._lock:
            self._forget[msg_type] = self._forget.get(msg_type, 0) + int(count)

    def refuse_connects(self, count: int = 1, code: int = 4021) -> None:
        with self._lock:
            self._refuse.extend([int(code)] * int(count))

    def rest_error(self, route: str, status: int = 503, times: int = 1,
                   retry_after: float | None = None, method: str | None = None) -> None:
        with self._lock:
            self._rest.append(RestFault(route, int(status), int(times), retry_after,
                                        method.upper() if method else None))

    def no_workers(self, model_id: str) -> None:
        with self._lock:
            self.hidden_models.add(model_id)

    def apply(self, spec: Any) -> None:
        """Arm faults from a constructor ``faults=`` value: a callable taking this object, or a
        mapping/iterable of ``(method_name, kwargs)`` pairs."""
        if spec is None:
            return
        if callable(spec):
            spec(self)
            return
        items = spec.items() if isinstance(spec, dict) else spec
        for name, kwargs in items:
            if name.startswith("_") or name in ("apply", "clear") or not hasattr(self, name):
                raise ValueError(f"unknown fault {name!r}")
            getattr(self, name)(**(kwargs or {}))

    # -- consumption (emulator loop) ---------------------------------------------------------

    def prompt_fails(self, text: Any) -> bool:
        return isinstance(text, str) and self.marker in text

    def take_forget(self, msg_type: str) -> bool:
        with self._lock:
            left = self._forget.get(msg_type, 0)
            if left <= 0:
                return False
            self._forget[msg_type] = left - 1
            return True

    def take_refuse(self) -> int | None:
        with self._lock:
            return self._refuse.pop(0) if self._refuse else None

    def take_rest(self, method: str, path: str) -> RestFault | None:
        with self._lock:
            for fault in self._rest:
                if fault.method and fault.method != method.upper():
                    continue
                if fault.route == path or fnmatch.fnmatchcase(path, fault.route):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._rest.remove(fault)
                    return fault
        return None

    @property
    def frames_armed(self) -> bool:
        """Cheap check so the hot send path skips :meth:`on_frame` when nothing is armed."""
        return bool(self._closes or self._delays or self._dups or self._reorders
                    or self._malformed or self._close_at)

    def on_frame(self, msg_type: str, app_id: str = "") -> FrameFault:
        """Decide the faults for one outgoing frame of ``msg_type`` to connection ``app_id``."""
        out = FrameFault()

        def mine(scope: str | None) -> bool:
            return scope is None or scope == app_id

        with self._lock:
            for entry in self._malformed:
                if mine(entry[1]):
                    self._malformed.remove(entry)
                    out.malformed = entry[0]
                    break
            for entry in self._delays:
                if mine(entry[3]) and (entry[1] is None or msg_type in entry[1]):
                    out.delay = entry[0]
                    entry[2] -= 1
                    if entry[2] <= 0:
                        self._delays.remove(entry)
                    break
            for entry in self._dups:
                if mine(entry[2]) and (entry[0] is None or msg_type in entry[0]):
                    out.duplicate = True
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._dups.remove(entry)
                    break
            for entry in self._reorders:
                if mine(entry[1]):
                    out.hold = True
                    entry[0] -= 1
                    if entry[0] <= 0:
                        self._reorders.remove(entry)
                    break
            for entry in self._close_at:
                if mine(entry[3]) and entry[0] == msg_type:
                    self._close_at.remove(entry)
                    out.close, out.close_reason = entry[1], entry[2]
                    return out
            for entry in self._closes:
                if not mine(entry[3]):
                    continue
                if entry[0] <= 0:
                    self._closes.remove(entry)
                    out.close, out.close_reason = entry[1], entry[2]
                else:
                    entry[0] -= 1
                break
        return out
