"""Everything ``create()`` does before touching the network, as one testable step."""

from __future__ import annotations

from typing import Any

import attrs

from sogni_sync.catalog._options import ModelOptions
from sogni_sync.projects._checks import check_options
from sogni_sync.projects._image_rules import (
    is_pixal3d_model,
    is_segmentation_model,
    mask_from_data_uri,
)
from sogni_sync.projects._media import Upload, plan_uploads
from sogni_sync.projects._params import ImageParams, ProjectParams
from sogni_sync.projects._request import build_job_request, content_type_keys

__all__ = ["normalize_params", "prepare_request"]


def normalize_params(params: ProjectParams) -> ProjectParams:
    """The parameters as the project really runs them, as the reference normalises them
    before building the project: segmentation makes one PNG mask without previews, Pixal3D
    has no previews, and a GPT Image mask given as a PNG ``data:`` URI is uploaded as a mask.
    """
    if not isinstance(params, ImageParams):
        return params
    model = params.model_id
    if is_segmentation_model(model):
        params = attrs.evolve(params, number_of_media=1, number_of_previews=None,
                              output_format="png")
    elif is_pixal3d_model(model) and params.number_of_previews is not None:
        params = attrs.evolve(params, number_of_previews=None)
    mask = mask_from_data_uri(model, params.gpt_image_mask, params.gpt_image_mask_url)
    if mask is not None:
        params = attrs.evolve(params, gpt_image_mask=mask, gpt_image_mask_url=None)
    return params


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
    params = normalize_params(params)
    check_options(params, options)
    request = build_job_request(project_id, params, options, app_source=app_source)
    plan = plan_uploads(params)
    if params.type in ("video", "audio"):
        content_type_keys(request, {u.param: u.source.content_type for u in plan})
    return request, plan
