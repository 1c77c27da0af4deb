"""``client.chat``: LLM chat over the socket (``llmJobRequest``), models, estimates, tool loop.

Socket handlers only fold events into per-job state under ``transport.lock`` and wake that
job's waiter; listeners run on the dispatcher thread. ``complete()`` therefore returns the
moment ``llmJobResult`` is read, from any number of caller threads at once.

A recoverable drop does not end a job (as in the reference clients since 5.43): the server keeps
it for the returning app id and sends its later frames on the new connection. The job waits for
the next ``authenticated``: listed in ``activeLLMJobIDs`` it goes on, not listed it failed on the
server's side (:class:`~sogni_sync.errors.ConnectionLostError`, send it again); a server that
lists nothing gets the grace period (``_job.TRANSPORT_GRACE``), which any frame of the job ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from sogni_sync._convert import converter, structure
from sogni_sync._sync import Deadline, wait_for
from sogni_sync._transport import ChatTransport, quote_segment
from sogni_sync.chat import _request as rq
from sogni_sync.chat._executor import ChatToolsApi, ToolHandler
from sogni_sync.chat._hosted import HostedChatApi
from sogni_sync.chat._job import TRANSPORT_GRACE, ChatJob, chunk_from_wire
from sogni_sync.chat._media import normalize_messages
from sogni_sync.chat._runs import ChatRunsApi
from sogni_sync.chat._stream import ChatStream
from sogni_sync.chat._types import (
    ChatCompletion,
    ChatCostEstimate,
    LLMModel,
    ToolCall,
    ToolProgress,
    ToolRound,
)
from sogni_sync.errors import (
    ChatError,
    ClientClosedError,
    ConnectionLostError,
    InsufficientFundsChatError,
    TimeoutError,
    UnexpectedResponseError,
    ValidationError,
)

if TYPE_CHECKING:
    from sogni_sync.catalog import Catalog
    from sogni_sync.projects import ProjectsApi

__all__ = ["DEFAULT_TIMEOUT", "ChatApi"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0
DEFAULT_MAX_TOOL_ROUNDS = 5
EVENTS = ("token", "completed", "error", "job_state", "models_updated")
STREAM_AUTO_TOOLS = (
    "autoExecuteTools is not supported with stream: true. Use chat.tools.executeAll() manually "
    "in your streaming loop instead."
)


def _seconds(value: float) -> str:
    return f"{value:g}"


class ChatApi:
    """LLM chat on the Sogni Supernet (``client.chat``).

    ``complete()`` blocks until the answer; ``stream()`` yields chunks as they arrive;
    ``tools`` executes Sogni media tools through the projects API; ``hosted`` calls the REST
    chat endpoint with server-side tools.
    """

    def __init__(self, transport: ChatTransport, projects: ProjectsApi | None = None,
                 catalog: Catalog | None = None) -> None:
        self._transport = transport
        self._lock: threading.RLock = transport.lock
        self._jobs: dict[str, ChatJob] = {}
        self._written: set[str] = set()  # ids whose send() returned (pruned on reconnect)
        self._models: dict[str, LLMModel] = {}
        self._models_cond = threading.Condition(self._lock)
        self._models_version = 0
        self._listeners: dict[str, list[Callable[[Any], None]]] = {e: [] for e in EVENTS}
        #: seconds a job in flight at a drop may wait for the server's word on it
        self.transport_grace = TRANSPORT_GRACE
        self.tools = ChatToolsApi(projects, catalog)
        self.hosted = HostedChatApi(transport)
        self.runs = ChatRunsApi(transport)
        transport.subscribe("jobState", self._on_job_state)
        transport.subscribe("jobTokens", self._on_tokens)
        transport.subscribe("llmJobResult", self._on_result)
        transport.subscribe("llmJobError", self._on_error)
        # Built after the socket authenticated, the model map already went by: the transport
        # replays the last one.
        transport.subscribe("swarmLLMModels", self._on_models, replay_last=True)
        transport.on_connection(self._on_connection)
        # A chat request in doubt after a reconnect is confirmed only by this listing; the
        # server cannot be asked about others, so they are reported lost, never re-sent (it
        # lists only the jobs it still runs: one that finished meanwhile is lost as well).
        transport.track("llmJobRequest", named_by="jobID", listed_in=("activeLLMJobIDs",))

    # -- public API ------------------------------------------------------------------------

    def complete(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        min_p: float | None = None,
        repetition_penalty: float | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        stop: str | Sequence[str] | None = None,
        token_type: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        think: bool | None = None,
        task_profile: str | None = None,
        sogni_tools: bool | str | None = None,
        sogni_tool_execution: bool | None = None,
        app_source: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        auto_execute_tools: bool = False,
        tool_handlers: Mapping[str, ToolHandler] | None = None,
        on_tool_call: Callable[[ToolCall], Any] | None = None,
        on_tool_progress: Callable[[ToolCall, ToolProgress], None] | None = None,
        max_tool_rounds: int | None = None,
    ) -> ChatCompletion:
        """Send one chat request and block until its :class:`ChatCompletion`.

        Sampling options (``max_tokens`` ... ``stop``) are forwarded verbatim; unset ones are not
        sent, so the server's defaults apply. ``think`` (True/False) and ``task_profile``
        (``general``/``coding``/``reasoning``) select the server's sampling preset
        (``LLMModel.sampling_defaults`` shows its numbers); explicit sampling values win.
        ``response_format`` is ``{"type": "json_object"}`` or a ``json_schema`` spec; ``tools``
        and ``tool_choice`` follow OpenAI; ``token_type`` is ``sogni`` or ``spark``.

        With ``auto_execute_tools`` the model's tool calls are executed (Sogni tools as media
        projects, others through ``tool_handlers[name](arguments)`` or ``on_tool_call(call)``)
        and fed back, up to ``max_tool_rounds`` (default 5); the result carries ``tool_history``.

        Returns as soon as ``llmJobResult`` arrives. Raises ``ChatError``
        (``"<error>: <message>"``), ``TimeoutError`` after ``timeout`` seconds (default 300,
        per request; ``None`` waits forever), ``ValidationError`` before anything is sent.
        """
        # the request-option keywords above that were set (read before any other local exists)
        request = self._prepare(model, messages, rq.given_options(locals()))
        if not auto_execute_tools:
            return self._run(request, timeout)
        return self._tool_loop(
            request,
            timeout,
            tool_handlers=tool_handlers,
            on_tool_call=on_tool_call,
            on_tool_progress=on_tool_progress,
            max_rounds=max_tool_rounds,
        )

    def stream(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        min_p: float | None = None,
        repetition_penalty: float | None = None,
        frequency_penalty: float | None = None,
        presence_penalty: float | None = None,
        stop: str | Sequence[str] | None = None,
        token_type: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        think: bool | None = None,
        task_profile: str | None = None,
        sogni_tools: bool | str | None = None,
        sogni_tool_execution: bool | None = None,
        app_source: str | None = None,
        timeout: float | None = None,
        auto_execute_tools: bool = False,
    ) -> ChatStream:
        """Send one chat request with ``stream: true`` and return its :class:`ChatStream`
        right after the send (iterate it, or use it as a context manager).

        Same options as :meth:`complete`. ``timeout`` bounds the whole stream (default ``None``:
        no limit, like the reference). Auto tool execution is refused (the reference's
        message) — run ``chat.tools.execute_all(stream.tool_calls)`` after the stream.
        """
        if auto_execute_tools:
            raise ValidationError(STREAM_AUTO_TOOLS)
        params = {**rq.given_options(locals()), "stream": True}
        request = self._prepare(model, messages, params)
        job = self._send(request, keep_chunks=True, deadline=Deadline(timeout))
        return ChatStream(job, timeout=timeout, on_close=self._close_stream)

    @property
    def models(self) -> dict[str, LLMModel]:
        """The LLM models the network offers now (from ``swarmLLMModels``), by id."""
        with self._lock:
            return dict(self._models)

    def wait_for_models(self, timeout: float | None = 10.0) -> dict[str, LLMModel]:
        """The LLM model map, waiting up to ``timeout`` seconds for a non-empty one.

        Connects if needed. Raises ``TimeoutError("Timeout waiting for LLM models")``.
        """
        deadline = Deadline(timeout)
        with self._lock:
            if self._models:
                return dict(self._models)
        self._transport.connect(timeout=deadline.remaining())
        with self._lock:
            if not wait_for(self._models_cond, lambda: bool(self._models), deadline):
                raise TimeoutError("Timeout waiting for LLM models")
            return dict(self._models)

    def estimate_cost(
        self,
        model: str,
        messages: Sequence[Any],
        *,
        max_tokens: int | None = None,
        token_type: str = "sogni",
        think: bool | None = None,
        task_profile: str | None = None,
        timeout: float | None = None,
    ) -> ChatCostEstimate:
        """Quote a request before sending it (``GET /api/v1/job-llm/estimate/...``).

        Input tokens follow the reference's formula (UTF-16 length of the compact message JSON,
        image URLs replaced by ``[image]``, divided by 4, rounded up); output tokens are
        ``max_tokens`` or the model's published default (``thinkingComplexDefault`` for
        ``think=True`` with ``coding``/``reasoning``), else 4096.
        """
        rq.validate_params(
            {"model": model, "messages": messages, "max_tokens": max_tokens,
             "token_type": token_type, "think": think, "task_profile": task_profile}
        )
        input_tokens = rq.count_input_tokens(messages)
        with self._lock:
            info = self._models.get(model)
        limits = info.max_output_tokens if info else None
        output_tokens = rq.estimate_max_output_tokens(
            max_tokens, think=think, task_profile=task_profile, model_limits=limits
        )
        segments = (token_type, model, str(input_tokens), _num(output_tokens))
        path = "/api/v1/job-llm/estimate/" + "/".join(quote_segment(s, "estimate path segment")
                                                    for s in segments)
        body = self._transport.rest.request("GET", path, host="socket", timeout=timeout)
        if not isinstance(body, Mapping) or not isinstance(body.get("quote"), Mapping):
            raise UnexpectedResponseError.expected(path, "{quote: {...}}", body)
        return structure(body, ChatCostEstimate, path)

    def on(self, event: str, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Listen to chat events; returns a function that removes the listener.

        Events: ``token`` (ChatChunk), ``completed`` (ChatCompletion), ``error`` (ChatError),
        ``job_state`` (dict), ``models_updated`` (dict of LLMModel). Callbacks run on the
        ``sogni-callbacks`` thread, never on the socket thread.
        """
        if event not in self._listeners:
            raise ValidationError(f"unknown chat event {event!r}; one of {', '.join(EVENTS)}")
        with self._lock:
            self._listeners[event].append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners[event]:
                    self._listeners[event].remove(callback)

        return remove

    # -- request plumbing ------------------------------------------------------------------

    def _prepare(
        self, model: str, messages: Sequence[Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        unknown = set(params) - rq.CHAT_PARAMS
        if unknown:
            raise ValidationError(f"unknown chat parameter(s): {', '.join(sorted(unknown))}")
        request = {"model": model, "messages": list(messages) if messages is not None else None,
                   **params}
        rq.validate_params(request)
        request["normalized"] = normalize_messages(request["messages"])
        return request

    def _body(self, job_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        default_source = self._transport.options.app_source
        return rq.build_llm_job_request(
            job_id, request, default_app_source=default_source, messages=request["normalized"]
        )

    def _send(
        self, request: Mapping[str, Any], *, keep_chunks: bool, deadline: Deadline
    ) -> ChatJob:
        job_id = rq.new_job_id()
        body = self._body(job_id, request)
        job = ChatJob(job_id, request["model"], self._lock, keep_chunks=keep_chunks,
                      defer=self._transport.defer_wake, on_lapse=self._lapsed)
        with self._lock:
            if self._transport.closing.is_set():
                raise ClientClosedError("the client is closed")
            self._jobs[job_id] = job  # registered before sending: no event can outrun it
        try:
            # the socket wait counts against the caller's budget (transport default if none)
            self._transport.send("llmJobRequest", body, request_id=job_id,
                                 timeout=deadline.remaining())
        except BaseException:
            with self._lock:
                self._jobs.pop(job_id, None)
            raise
        with self._lock:
            self._written.add(job_id)
            if len(self._written) > 2 * len(self._jobs) + 64:
                self._written &= self._jobs.keys()
        return job

    def _run(self, request: Mapping[str, Any], timeout: float | None) -> ChatCompletion:
        deadline = Deadline(timeout)
        job = self._send(request, keep_chunks=False, deadline=deadline)
        if not job.wait_done(deadline):
            with self._lock:
                self._jobs.pop(job.job_id, None)
                job.fail(TimeoutError(  # unless the result came just now
                    f"Chat completion timed out after {_seconds(timeout or 0)}s "
                    f"(jobID: {job.job_id})"
                ))
        # done: the outcome is final, readable without the lock
        if job.error is not None:
            raise job.error
        assert job.final is not None
        return job.final

    def _close_stream(self, job: ChatJob) -> None:
        with self._lock:
            if not job.done:
                job.detach()
            self._jobs.pop(job.job_id, None)

    def _tool_loop(
        self,
        request: dict[str, Any],
        timeout: float | None,
        *,
        tool_handlers: Mapping[str, ToolHandler] | None,
        on_tool_call: Callable[[ToolCall], Any] | None,
        on_tool_progress: Callable[[ToolCall, ToolProgress], None] | None,
        max_rounds: int | None,
    ) -> ChatCompletion:
        rounds = max_rounds or DEFAULT_MAX_TOOL_ROUNDS
        messages: list[Any] = list(request["messages"])
        history: list[ToolRound] = []
        for index in range(max(0, rounds)):
            round_request = {**request, "messages": messages, "stream": False}
            round_request["normalized"] = normalize_messages(messages)
            result = self._run(round_request, timeout)
            if result.finish_reason != "tool_calls" or not result.tool_calls:
                if history:
                    return _with_history(result, history)
                return result
            results = self.tools.execute_all(
                result.tool_calls,
                token_type=request.get("token_type"),
                tool_handlers=tool_handlers,
                on_tool_call=on_tool_call,
                on_tool_progress=on_tool_progress,
            )
            history.append(ToolRound(index, result.tool_calls, tuple(results)))
            messages = [
                *messages,
                result.to_message(),
                *(r.to_message() for r in results),
            ]
        raise ChatError(f"Max tool calling rounds ({rounds}) exceeded", code="maxToolRounds")

    # -- socket handlers (socket thread; lock held briefly, no I/O, no user code) -----------

    def _emit(self, event: str, value: Any) -> None:
        for callback in self._listeners[event]:
            self._transport.dispatch(callback, value)

    def _on_job_state(self, payload: Any) -> None:
        if not isinstance(payload, Mapping):
            return
        with self._lock:
            job = self._jobs.get(str(payload.get("jobID") or ""))
            if job is None:
                return
            job.confirm()  # a frame of the job: the server still runs it
            job.note_worker(payload.get("workerName"))
            if self._listeners["job_state"]:
                keys = ("jobID", "type", "workerName", "queuePosition", "modelId", "estimatedCost")
                self._emit("job_state", {k: payload.get(k) for k in keys})

    def _on_tokens(self, payload: Any) -> None:
        # the hottest handler (one call per token): a dict is checked before the ABC
        if not isinstance(payload, dict) and not isinstance(payload, Mapping):
            return
        with self._lock:
            job = self._jobs.get(str(payload.get("jobID") or ""))
            if job is None:
                return
            if not self._listeners["token"]:
                job.fold_wire(payload)  # the reader builds the chunk, if there is one
                return
            chunk = chunk_from_wire(payload)
            if job.fold(chunk):
                self._emit("token", chunk)

    def _on_result(self, payload: Any) -> None:
        if not isinstance(payload, Mapping):
            return
        with self._lock:
            job = self._jobs.pop(str(payload.get("jobID") or ""), None)
            if job is None:
                return
            ended = job.done
            final = job.complete(payload)
            if final is not None:
                self._emit("completed", final)
            elif not ended and job.error is not None:  # frames lost in a drop: incomplete
                self._emit("error", job.error)

    def _on_error(self, payload: Any) -> None:
        if not isinstance(payload, Mapping):
            return
        with self._lock:
            job = self._jobs.pop(str(payload.get("jobID") or ""), None)
            if job is None:
                return
            job.note_worker(payload.get("workerName"))
            code = str(payload.get("error"))
            message = payload.get("error_message") or code
            # A stream raises the bare message; complete() the "<error>: <message>" form.
            text = message if job.keep_chunks else f"{code}: {message}"
            kind = InsufficientFundsChatError if code == "insufficientFunds" else ChatError
            error = kind(text, code=payload.get("error_code") or code, job_id=job.job_id)
            if job.fail(error):
                self._emit("error", error)

    def _on_models(self, payload: Any) -> None:
        if not isinstance(payload, Mapping):
            return
        models = converter.structure(payload, dict[str, LLMModel])
        with self._lock:
            self._models = models
            self._models_version += 1
            self._models_cond.notify_all()
            self._emit("models_updated", dict(models))

    def _on_connection(self, kind: str, info: Any) -> None:
        if kind == "authenticated" and isinstance(info, Mapping):
            self._after_reconnect(info)
        elif kind == "request_confirmed" and isinstance(info, Mapping):
            with self._lock:
                job = self._jobs.get(str(info.get("request_id") or ""))
                if job is not None and info.get("listed"):
                    job.confirm()
        elif kind == "request_lost" and isinstance(info, Mapping):
            with self._lock:
                job = self._jobs.pop(str(info.get("request_id") or ""), None)
                if job is not None:
                    error = info.get("error")
                    job.fail(error if isinstance(error, BaseException)
                             else ConnectionLostError("the chat request was lost"))
        elif kind == "closing":
            self._fail_all(lambda: ClientClosedError("the client was closed"))
        elif kind == "disconnected" and isinstance(info, Mapping) and info.get("terminal"):
            reason = info.get("reason") or "Server disconnected"
            code = info.get("code")
            self._fail_all(lambda: ConnectionLostError(str(reason), code=code, reason=str(reason)))
        elif kind == "disconnected" and isinstance(info, Mapping):
            self._interrupt(frames_lost=info.get("code") is None)

    def _interrupt(self, *, frames_lost: bool) -> None:
        """A recoverable drop under chat jobs the server may be answering: each waits for the
        next session's word on it (``frames_lost``: no close frame, so frames in flight may be
        gone, and the reply is checked at its end). Requests that provably never left stay
        queued for the next connection."""
        with self._lock:
            self._prune()
            for job_id, job in self._jobs.items():
                if job_id in self._written or self._transport.in_doubt(job_id):
                    job.interrupt(frames_lost=frames_lost, grace=self.transport_grace)

    def _after_reconnect(self, payload: Mapping[str, Any]) -> None:
        """A new session lists the chat jobs the server still runs for us: those go on. A job
        it had (the transport no longer holds its request) that it does not list ended while
        the connection was down (or the server restarted); its reply went to the dead
        connection and never comes: fail it now, not at its timeout."""
        active = payload.get("activeLLMJobIDs")
        if not isinstance(active, list):
            return  # a server without recovery says nothing either way: the grace decides
        listed = {item.upper() for item in active if isinstance(item, str)}
        with self._lock:
            self._prune()
            for job_id in list(self._written):
                job = self._jobs[job_id]
                if job_id.upper() in listed:
                    job.confirm()
                elif not self._transport.awaiting(job_id):
                    self._written.discard(job_id)
                    del self._jobs[job_id]
                    job.fail(ConnectionLostError(
                        f"the reply to chat job {job_id} was lost in a disconnect: the "
                        "Supernet no longer runs it (it finished while the connection was "
                        "down, or the server restarted) and keeps no finished chat jobs; "
                        "send it again", reason="transport_lost"))

    def _lapsed(self, job: ChatJob) -> None:
        """Lock held (a waiting caller's thread): nobody confirmed ``job`` after a drop."""
        if self._jobs.get(job.job_id) is job:
            del self._jobs[job.job_id]
        if job.error is not None:
            self._emit("error", job.error)

    def _prune(self) -> None:
        """Lock held: forget jobs that ended without an event (a lapsed grace period)."""
        for job_id in [k for k, job in self._jobs.items() if job.done]:
            del self._jobs[job_id]
        self._written &= self._jobs.keys()

    def _fail_all(self, make_error: Callable[[], BaseException]) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
            for job in jobs:
                job.fail(make_error())
            self._models_cond.notify_all()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _with_history(result: ChatCompletion, history: list[ToolRound]) -> ChatCompletion:
    return attrs.evolve(result, tool_history=tuple(history))

