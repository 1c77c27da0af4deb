"""The endpoints, sharing ONE process-wide client built when this module is imported.

``POST /image {"prompt"}`` -> ``{"project_id", "urls"}``; ``POST /chat {"messages"}`` ->
``{"content", ...}``; ``POST /chat/stream {"messages"}`` -> ``text/event-stream``;
``GET /health``. The client closes at process exit (``atexit``, see ``_web.process_client``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from _web import (
    BadRequest,
    answer_chat,
    error_status,
    identity,
    make_image,
    open_sse,
    parse_json,
    process_client,
)
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)

from sogni_sync.errors import SogniError

client = process_client()

View = Callable[[HttpRequest], HttpResponse]


def endpoint(method: str) -> Callable[[View], View]:
    """Allow one HTTP method; answer bad input and SDK errors as ``{"error", "type"}`` with a
    fitting status (see ``_web.error_status``)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            if request.method != method:
                return HttpResponseNotAllowed([method])
            try:
                return view(request)
            except (BadRequest, SogniError) as exc:
                return JsonResponse({"error": str(exc), "type": type(exc).__name__},
                                    status=error_status(exc))

        return wrapper

    return decorate


@endpoint("POST")
def image(request: HttpRequest) -> HttpResponse:
    return JsonResponse(make_image(client, parse_json(request.body)))


@endpoint("POST")
def chat(request: HttpRequest) -> HttpResponse:
    return JsonResponse(answer_chat(client, parse_json(request.body)))


@endpoint("POST")
def chat_stream(request: HttpRequest) -> HttpResponse:
    events = open_sse(client, parse_json(request.body))  # sent before the response starts
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    return response


@endpoint("GET")
def health(request: HttpRequest) -> HttpResponse:
    return JsonResponse(identity(client))
