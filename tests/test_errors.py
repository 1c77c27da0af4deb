"""The error tree: the hierarchy drawn at the top of ``sogni_sync.errors`` is the real one, and
every class in it is raised by a real situation (through the emulator or a unit), landing at
its documented place.

The drawing is parsed (each ``├──``/``└──`` level is a subclass of the line above it at the
previous level; ``(also X)`` names a further base), so docs and code cannot drift apart.
"""

from __future__ import annotations

import builtins
import re
import ssl
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses

import sogni_sync
from sogni_sync import Limits, Retries, SogniClient, errors
from sogni_sync._config import resolve_options
from sogni_sync._transport.rest import RestClient
from sogni_sync.testing import LocalSupernet

REST = "https://rest.example"
IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}
LLM = "qwen3.6-35b-a3b-gguf-iq4xs"
_LINE = re.compile(r"^(?P<lead>[│ ]*)(?:[├└]── )?(?P<name>[A-Za-z_][\w.]*)(?P<rest>.*)$")
_ALSO = re.compile(r"\(also (?P<names>[\w., ]+)\)")


def _resolve(name: str) -> type[BaseException]:
    if name.startswith("builtins."):
        cls = getattr(builtins, name.removeprefix("builtins."))
    else:
        cls = getattr(errors, name, None) or getattr(builtins, name)
    assert isinstance(cls, type) and issubclass(cls, BaseException), name
    return cls


def documented_tree() -> dict[str, tuple[type[BaseException], ...]]:
    """``{class name: its bases}`` as drawn in the module docstring."""
    doc = errors.__doc__ or ""
    block = doc.split("::\n", 1)[1].strip("\n").split("\n\n", 1)[0]  # the drawing
    tree: dict[str, tuple[type[BaseException], ...]] = {}
    parents: list[str] = []
    for raw in block.splitlines():
        line = raw.removeprefix("    ")
        match = _LINE.match(line)
        assert match, f"unparsable tree line: {raw!r}"
        depth = 0 if not match["lead"] and "──" not in line else len(match["lead"]) // 4 + 1
        name = match["name"]
        assert name not in tree, f"{name} drawn twice"
        del parents[depth:]
        also = _ALSO.search(match["rest"])
        extra = tuple(_resolve(n.strip()) for n in also["names"].split(",")) if also else ()
        primary = (_resolve(parents[-1]),) if parents else (Exception,)
        tree[name] = primary + extra
        parents.append(name)
    return tree


def test_the_drawn_tree_is_the_class_tree() -> None:
    tree = documented_tree()
    assert next(iter(tree)) == "SogniError" and len(tree) > 20
    for name, bases in tree.items():
        assert getattr(errors, name).__bases__ == bases, name
    public = {n for n in errors.__all__ if isinstance(getattr(errors, n), type)}
    assert set(tree) == public  # every exported class is drawn, and only those


def test_old_names_are_deprecated_aliases_of_the_same_classes() -> None:
    for old, new in (("ProjectFailed", errors.ProjectFailedError),
                     ("ProjectCanceled", errors.ProjectCanceledError)):
        for module in (errors, sogni_sync):
            with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
                assert getattr(module, old) is new
        assert old not in errors.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError):
            errors.NoSuchError  # type: ignore[attr-defined]  # noqa: B018


# -- situations: each provokes one class for real and returns what was raised --------------------


def _rest(**kw: Any) -> RestClient:
    class Creds:
        is_authenticated = True

        def rest_headers(self) -> dict[str, str]:
            return {"Authorization": "t"}

        def socket_headers(self) -> list[str]:
            return []

        def prepare_connect(self, timeout: float) -> None:
            return None

        def handle_unauthorized(self) -> bool:
            return False

    opts = resolve_options(app_id="a", rest_endpoint=REST, socket_endpoint="wss://s.example",
                           **{"retries": Retries(attempts=1), **kw})
    return RestClient(opts, credentials=Creds())


