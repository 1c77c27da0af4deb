"""Transport layer: REST client, socket connection, frame codec and outbox (internal)."""

from sogni_sync._transport.contracts import (
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

__all__ = ["CLIENT_NAME", "Anonymous", "CatalogTransport", "ChatTransport", "CredentialsProvider",
           "Events", "ProjectsTransport", "Requests", "RestAccess", "RestClient", "Transport",
           "check_path", "quote_segment"]
