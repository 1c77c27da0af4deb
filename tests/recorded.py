"""What the emulator recorded, read the way several suites compare it."""

from __future__ import annotations

from typing import Any


def generated_reply(net: Any, job_id: str) -> str:
    """The reply text the emulator produced for ``job_id`` (every ``jobTokens`` it sent)."""
    return "".join(str(p.get("content") or "") for p in net.sent("jobTokens")
                   if p.get("jobID") == job_id)
