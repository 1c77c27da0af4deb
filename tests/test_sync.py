"""Dispatcher, io pool and the waiting helper."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from sogni_sync._sync import Deadline, Dispatcher, IoPool, wait_for
from sogni_sync.errors import ClientClosedError


def test_dispatcher_runs_in_order_on_its_thread(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher()
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    def boom() -> None:
        raise ValueError("callback failed")

    for i in range(50):
        dispatcher.submit(lambda i=i: seen.append((i, threading.current_thread().name)))
    with caplog.at_level(logging.ERROR):
        dispatcher.submit(boom)
        dispatcher.submit(done.set)
        assert done.wait(2)
    dispatcher.stop()
    assert [i for i, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"sogni-callbacks"}
    assert "callback failed" in caplog.text
    dispatcher.submit(seen.clear)  # ignored after stop
    assert len(seen) == 50


def test_dispatcher_overflow_keeps_terminal_events() -> None:
    dispatcher = Dispatcher(maxsize=2)
    gate = threading.Event()
    out: list[str] = []
    dispatcher.submit(gate.wait)
    time.sleep(0.05)
    for i in range(5):
        dispatcher.submit(out.append, f"p{i}", droppable=True)
    for i in range(3):
        dispatcher.submit(out.append, f"t{i}")
    gate.set()
    dispatcher.stop()
    assert out == ["p0", "p1", "t0", "t1", "t2"]  # order kept, only progress shed
    assert dispatcher.dropped == 3


def test_io_pool_is_bounded_lazy_and_stoppable() -> None:
    pool = IoPool(max_workers=2)
    assert threading.active_count() >= 1
    release = threading.Event()
    futures = [pool.submit(release.wait, 5) for _ in range(5)]
    time.sleep(0.05)
    names = {t.name for t in threading.enumerate() if t.name.startswith("sogni-io")}
    assert names == {"sogni-io-0", "sogni-io-1"}
    release.set()
    assert all(f.result(2) for f in futures)
    assert pool.submit(lambda: 7).result(2) == 7
    pool.shutdown()
    assert not [t for t in threading.enumerate() if t.name.startswith("sogni-io")]
    with pytest.raises(ClientClosedError):
        pool.submit(lambda: 1).result(1)


def test_wait_for_keeps_one_deadline() -> None:
    cond = threading.Condition()
    flag: list[int] = []

    def later() -> None:
        time.sleep(0.05)
        with cond:
            flag.append(1)
            cond.notify_all()

    threading.Thread(target=later).start()
    with cond:
        assert wait_for(cond, lambda: bool(flag), 2.0)
    started = time.monotonic()
    with cond:
        assert not wait_for(cond, lambda: False, Deadline(0.1))
    assert 0.09 < time.monotonic() - started < 1
    assert Deadline(None).remaining() is None and not Deadline(None).expired
