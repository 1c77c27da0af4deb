"""LLM chat on the Sogni Supernet: completions, streaming, vision, tools, hosted chat.

``client.chat.complete(...)`` and ``client.chat.stream(...)`` talk to the socket
(``llmJobRequest``); ``client.chat.hosted.create(...)`` uses the REST endpoint;
``client.chat.tools`` turns Sogni tool calls into media projects; ``client.chat.runs`` runs
durable server-side chats with cost approval and a resumable event stream.
"""

from sogni_sync.chat._api import ChatApi
from sogni_sync.chat._executor import ChatToolsApi
from sogni_sync.chat._hosted import HostedChatApi
from sogni_sync.chat._hosted_tools import HostedToolResult, ToolSet, sogni_tool_set
from sogni_sync.chat._media import (
    image_part,
    image_part_from_bytes,
    image_part_from_path,
    parse_data_uri,
    text_part,
    to_data_uri,
)
from sogni_sync.chat._runs import (
    ChatRun,
    ChatRunEvent,
    ChatRunsApi,
    ChatRunWaiting,
    CostApproval,
    CostApprovalPreview,
    CostBreakdown,
)
from sogni_sync.chat._stream import ChatStream
from sogni_sync.chat._tools import (
    SogniTools,
    build_sogni_tools,
    hosted_tools_manifest,
    is_sogni_tool_call,
    parse_tool_call_arguments,
)
from sogni_sync.chat._types import (
    ChatChunk,
    ChatCompletion,
    ChatCostEstimate,
    ChatMessage,
    Choice,
    FunctionCall,
    HostedChatCompletion,
    LLMJobCost,
    LLMModel,
    ToolCall,
    ToolCallDelta,
    ToolExecutionResult,
    ToolProgress,
    ToolRound,
    Usage,
)

__all__ = [
    "ChatApi",
    "ChatChunk",
    "ChatCompletion",
    "ChatCostEstimate",
    "ChatMessage",
    "ChatRun",
    "ChatRunEvent",
    "ChatRunWaiting",
    "ChatRunsApi",
    "ChatStream",
    "ChatToolsApi",
    "Choice",
    "CostApproval",
    "CostApprovalPreview",
    "CostBreakdown",
    "FunctionCall",
    "HostedChatApi",
    "HostedChatCompletion",
    "HostedToolResult",
    "LLMJobCost",
    "LLMModel",
    "SogniTools",
    "ToolCall",
    "ToolCallDelta",
    "ToolExecutionResult",
    "ToolProgress",
    "ToolRound",
    "ToolSet",
    "Usage",
    "build_sogni_tools",
    "hosted_tools_manifest",
    "image_part",
    "image_part_from_bytes",
    "image_part_from_path",
    "is_sogni_tool_call",
    "parse_data_uri",
    "parse_tool_call_arguments",
    "sogni_tool_set",
    "text_part",
    "to_data_uri",
]
