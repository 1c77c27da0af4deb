"""Durable creative workflows (``client.creative_workflows``): REST calls, saved templates
(``client.creative_workflows.templates``), resume and reseed, and a resumable SSE event
stream; replay records (``client.replay``)."""

from sogni_sync.creative_workflows._api import (
    CreativeWorkflow,
    CreativeWorkflowEvent,
    CreativeWorkflowsApi,
    ReseededWorkflow,
    ResumedWorkflow,
)
from sogni_sync.creative_workflows._options import BillingMode
from sogni_sync.creative_workflows._replay import (
    ReplayApi,
    ReplayRecord,
    ReplayRecordSummary,
    ReplayWriteResult,
)
from sogni_sync.creative_workflows._sse import SseFrame, SseParser, is_terminal, parse_sse_chunk
from sogni_sync.creative_workflows._templates import (
    WorkflowTemplate,
    WorkflowTemplatePage,
    WorkflowTemplatesApi,
)

__all__ = [
    "BillingMode",
    "CreativeWorkflow",
    "CreativeWorkflowEvent",
    "CreativeWorkflowsApi",
    "ReplayApi",
    "ReplayRecord",
    "ReplayRecordSummary",
    "ReplayWriteResult",
    "ReseededWorkflow",
    "ResumedWorkflow",
    "SseFrame",
    "SseParser",
    "WorkflowTemplate",
    "WorkflowTemplatePage",
    "WorkflowTemplatesApi",
    "is_terminal",
    "parse_sse_chunk",
]
