"""The one exception tree of sogni-sync.

::

    SogniError
    ├── ValidationError (also ValueError)     bad input, raised before any network I/O
    ├── InsufficientFundsError                the account cannot pay; catch this one, raised as:
    │   ├── InsufficientFundsApiError (also ApiError)          a REST call refused (errorCode 123)
    │   ├── InsufficientFundsProjectError (also ProjectFailedError) a job failed (code 123)
    │   └── InsufficientFundsChatError (also ChatError)        an LLM job failed (insufficientFunds)
    ├── ApiError(status, error_code, message, retry_after, details) a non-2xx answer
    │   ├── AuthenticationError               401 / socket close 4021 / bad credentials
    │   ├── NotFoundError                     404
    │   ├── RateLimitError                    429
    │   ├── ServerError                       5xx
    │   └── UnexpectedResponseError(path)     a 2xx answer whose body has the wrong shape
    ├── ConnectionLostError                   transport failed and could not recover
    │   ├── ConnectionTakenOverError          socket close 4015 (same app id elsewhere)
    │   ├── RequestLostError                  a request's fate is unknown after a drop
    │   └── TLSError                          TLS failed (certificate not verified); terminal
    ├── ClientClosedError                     the client was closed while a call waited
    ├── TimeoutError (also builtins.TimeoutError)
    ├── OutboxFullError                       too much unsent work; back off
    ├── ProjectError                          a project ended without results
    │   ├── ProjectFailedError(error)
    │   ├── ProjectCanceledError
    │   └── ProjectNotFoundError              recover(): the server does not know the id
    ├── ChatError(code, message)              an LLM job failed
    └── MissingDependencyError (also ImportError) an optional extra is not installed

A class with two parents is listed under its first and names the other in ``(also …)``, so
``except InsufficientFundsError`` catches a lack of balance wherever it shows, while
``except ApiError`` / ``except ProjectFailedError`` / ``except ChatError`` keep catching it where
it comes from. ``ProjectFailed`` and ``ProjectCanceled`` are deprecated aliases of
``ProjectFailedError`` and ``ProjectCanceledError`` (the same classes).
"""

from __future__ import annotations

import builtins
import warnings
from typing import TYPE_CHECKING, Any

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ChatError",
    "ClientClosedError",
    "ConnectionLostError",
    "ConnectionTakenOverError",
    "InsufficientFundsApiError",
    "InsufficientFundsChatError",
    "InsufficientFundsError",
    "InsufficientFundsProjectError",
    "MissingDependencyError",
    "NotFoundError",
    "OutboxFullError",
    "ProjectCanceledError",
    "ProjectError",
    "ProjectFailedError",
    "ProjectNotFoundError",
    "RateLimitError",
    "RequestLostError",
    "ServerError",
    "SogniError",
    "TLSError",
    "TimeoutError",
    "UnexpectedResponseError",
    "ValidationError",
]


class SogniError(Exception):
    """Base class of every error sogni-sync raises on purpose."""


class ValidationError(SogniError, ValueError):
    """Parameters were rejected locally; nothing was sent."""


class InsufficientFundsError(SogniError):
    """The account cannot pay for the requested work.

    Catch this one; it is raised as one of its subclasses, which also belong where the refusal
    came from: :class:`InsufficientFundsApiError` (a REST refusal, an :class:`ApiError`),
    :class:`InsufficientFundsProjectError` (a media job failed for lack of balance, a
    :class:`ProjectFailedError`) or :class:`InsufficientFundsChatError` (an LLM job, a
    :class:`ChatError`).
    """


class ApiError(SogniError):
    """A Sogni host answered with an error status.

    ``status`` is the HTTP status (0 for client-synthesised errors), ``error_code`` the server's
    numeric ``errorCode`` when it sent one, ``payload`` the parsed body. ``retry_after`` is how
    many seconds to wait before asking again when the server said so (the body's
    ``retryAfter``, else the ``Retry-After`` header; a 429, or a 503 while a host restarts), and
    ``details`` the structured context it attached (e.g. the counts behind a capacity refusal);
    both ``None`` when absent.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        error_code: int | None = None,
        payload: Any = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.payload = payload
        self.retry_after = retry_after
        self.details = details

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, error_code={self.error_code}, "
            f"message={self.message!r})"
        )


class AuthenticationError(ApiError):
    """Credentials were missing, wrong or expired and could not be refreshed."""


class NotFoundError(ApiError):
    """The resource does not exist (HTTP 404)."""


class RateLimitError(ApiError):
    """HTTP 429; ``retry_after`` is the server's hint in seconds, when given."""


class ServerError(ApiError):
    """HTTP 5xx from a Sogni host."""


