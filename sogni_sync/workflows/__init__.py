"""Durable creative workflows (``client.creative_workflows``): REST calls and a resumable SSE
event stream."""

from sogni_sync.workflows._api import CreativeWorkflow, WorkflowEvent, WorkflowsApi
from sogni_sync.workflows._sse import SseFrame, SseParser, is_terminal, parse_sse_chunk

__all__ = [
    "CreativeWorkflow",
    "SseFrame",
    "SseParser",
    "WorkflowEvent",
    "WorkflowsApi",
    "is_terminal",
    "parse_sse_chunk",
]
