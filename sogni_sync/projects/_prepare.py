"""Everything ``create()`` does before touching the network, as one testable step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sogni_sync.catalog._options import ModelOptions
from sogni_sync.projects._media import Upload, plan_uploads
from sogni_sync.projects._request import build_job_request, content_type_keys

__all__ = ["prepare_request"]


def prepare_request(
    project_id: str,
    params: Mapping[str, Any],
    options: ModelOptions,
    *,
    app_source: str | None = None,
) -> tuple[dict[str, Any], list[Upload]]:
    """Build and validate the ``jobRequest`` and plan its uploads (local reads only).

    Video requests already carry the ``*ContentType`` keys of the media to be uploaded; the
    sniffed types cannot change by uploading, so annotating first gives the same frame as the
    reference, which annotated after the uploads.
    """
    request = build_job_request(project_id, params, options, app_source=app_source)
    plan = plan_uploads(params)
    if params.get("type") == "video":
        content_type_keys(request, {u.param: u.source.content_type for u in plan})
    return request, plan
