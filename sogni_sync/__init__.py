"""sogni-sync: a synchronous Python SDK for the Sogni Supernet."""

from sogni_sync import errors
from sogni_sync._version import __version__
from sogni_sync.errors import *  # noqa: F403

__all__ = ["__version__", "errors", *errors.__all__]
