"""Batch jobs: ``client.batch.run(items, ...)`` → :class:`BatchSummary`.

Many projects (or chat requests) at a capped concurrency, read lazily from a JSONL/CSV file or
an iterable, results downloaded with deterministic names, a JSONL manifest, and resume after
any crash without submitting anything twice (durable project ids). ``dask_client=`` runs the
items on a ``dask.distributed`` cluster (extra ``dask``).
"""

from sogni_sync.batch._api import BatchApi
from sogni_sync.batch._items import Item, ItemSource, check_item, params_hash
from sogni_sync.batch._manifest import Manifest, ManifestMismatchError
from sogni_sync.batch._types import BatchEstimate, BatchSummary, ItemResult

__all__ = [
    "BatchApi",
    "BatchEstimate",
    "BatchSummary",
    "Item",
    "ItemResult",
    "ItemSource",
    "Manifest",
    "ManifestMismatchError",
    "check_item",
    "params_hash",
]
