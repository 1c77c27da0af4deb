"""Tier → ``ModelOptions`` mapping (pure; no I/O).

The catalogue serves model tiers with display names ("DPM++ 2M"); users and the wire use aliases
("dpmpp_2m"). The request builder validates a sampler/scheduler against the *aliased* allowed
list of the model's tier, so the mapping must be exactly the reference's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from sogni_sync.errors import ValidationError

__all__ = [
    "ModelOptions",
    "NumRange",
    "Options",
    "SAMPLER_ALIASES",
    "SCHEDULER_ALIASES",
    "model_options_from_catalog",
    "tier_to_options",
]

SAMPLER_ALIASES: dict[str, str] = {
    "Euler": "euler",
    "Euler a": "euler_a",
    "Euler Ancestral": "euler_ancestral",
    "Heun": "heun",
    "DPM++ 2M": "dpmpp_2m",
    "DPM++ 2M SDE": "dpmpp_2m_sde",
    "DPM++ SDE": "dpmpp_sde",
    "DPM++ 3M SDE": "dpmpp_3m_sde",
    "UniPC": "uni_pc",
    "LCM (Latent Consistency Model)": "lcm",
    "LMS": "lms",
    "DPM 2": "dpm_2",
    "DPM 2 Ancestral": "dpm_2_ancestral",
    "DPM Fast": "dpm_fast",
    "DPM Adaptive": "dpm_adaptive",
    "DPM++ 2S Ancestral": "dpmpp_2s_ancestral",
    "DDPM": "ddpm",
    "Discrete Flow Sampler (SD3)": "dfs_sd3",
    "Discrete Flow Scheduler (SD3)": "dfs_sd3",
    "DPM Solver Multistep (DPM-Solver++)": "dpm_pp",
    "PNDM (Pseudo-linear multi-step)": "pndm_plms",
}

SCHEDULER_ALIASES: dict[str, str] = {
    "Simple": "simple",
    "Normal": "normal",
    "Karras": "karras",
    "Exponential": "exponential",
    "SGM Uniform": "sgm_uniform",
    "DDIM Uniform": "ddim_uniform",
    "Beta": "beta",
    "Linear Quadratic": "linear_quadratic",
    "KL Optimal": "kl_optimal",
    "DDIM": "ddim",
    "Leading": "leading",
    "Linear": "linear",
}


@attrs.frozen
class NumRange:
    """A numeric tier setting; ``step`` is 10^-decimals when the tier gives decimals."""

    min: float
    max: float
    default: float
    step: float = 1


@attrs.frozen
class Options:
    """Allowed values and the default (aliases for samplers/schedulers)."""

    allowed: tuple[Any, ...] = ()
    default: Any = None


@attrs.frozen
class ModelOptions:
    """What a model's tier allows. Fields absent from the tier kind are None."""

    type: Literal["image", "video", "audio"]
    sampler: Options = Options()
    scheduler: Options = Options()
    steps: NumRange | None = None
    guidance: NumRange | None = None
    fps: Options | None = None
    duration: NumRange | None = None
    bpm: NumRange | None = None
    timesignature: Options | None = None
    language: Options | None = None
    keyscale: Options | None = None
    composer_mode: bool | None = None
    prompt_strength: NumRange | None = None
    creativity: NumRange | None = None
    shift: NumRange | None = None


def _range(data: Any) -> NumRange | None:
    if not isinstance(data, Mapping):
        return None
    decimals = data.get("decimals")
    step = 10.0 ** (-decimals) if decimals else (data.get("step") or 1)
    return NumRange(min=data.get("min", 0), max=data.get("max", 0),
                    default=data.get("default", 0), step=step)


def _options(data: Any, alias: Mapping[str, str] | None = None) -> Options:
    if not isinstance(data, Mapping):
        return Options()

    def conv(value: Any) -> Any:
        return alias.get(value, value) if alias is not None and isinstance(value, str) else value

    default = data.get("default")
    return Options(
        allowed=tuple(conv(v) for v in data.get("allowed") or ()),
        default=None if default is None else conv(default),
    )


def _sampling(tier: Mapping[str, Any], *, legacy: bool) -> dict[str, Any]:
    """Steps, guidance and sampler/scheduler: every tier kind has them (legacy tiers under the
    pre-ComfyUI key names)."""
    return {
        "steps": _range(tier.get("steps")),
        "guidance": _range(tier.get("guidance")),
        "sampler": _options(tier.get("sampler" if legacy else "comfySampler"), SAMPLER_ALIASES),
        "scheduler": _options(
            tier.get("scheduler" if legacy else "comfyScheduler"), SCHEDULER_ALIASES
        ),
    }


def tier_to_options(tier_name: str, tier: Mapping[str, Any]) -> ModelOptions:
    """Map one raw tier to ModelOptions; the tier kind is told by its ``type`` key."""
    kind = tier.get("type", None) if "type" in tier else "legacy"
    if kind in ("legacy", "image"):
        return ModelOptions(type="image", **_sampling(tier, legacy=kind == "legacy"))
    if kind == "video":
        fps = tier.get("fps")
        return ModelOptions(
            type="video", fps=_options(fps) if fps else None, **_sampling(tier, legacy=False)
        )
    if kind == "audio":
        composer = tier.get("composerMode")
        return ModelOptions(
            type="audio",
            **_sampling(tier, legacy=False),
            duration=_range(tier.get("duration")),
            bpm=_range(tier.get("bpm")),
            timesignature=_options(tier.get("timesignature")),
            language=_options(tier.get("language")),
            keyscale=_options(tier.get("keyscale")) if tier.get("keyscale") else None,
            composer_mode=composer.get("default") if isinstance(composer, Mapping) else None,
            prompt_strength=_range(tier.get("promptStrength")),
            creativity=_range(tier.get("creativity")),
            shift=_range(tier.get("shift")),
        )
    raise ValidationError(f'Unsupported model tier "{tier_name}"')


def model_options_from_catalog(
    model_id: str, models: Sequence[Mapping[str, Any]], tiers: Mapping[str, Any]
) -> ModelOptions:
    """Look a model up in the model list and map its tier (the reference's error texts)."""
    model = next((m for m in models if m.get("id") == model_id), None)
    if model is None:
        raise ValidationError(f"Model {model_id} not supported")
    tier_name = model.get("tier")
    tier = tiers.get(tier_name) if isinstance(tier_name, str) else None
    if not tier:
        raise ValidationError(f'Unable to find model tier "{tier_name}" please contact support')
    return tier_to_options(str(tier_name), tier)