def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except errors.SogniError as exc:
        return exc
    raise AssertionError("nothing was raised")


def _rest_answer(method: str, **answer: Any) -> BaseException:
    """What a RestClient raises for this answer of a (mocked) Sogni host."""
    with responses.RequestsMock() as mock:
        mock.add(method.upper(), REST + "/v1/x", **answer)
        return _raised(lambda: _rest().request(method.upper(), "/v1/x"))


Make = Callable[..., SogniClient]


@pytest.fixture
def make(net: LocalSupernet) -> Iterator[Make]:
    """Clients bound to the emulator (``anonymous=True``: no API key); all closed after."""
    made: list[SogniClient] = []

    def build(anonymous: bool = False, **kw: Any) -> SogniClient:
        params: dict[str, Any] = {"app_id": f"errors-{uuid.uuid4()}",
                                  "rest_endpoint": net.rest_url,
                                  "socket_endpoint": net.socket_url,
                                  "retries": Retries(reconnect_base_delay=0.02,
                                                             reconnect_max_delay=0.05)}
        if not anonymous:
            params["api_key"] = net.api_key
        client = SogniClient(**{**params, **kw})
        made.append(client)
        return client

    try:
        yield build
    finally:
        for client in made:
            client.close()


def validation(make: Make, net: LocalSupernet) -> BaseException:
    client = make()
    return _raised(lambda: client.projects.create(**{**IMAGE, "steps": -1},
                                                  positive_prompt="x"))


def wrong_password(make: Make, net: LocalSupernet) -> BaseException:
    """A local check of the password against the signed-in wallet, before any transfer."""
    client = make(anonymous=True, disable_socket=True)
    client.account.login(net.username, net.password)
    client.account.me()
    before = len(net.rest_calls)
    exc = _raised(lambda: client.account.withdraw("not-the-password", 1))
    assert not [c for c in net.rest_calls[before:] if "withdraw" in c.path]
    return exc


def funds_rest(make: Make, net: LocalSupernet) -> BaseException:
    exc = _rest_answer("post", status=400,
                       json={"status": "error", "message": "poor", "errorCode": 123})
    assert isinstance(exc, errors.ApiError) and (exc.status, exc.error_code) == (400, 123)
    return exc


def funds_project(make: Make, net: LocalSupernet) -> BaseException:
    net.set_balance("spark", 0)
    net.set_balance("sogni", 0)
    project = make().projects.create(**IMAGE, positive_prompt="x")
    exc = _raised(lambda: project.wait(20))
    assert isinstance(exc, errors.ProjectFailedError) and exc.error.code == 123
    return exc


def funds_chat(make: Make, net: LocalSupernet) -> BaseException:
    net.set_balance("spark", 0)
    net.set_balance("sogni", 0)
    client = make()
    exc = _raised(lambda: client.chat.complete(LLM, [{"role": "user", "content": "hi"}],
                                               timeout=20))
    assert isinstance(exc, errors.ChatError) and exc.code == "insufficientFunds"
    return exc


def api_error(make: Make, net: LocalSupernet) -> BaseException:
    return _rest_answer("get", status=418, body="<html>teapot</html>")


def authentication(make: Make, net: LocalSupernet) -> BaseException:
    client = make(anonymous=True, disable_socket=True)
    return _raised(lambda: client.account.login(net.username, "not-the-password"))


def not_found(make: Make, net: LocalSupernet) -> BaseException:
    client = make(disable_socket=True)
    return _raised(lambda: client.creative_workflows.get(str(uuid.uuid4())))


def rate_limited(make: Make, net: LocalSupernet) -> BaseException:
    return _rest_answer("get", status=429, json={"message": "slow down"},
                        headers={"Retry-After": "50"})


def server_error(make: Make, net: LocalSupernet) -> BaseException:
    return _rest_answer("post", status=503, json={"message": "down"})


def unexpected_response(make: Make, net: LocalSupernet) -> BaseException:
    return _rest_answer("get", status=200, body="not json")


