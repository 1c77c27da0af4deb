"""Price quotes in the vocabulary of ``create()``: checked parameters → the estimate endpoints.

The reference prices projects with other words (``estimateCost(model, imageCount, stepCount)``,
``estimateVideoCost(model, width, height, frames, fps)`` …). Here a quote takes the very
parameter object a project is created from, so what is priced is what would be sent: the same
frame maths, the starting-image strength the request would carry, the model's defaults where
the request leaves a value to the server (steps, sizes, fps, duration from the tier).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sogni_sync._js import truthy
from sogni_sync.catalog._options import ModelOptions, NumRange
from sogni_sync.catalog._types import CostEstimate
from sogni_sync.errors import ValidationError
from sogni_sync.projects._params import AudioParams, ImageParams, ProjectParams, VideoParams

if TYPE_CHECKING:
    from sogni_sync.catalog import Catalog

__all__ = ["estimate_project"]


def _default(rng: NumRange | None, fallback: float | None = None) -> Any:
    return rng.default if rng is not None else fallback


def _image(catalog: Catalog, p: ImageParams, options: ModelOptions, network: str) -> CostEstimate:
    strength = None
    if truthy(p.starting_image):  # the request's strength is 1 - (value || 0.5)
        strength = p.starting_image_strength or 0.5
    preset = p.size_preset if p.size_preset not in (None, "", "custom") else None
    sized = preset is None and truthy(p.width) and truthy(p.height)
    return catalog.estimate_cost(
        model=p.model_id,
        image_count=p.number_of_media,
        step_count=p.steps if p.steps is not None else _default(options.steps, 20),
        preview_count=p.number_of_previews or 0,
        network=p.network or network,
        token_type=p.token_type,
        cn_enabled=bool(p.control_net),
        starting_image_strength=strength,
        width=p.width if sized else None,
        height=p.height if sized else None,
        size_preset=preset,
        guidance=p.guidance,
        sampler=p.sampler,
        context_images=None if p.context_images is None else len(p.context_images),
        gpt_image_quality=p.gpt_image_quality,
        output_format=p.output_format,
    )


def _video(catalog: Catalog, p: VideoParams, options: ModelOptions) -> CostEstimate:
    fps = p.fps
    if fps is None:
        fps = options.fps.default if options.fps is not None and options.fps.default else 24
    width = p.width if truthy(p.width) and truthy(p.height) else _default(options.width)
    height = p.height if truthy(p.width) and truthy(p.height) else _default(options.height)
    frames = None if p.duration is not None else (p.frames or _default(options.frames))
    if width is None or height is None or (p.duration is None and frames is None):
        raise ValidationError(
            f"model {p.model_id} has no default size or length: give width, height and "
            "duration to estimate a video"
        )
    return catalog.estimate_video_cost(
        model=p.model_id, width=width, height=height, fps=fps,
        token_type=p.token_type or "spark", frames=frames, duration=p.duration,
        steps=p.steps, number_of_media=p.number_of_media,
        has_video_input=truthy(p.reference_video) or bool(p.reference_video_urls),
    )


def _audio(catalog: Catalog, p: AudioParams, options: ModelOptions) -> CostEstimate:
    duration = p.duration if p.duration is not None else _default(options.duration, 30)
    steps = p.steps if p.steps is not None else _default(options.steps)
    if steps is None:
        raise ValidationError(f"model {p.model_id} has no default steps: give steps")
    return catalog.estimate_audio_cost(
        model=p.model_id, duration=duration, steps=steps, number_of_media=p.number_of_media,
        token_type=p.token_type or "spark",
    )


def estimate_project(catalog: Catalog, params: ProjectParams, options: ModelOptions, *,
                     network: str) -> CostEstimate:
    """Quote checked parameters (``check_options`` already passed) through the catalogue's
    estimate endpoints. ``network`` is the connection's, used when the params name none."""
    if isinstance(params, ImageParams):
        return _image(catalog, params, options, network)
    if isinstance(params, VideoParams):
        return _video(catalog, params, options)
    return _audio(catalog, params, options)
