"""Transport layer: REST client, socket connection, frame codec, outbox, and the Protocols the
concerns are typed against (internal)."""

from sogni_sync._transport.contracts import (
    AccountTransport,
    CatalogTransport,
    ChatTransport,
    Events,
    ProjectsTransport,
    Requests,
    RestAccess,
)
from sogni_sync._transport.credentials import Anonymous, CredentialsProvider
from sogni_sync._transport.paths import CLIENT_NAME, check_path, quote_segment
from sogni_sync._transport.rest import RestClient
from sogni_sync._transport.transport import Transport

__all__ = [
    "CLIENT_NAME",
    "AccountTransport",
    "Anonymous",
    "CatalogTransport",
    "ChatTransport",
    "CredentialsProvider",
    "Events",
    "ProjectsTransport",
    "Requests",
    "RestAccess",
    "RestClient",
    "Transport",
    "check_path",
    "quote_segment",
]