def connection_lost(make: Make, net: LocalSupernet) -> BaseException:
    return _rest_answer("post", body=requests.exceptions.ChunkedEncodingError("reset"))


def taken_over(make: Make, net: LocalSupernet) -> BaseException:
    first = make()
    first.connect(timeout=5)
    make(app_id=first.app_id).connect(timeout=5)
    return _raised(lambda: [first.projects.create(**IMAGE, positive_prompt="x").wait(5)
                            for _ in range(50)])


def request_lost(make: Make, net: LocalSupernet) -> BaseException:
    net.faults.forget_next("jobRequest")
    client = make()
    project = client.projects.create(**IMAGE, positive_prompt="x")
    # what the transport reports when a written request's fate is unknown after a drop
    client._transport._emit_connection("request_lost", {
        "request_id": project.id, "type": "jobRequest",
        "error": errors.RequestLostError("lost")})
    return _raised(lambda: project.wait(5))


def tls(make: Make, net: LocalSupernet) -> BaseException:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "self-signed certificate"
    return _rest_answer("get", body=requests.exceptions.SSLError(cert))


def client_closed(make: Make, net: LocalSupernet) -> BaseException:
    client = make()
    client.close()
    return _raised(lambda: client.projects.create(**IMAGE, positive_prompt="x"))


def timed_out(make: Make, net: LocalSupernet) -> BaseException:
    net.options.step_delay = 0.5
    project = make().projects.create(**IMAGE, positive_prompt="x")
    return _raised(lambda: project.wait(0.05))


def outbox_full(make: Make, net: LocalSupernet) -> BaseException:
    net.faults.delay(30, types="authenticated")
    client = make(limits=Limits(outbox_requests=1))
    transport = client._transport
    blocked = threading.Thread(target=_raised, args=(lambda: transport.send("a", {}, timeout=5),))
    blocked.start()  # waits for the delayed authentication, holding the one outbox slot
    for _ in range(100):
        if len(transport._delivery.outbox) == 1:
            break
        transport.closing.wait(0.05)
    try:
        return _raised(lambda: transport.send("b", {}, timeout=5))
    finally:
        client.close()  # releases the blocked send (ClientClosedError)
        blocked.join(5)


def project_failed(make: Make, net: LocalSupernet) -> BaseException:
    project = make().projects.create(**IMAGE, positive_prompt="a red apple [[fail]]")
    return _raised(lambda: project.wait(20))


def project_canceled(make: Make, net: LocalSupernet) -> BaseException:
    net.options.step_delay = 0.5
    project = make().projects.create(**IMAGE, positive_prompt="x")
    project.cancel()
    return _raised(lambda: project.wait(5))


def project_not_found(make: Make, net: LocalSupernet) -> BaseException:
    return _raised(lambda: make().projects.recover(str(uuid.uuid4())))


def chat_error(make: Make, net: LocalSupernet) -> BaseException:
    client = make()
    return _raised(lambda: client.chat.complete(LLM, [{"role": "user", "content": "[[fail]]"}],
                                                timeout=20))


def missing_dependency(make: Make, net: LocalSupernet) -> BaseException:
    saved = sys.modules.get("eth_account")
    sys.modules["eth_account"] = None  # type: ignore[assignment]
    try:
        client = make(anonymous=True, disable_socket=True)
        return _raised(lambda: client.account.login("u", "p"))
    finally:
        if saved is None:
            sys.modules.pop("eth_account", None)
        else:
            sys.modules["eth_account"] = saved


