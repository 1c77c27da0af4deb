"""``client.chat.tools``: turn tool calls into results (Sogni media projects or your functions).

A Sogni tool call becomes an ordinary media project through the projects API (model routing and
defaults from ``tools.build_project_params``); the project's result URLs go back to the model as
the tool message. Failures become error results the model can read, as in the reference.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sogni_sync._sync import Deadline
from sogni_sync.chat import _tools as sogni_tools
from sogni_sync.chat._hosted_tools import (
    DIRECT_DISPATCH,
    ToolSet,
    seed_arguments,
    sogni_tool_set,
)
from sogni_sync.chat._types import ToolCall, ToolExecutionResult, ToolProgress, coerce_tool_call
from sogni_sync.errors import ClientClosedError, SogniError, TimeoutError, ValidationError

if TYPE_CHECKING:
    from sogni_sync.catalog import Catalog
    from sogni_sync.projects import ProjectsApi

__all__ = ["DEFAULT_TOOL_TIMEOUT", "MAX_SOGNI_CALLS_PER_ROUND", "ChatToolsApi", "ToolHandler"]

log = logging.getLogger(__name__)

DEFAULT_TOOL_TIMEOUT = 1800.0
MAX_SOGNI_CALLS_PER_ROUND = 8
MODELS_TIMEOUT = 10.0

ToolHandler = Callable[[Any], Any]
ProgressCallback = Callable[[ToolProgress], None]


def _error_result(call: ToolCall, error: str) -> ToolExecutionResult:
    return ToolExecutionResult(
        tool_call_id=call.id,
        tool_name=call.name,
        success=False,
        content=json.dumps({"success": False, "error": error}, separators=(",", ":"),
                           ensure_ascii=False),
        error=error,
    )


def _content_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class ChatToolsApi:
    """Execute tool calls: ``execute`` for one Sogni call, ``execute_all`` for a round."""

    def __init__(self, projects: ProjectsApi | None = None, catalog: Catalog | None = None) -> None:
        self._projects = projects
        self._catalog = catalog  # the client's catalogue: which media models are online

    def definitions(self, tool_set: ToolSet = "seed") -> list[dict[str, Any]]:
        """The seed's six Sogni tool definitions with ``model`` enums narrowed to the media
        models online now (``SogniTools.all`` when none are known yet); ``tool_set="current"``
        gives the current 30-tool set as published (the reference no longer narrows it)."""
        if tool_set != "seed":
            return sogni_tool_set(tool_set)
        models = self._catalog.available_models if self._catalog else None
        return sogni_tools.build_sogni_tools(list(models or ()))

    def execute(
        self,
        tool_call: ToolCall | Mapping[str, Any],
        *,
        token_type: str | None = None,
        network: str | None = None,
        number_of_media: int | None = None,
        timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        media_context: Mapping[str, Any] | None = None,
    ) -> ToolExecutionResult:
        """Run one Sogni tool call as a media project and wait for its results: a ``sogni_*``
        call or one of the current set's six media tools (``generate_image``...); the current
        set's other tools only run hosted and get an error result.

        Blocks up to ``timeout`` seconds (default 30 min). Bad arguments, unavailable models and
        failed projects come back as a result with ``success=False`` (the model can read it);
        only misuse raises: a non-Sogni call (``ValidationError``) or no projects API.
        ``on_progress(ToolProgress)`` runs on the calling thread. ``media_context``
        (``images``, ``videos``, ``audio``, ``uploaded_images``, ``uploaded_videos``,
        ``uploaded_audio``: lists of data URIs) is what the video tools'
        ``reference*Indices`` arguments pick from.
        """
        call = coerce_tool_call(tool_call)
        projects = self._projects
        if projects is None:
            raise SogniError("chat.tools needs the projects API; build the client with SogniClient")
        if not sogni_tools.is_sogni_tool_call(call):
            raise ValidationError(
                f"Not a Sogni tool call: {call.name}. Use is_sogni_tool_call() to check first."
            )
        name, args = call.name, call.parsed_arguments()
        if name not in DIRECT_DISPATCH and not name.startswith("sogni_"):
            return _error_result(call, f"Tool '{name}' must be executed via chat.hosted.create()"
                                       " or chat.runs.create().")
        try:
            if name in DIRECT_DISPATCH:  # the current set's six media tools run like the seed's
                name, args = seed_arguments(name, args if isinstance(args, dict) else {},
                                            media_context)
            sogni_tools.validate_tool_arguments(name, args)
            models = self._available_models()
            media, model_id, params = sogni_tools.build_project_params(
                name, args, models,
                number_of_media=number_of_media, token_type=token_type, network=network,
            )
            return self._run_project(projects, call, media, model_id, params, args.get("prompt"),
                                     timeout, on_progress)
        except ClientClosedError:
            raise
        except Exception as exc:
            if not isinstance(exc, (SogniError, OSError, ValueError)):
                log.exception("tool %s failed unexpectedly", call.name)
            return _error_result(call, sogni_tools.serialize_error(exc))

    def execute_all(
        self,
        tool_calls: Iterable[ToolCall | Mapping[str, Any]],
        *,
        token_type: str | None = None,
        network: str | None = None,
        number_of_media: int | None = None,
        timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        on_progress: ProgressCallback | None = None,
        on_tool_progress: Callable[[ToolCall, ToolProgress], None] | None = None,
        tool_handlers: Mapping[str, ToolHandler] | None = None,
        on_tool_call: Callable[[ToolCall], Any] | None = None,
        media_context: Mapping[str, Any] | None = None,
    ) -> list[ToolExecutionResult]:
        """Execute a round of calls in order, one result per call.

        Sogni calls run as projects (at most 8 per round, else ``ValidationError`` before any
        runs). Other calls go to ``tool_handlers[name](arguments)`` or ``on_tool_call(call)``;
        a non-string return value is sent to the model as JSON; an exception becomes an error
        result. A call nobody handles gets an error result.
        """
        calls = [coerce_tool_call(tc) for tc in tool_calls]
        # as the reference: only calls that run as projects count (not the hosted-only tools)
        count = sum(1 for c in calls if c.name.startswith("sogni_") or c.name in DIRECT_DISPATCH)
        if count > MAX_SOGNI_CALLS_PER_ROUND:
            raise ValidationError(
                f"Too many Sogni tool calls in a single round ({count}); "
                f"maximum is {MAX_SOGNI_CALLS_PER_ROUND}"
            )
        handlers = tool_handlers or {}
        results: list[ToolExecutionResult] = []
        for call in calls:
            if sogni_tools.is_sogni_tool_call(call) and call.name not in handlers:
                progress = on_progress
                if on_tool_progress is not None:
                    def progress(p: ToolProgress, _c: ToolCall = call) -> None:
                        on_tool_progress(_c, p)
                results.append(self.execute(
                    call, token_type=token_type, network=network,
                    number_of_media=number_of_media, timeout=timeout, on_progress=progress,
                    media_context=media_context,
                ))
                continue
            handler = handlers.get(call.name)
            try:
                if handler is not None:
                    content = _content_of(handler(call.parsed_arguments()))
                elif on_tool_call is not None:
                    content = _content_of(on_tool_call(call))
                else:
                    results.append(_error_result(
                        call,
                        f"No handler for non-Sogni tool: {call.name}. "
                        "Provide a tool_handlers entry or an on_tool_call callback.",
                    ))
                    continue
            except Exception as exc:
                results.append(_error_result(call, sogni_tools.serialize_error(exc)))
                continue
            results.append(ToolExecutionResult(call.id, call.name, True, (), content))
        return results

    # -- internals --------------------------------------------------------------------------

    def _available_models(self) -> list[dict[str, Any]]:
        """The online media models as ``{id, media, worker_count}`` (waits up to 10 s)."""
        try:
            models = self._catalog.wait_for_models(timeout=MODELS_TIMEOUT) if self._catalog else []
        except TimeoutError:
            raise TimeoutError("Timeout waiting for models")
        return [sogni_tools.as_model_mapping(m) for m in models or ()]

    def _run_project(
        self,
        projects: ProjectsApi,
        call: ToolCall,
        media: str,
        model_id: str,
        params: dict[str, Any],
        prompt: Any,
        timeout: float | None,
        on_progress: ProgressCallback | None,
    ) -> ToolExecutionResult:
        def report(status: str, percent: float, urls: tuple[str, ...] = ()) -> None:
            if on_progress is not None:
                try:
                    on_progress(ToolProgress(status, percent, urls))
                except Exception:
                    log.exception("tool progress callback failed")

        report("creating", 0)
        project = projects.create(**params)
        report("queued", 0)
        total = params.get("number_of_media") or 1
        deadline = Deadline(timeout)
        try:
            if on_progress is not None:
                self._follow(project, deadline, total, report)
            urls = tuple(project.wait(timeout=deadline.remaining()))
        except TimeoutError:
            self._cancel(project)
            report("failed", 0)
            done, failed = _job_counts(project)
            raise TimeoutError(
                f"{media} generation timed out after {math.floor((timeout or 0) + 0.5)}s "
                f"(project: {project.id}, jobs: {done}/{total} completed, {failed} failed). "
                "Increase the timeout option or check network worker availability."
            )
        except BaseException:
            self._cancel(project)
            report("failed", 0)
            raise
        report("completed", 100, urls)
        content = json.dumps(
            {"success": True, "media_type": media, "urls": list(urls), "model": model_id,
             "prompt": prompt},
            separators=(",", ":"), ensure_ascii=False,
        )
        return ToolExecutionResult(call.id, call.name, True, urls, content)

    @staticmethod
    def _follow(
        project: Any, deadline: Deadline, total: int,
        report: Callable[[str, float], None],
    ) -> None:
        """Relay project events as tool progress until the project ends (caller's thread)."""
        events = getattr(project, "events", None)
        if not callable(events):
            return
        completed = 0
        with events(timeout=deadline.remaining()) as stream:
            for event in stream:
                name = getattr(event, "name", "")
                if name == "progress":
                    pct = getattr(event, "project_progress", 0)
                    report("processing", pct if isinstance(pct, (int, float)) else 0)
                elif name == "job_completed":
                    completed += 1
                    report("processing", math.floor(completed / total * 100 + 0.5))
                if getattr(event, "terminal", False):
                    return

    @staticmethod
    def _cancel(project: Any) -> None:
        try:
            if not getattr(project, "done", lambda: False)():
                project.cancel()
        except Exception:
            log.debug("best-effort cancel of %s failed", getattr(project, "id", "?"))


def _job_counts(project: Any) -> tuple[int, int]:
    jobs = getattr(project, "jobs", None) or ()
    done = sum(1 for j in jobs if getattr(j, "status", None) == "completed")
    failed = sum(1 for j in jobs if getattr(j, "status", None) == "failed")
    return done, failed
