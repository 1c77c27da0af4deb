"""Durable creative workflows (``client.creative_workflows``): REST calls and a resumable SSE
event stream."""

from sogni_sync.creative_workflows._api import (
    CreativeWorkflow,
    CreativeWorkflowEvent,
    CreativeWorkflowsApi,
)
from sogni_sync.creative_workflows._sse import SseFrame, SseParser, is_terminal, parse_sse_chunk

__all__ = [
    "CreativeWorkflow",
    "CreativeWorkflowEvent",
    "CreativeWorkflowsApi",
    "SseFrame",
    "SseParser",
    "is_terminal",
    "parse_sse_chunk",
]