SITUATIONS: dict[str, Callable[[Make, LocalSupernet], BaseException]] = {
    "ValidationError": validation,
    "InsufficientFundsApiError": funds_rest,
    "InsufficientFundsProjectError": funds_project,
    "InsufficientFundsChatError": funds_chat,
    "ApiError": api_error,
    "AuthenticationError": authentication,
    "NotFoundError": not_found,
    "RateLimitError": rate_limited,
    "ServerError": server_error,
    "UnexpectedResponseError": unexpected_response,
    "ConnectionLostError": connection_lost,
    "ConnectionTakenOverError": taken_over,
    "RequestLostError": request_lost,
    "TLSError": tls,
    "ClientClosedError": client_closed,
    "TimeoutError": timed_out,
    "OutboxFullError": outbox_full,
    "ProjectFailedError": project_failed,
    "ProjectCanceledError": project_canceled,
    "ProjectNotFoundError": project_not_found,
    "ChatError": chat_error,
    "MissingDependencyError": missing_dependency,
}
#: drawn as parents only: raised as one of their subclasses
ABSTRACT = {"SogniError", "InsufficientFundsError", "ProjectError"}


def test_every_drawn_class_has_a_situation() -> None:
    assert set(SITUATIONS) | ABSTRACT == set(documented_tree())
    assert not ABSTRACT & set(SITUATIONS)


def _ancestors(name: str, tree: dict[str, tuple[type[BaseException], ...]]
               ) -> Iterator[type[BaseException]]:
    for base in tree[name]:
        yield base
        if base.__name__ in tree and base.__module__ == errors.__name__:
            yield from _ancestors(base.__name__, tree)


@pytest.mark.parametrize("name", list(SITUATIONS))
def test_each_class_is_raised_at_its_drawn_place(
        name: str, make: Make, net: LocalSupernet) -> None:
    exc = SITUATIONS[name](make, net)
    assert type(exc) is getattr(errors, name), repr(exc)
    for ancestor in _ancestors(name, documented_tree()):
        assert isinstance(exc, ancestor), (name, ancestor)
    assert str(exc)


def test_a_wrong_password_is_a_local_validation_error(
        make: Make, net: LocalSupernet) -> None:
    exc = wrong_password(make, net)
    assert type(exc) is errors.ValidationError and "Incorrect password" in str(exc)


def test_insufficient_funds_is_caught_by_one_name_wherever_it_shows(
        make: Make, net: LocalSupernet) -> None:
    for situation, origin in ((funds_rest, errors.ApiError),
                              (funds_project, errors.ProjectFailedError),
                              (funds_chat, errors.ChatError)):
        exc = situation(make, net)
        assert isinstance(exc, errors.InsufficientFundsError) and isinstance(exc, origin)


_HI = [{"role": "user", "content": "hi"}]
#: (method, path on the REST or socket host, a 2xx body of the wrong shape, the call)
MALFORMED: dict[str, tuple[str, str | re.Pattern[str], Any, Callable[[SogniClient], Any]]] = {
    "models list": ("GET", "https://sock.example/api/v1/models/list", {"data": {"a": 1}},
                    lambda c: c.catalog.supported_models()),
    "size presets": ("GET", "https://sock.example/api/v1/size-presets/network/fast/model/m",
                     {"data": {"a": 1}}, lambda c: c.catalog.size_presets("fast", "m")),
    "chat estimate": ("GET", re.compile(r"https://sock\.example/api/v1/job-llm/estimate/.*"),
                      {"data": {"cost": 1}},
                      lambda c: c.chat.estimate_cost(LLM, _HI, max_tokens=5)),
    "hosted chat": ("POST", REST + "/v1/chat/completions", {"id": "x"},
                    lambda c: c.chat.hosted.create(LLM, _HI)),
    "creative workflow": ("GET", REST + "/v1/creative-agent/workflows/w1", {"data": {}},
                          lambda c: c.creative_workflows.get("w1")),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_answer_is_one_unexpected_response_error(case: str) -> None:
    method, url, body, call = MALFORMED[case]
    client = SogniClient(app_id=f"errors-{uuid.uuid4()}", api_key="k", rest_endpoint=REST,
                         socket_endpoint="wss://sock.example", disable_socket=True)
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(method, url, json=body)
            with pytest.raises(errors.UnexpectedResponseError) as info:
                call(client)
        assert info.value.status == 200 and info.value.path.startswith("/")
    finally:
        client.close()
