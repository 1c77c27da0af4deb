"""Everything ``create()`` does before touching the network, as one testable step."""

from __future__ import annotations

from typing import Any

import attrs

from sogni_sync.catalog._options import ModelOptions
from sogni_sync.projects._checks import check_options
from sogni_sync.projects._image_rules import mask_from_data_uri
from sogni_sync.projects._media import Upload, plan_uploads
from sogni_sync.projects._params import ImageParams, ProjectParams
from sogni_sync.projects._request import build_job_request, content_type_keys

__all__ = ["prepare_request"]


def prepare_request(
    project_id: str,
    params: ProjectParams,
    options: ModelOptions,
    *,
    app_source: str | None = None,
) -> tuple[dict[str, Any], list[Upload]]:
    """Check the typed parameters against the model's options, build the ``jobRequest`` and
    plan its uploads (local reads only; raises ValidationError before any I/O).

    Video and audio requests already carry the ``*ContentType`` keys of the media to be
    uploaded; the sniffed types cannot change by uploading, so annotating first gives the same
    frame as the reference, which annotated after the uploads.
    """
    if isinstance(params, ImageParams):
        mask = mask_from_data_uri(params.model_id, params.gpt_image_mask,
                                  params.gpt_image_mask_url)
        if mask is not None:  # a PNG data URI travels as an uploaded mask
            params = attrs.evolve(params, gpt_image_mask=mask, gpt_image_mask_url=None)
    check_options(params, options)
    request = build_job_request(project_id, params, options, app_source=app_source)
    plan = plan_uploads(params)
    if params.type in ("video", "audio"):
        content_type_keys(request, {u.param: u.source.content_type for u in plan})
    return request, plan