class UnexpectedResponseError(ApiError):
    """A Sogni host answered with success, but the body is not what the API defines.

    ``path`` is the request path (no query), ``detail`` what was wrong; nothing is guessed
    from such an answer (an all-zero balance would be a silent lie).
    """

    def __init__(self, path: str, detail: str, *, status: int = 200, payload: Any = None) -> None:
        super().__init__(f"unexpected answer from {path}: {detail}", status=status,
                         payload=payload)
        self.path = path
        self.detail = detail

    @staticmethod
    def describe(data: Any) -> str:
        """A short description of an answer's shape for error messages (no values)."""
        if isinstance(data, dict):
            keys = ", ".join(sorted(map(str, data))[:8])
            return f"an object with keys [{keys}]" if keys else "an empty object"
        return "null" if data is None else f"a {type(data).__name__}"

    @classmethod
    def expected(cls, path: str, what: str, data: Any) -> UnexpectedResponseError:
        """``expected <what>, got <the shape of data>`` for the answer of ``path``."""
        return cls(path, f"expected {what}, got {cls.describe(data)}", payload=data)


class InsufficientFundsApiError(InsufficientFundsError, ApiError):
    """A Sogni host refused a REST call for lack of balance (``errorCode`` 123)."""


class ConnectionLostError(SogniError):
    """The connection to the Supernet failed and could not be recovered."""

    def __init__(self, message: str, *, code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class ConnectionTakenOverError(ConnectionLostError):
    """Another connection with the same app id took over (socket close 4015)."""


class RequestLostError(ConnectionLostError):
    """A request in doubt after a drop that the server could not account for.

    Bytes of it may have left before the connection dropped, and after the reconnect the
    server neither listed it nor (where it can be asked) confirmed or denied having it; so it
    is not sent again and is never run or charged twice. Requests the server says it never
    received are sent again instead (at most three writes in all).
    """


class TLSError(ConnectionLostError):
    """TLS could not be established, typically because the server's certificate failed
    verification. Terminal: retrying cannot help, so it is raised at once, never retried."""


class ClientClosedError(SogniError):
    """The client was closed while this call was waiting or before it started."""


class TimeoutError(SogniError, builtins.TimeoutError):  # mirrors the builtin on purpose
    """A blocking call did not finish within its timeout."""


class OutboxFullError(SogniError):
    """Too many requests are waiting to be sent; the caller should slow down."""


class ProjectError(SogniError):
    """A project ended without producing its results."""

    def __init__(self, message: str, *, project: Any = None) -> None:
        super().__init__(message)
        self.project = project


class ProjectFailedError(ProjectError):
    """The project failed; ``error`` carries the server's error data (``code``, ``message``)."""

    def __init__(self, message: str, *, error: Any = None, project: Any = None) -> None:
        super().__init__(message, project=project)
        self.error = error


class InsufficientFundsProjectError(InsufficientFundsError, ProjectFailedError):
    """A project (or one of its jobs) failed because the account could not pay: job error
    code 123 (insufficient balance) or the symbolic ``insufficientFunds``."""


class ProjectCanceledError(ProjectError):
    """The project was canceled before it finished."""


#: Old names, kept because callers catch them: the same class objects; using them warns.
DEPRECATED_ALIASES: dict[str, type[ProjectError]] = {
    "ProjectFailed": ProjectFailedError,
    "ProjectCanceled": ProjectCanceledError,
}

if TYPE_CHECKING:
    ProjectFailed = ProjectFailedError
    ProjectCanceled = ProjectCanceledError
else:
    def __getattr__(name: str) -> type[ProjectError]:
        cls = DEPRECATED_ALIASES.get(name)
        if cls is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        warnings.warn(f"sogni_sync.errors.{name} is deprecated; use {cls.__name__}",
                      DeprecationWarning, stacklevel=2)
        return cls


class ProjectNotFoundError(ProjectError):
    """``projects.recover(id)``: the server has no project of this account under that id (it
    was never received, belongs to another account, or its record expired)."""


class ChatError(SogniError):
    """An LLM job failed on the network; ``code`` and ``message`` come from the server."""

    def __init__(self, message: str, *, code: Any = None, job_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.job_id = job_id


class InsufficientFundsChatError(InsufficientFundsError, ChatError):
    """An LLM job failed because the account could not pay (``insufficientFunds``)."""


class MissingDependencyError(SogniError, ImportError):
    """An optional extra (``wallet``, ``emulator``, ``progress``) is needed for this call."""

    def __init__(self, extra: str, package: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}: "
            f"pip install 'sogni-sync[{extra}]'"
        )
        self.extra = extra
        self.package = package
