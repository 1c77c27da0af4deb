"""Transports in a forked child: rebuilt from the at-fork hook, never sharing the parent's.

A child of ``os.fork()`` inherits the parent's objects but none of its threads; every live
transport registered here is rebuilt there (new threads, pools, socket and app id) before the
child's own code runs.
"""

from __future__ import annotations

import logging
import os
import weakref
from typing import Protocol, TypeVar

__all__ = ["Forkable", "forget", "register", "reinit_lock"]

log = logging.getLogger(__name__)

L = TypeVar("L")


class Forkable(Protocol):
    def rebuild_after_fork(self) -> None:
        """In the child, single-threaded: start over without touching the parent's objects."""
        ...


_live: weakref.WeakSet[Forkable] = weakref.WeakSet()


def register(obj: Forkable) -> None:
    _live.add(obj)


def forget(obj: Forkable) -> None:
    _live.discard(obj)


def _after_fork_in_child() -> None:
    for obj in list(_live):
        try:
            obj.rebuild_after_fork()
        except Exception:  # pragma: no cover - never let a fork hook break the child
            log.exception("rebuilding a client after fork failed")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def reinit_lock(lock: L) -> L:
    """A lock usable in a forked child: the same object reset (it may have been held by a
    parent thread that does not exist here), or a new one where that is not possible."""
    reinit = getattr(lock, "_at_fork_reinit", None)
    if reinit is None:  # pragma: no cover - CPython has it since 3.9
        return type(lock)()
    reinit()
    return lock
