"""What the transport needs from authentication, so that transport never imports ``auth``."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Anonymous", "CredentialsProvider"]


class CredentialsProvider(Protocol):
    def rest_headers(self) -> dict[str, str]:
        """Auth headers for a REST call; may refresh an expiring token first (caller thread)."""
        ...

    def socket_headers(self) -> list[str]:
        """Handshake headers, from memory only: this runs on the socket thread."""
        ...

    def prepare_connect(self, timeout: float) -> None:
        """Between connections: make sure the held credential is fresh (bounded I/O)."""
        ...

    def handle_unauthorized(self) -> bool:
        """A REST call got 401: return True if a retry with new credentials makes sense."""
        ...

    @property
    def is_authenticated(self) -> bool: ...


class Anonymous:
    """No credentials at all (until the client attaches its auth manager)."""

    def rest_headers(self) -> dict[str, str]:
        return {}

    def socket_headers(self) -> list[str]:
        return []

    def prepare_connect(self, timeout: float) -> None:
        return None

    def handle_unauthorized(self) -> bool:
        return False

    @property
    def is_authenticated(self) -> bool:
        return False
