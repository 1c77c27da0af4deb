"""Tier → ``ModelOptions`` mapping and the checks of a value against it (pure; no I/O).

The catalogue serves model tiers with display names ("DPM++ 2M"); users and the wire use aliases
("dpmpp_2m"). A sampler/scheduler is validated against the *aliased* allowed list of the model's
tier, so the mapping must be exactly the reference's. Video tiers also carry width, height,
frames and shift ranges, which the seed client dropped; they are kept here so that a value the
server would refuse is refused before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from sogni_sync._js import js_number, js_str
from sogni_sync.errors import ValidationError

__all__ = [
    "SAMPLER_ALIASES",
    "SCHEDULER_ALIASES",
    "ModelOptions",
    "NumRange",
    "Options",
    "check_allowed",
    "check_range",
    "check_sampler",
    "check_scheduler",
    "check_vae",
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
    #: Comfy image tiers: the VAEs a request may choose
    vae: Options = Options()
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
    width: NumRange | None = None
    height: NumRange | None = None
    frames: NumRange | None = None


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
        return ModelOptions(type="image", vae=_options(tier.get("vae")),
                            **_sampling(tier, legacy=kind == "legacy"))
    if kind == "video":
        fps = tier.get("fps")
        return ModelOptions(
            type="video", fps=_options(fps) if fps else None, **_sampling(tier, legacy=False),
            width=_range(tier.get("width")), height=_range(tier.get("height")),
            frames=_range(tier.get("frames")), shift=_range(tier.get("shift")),
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


def _check_choice(value: Any, options: Options, what: str) -> Any:
    if not options.allowed or value is None or value == "" or value is False:
        return None
    if value not in options.allowed:
        allowed = '", "'.join(str(a) for a in options.allowed)
        raise ValidationError(f'Invalid {what} {js_str(value)}. Must be one of "{allowed}".')
    return value


def check_sampler(value: Any, options: ModelOptions) -> Any:
    """The sampler unchanged when allowed, None when not given or the tier lists none
    (the reference's rule and text)."""
    return _check_choice(value, options.sampler, "sampler")


def check_scheduler(value: Any, options: ModelOptions) -> Any:
    return _check_choice(value, options.scheduler, "scheduler")


def check_vae(value: Any, options: ModelOptions) -> Any:
    """The VAE unchanged when the tier lists it, None when not given or the tier lists none."""
    if not options.vae.allowed or not value:
        return None
    if value not in options.vae.allowed:
        allowed = '", "'.join(str(a) for a in options.vae.allowed)
        raise ValidationError(f'Invalid VAE {js_str(value)}. Must be one of "{allowed}".')
    return value


def check_allowed(value: Any, options: Options | None, name: str, model_id: str) -> None:
    """A value of a closed set the tier lists (fps, language, keyscale …); no list → no check."""
    if value is None or options is None or not options.allowed:
        return
    if value not in options.allowed:
        allowed = ", ".join(repr(a) for a in options.allowed)
        raise ValidationError(
            f"{name} must be one of {allowed} for model {model_id}, got {value!r}"
        )


def _on_grid(value: float, rng: NumRange) -> bool:
    if not rng.step or rng.step <= 0:
        return True
    units = (value - rng.min) / rng.step
    return abs(units - round(units)) <= 1e-6


def check_range(value: float | None, rng: NumRange | None, name: str, model_id: str, *,
                grid: bool = True) -> None:
    """``min <= value <= max`` and on the tier's grid (``min + k * step``).

    A tier block without a maximum (``max`` missing, read as 0) only bounds from below. The
    grid is enforced only when the tier's own default lies on it: LTX sizes say ``step: 32``
    but default to 720, so there the step is advice for the server's snapping, not a rule.
    """
    if value is None or rng is None:
        return
    low, high = rng.min, rng.max
    if value < low or (high >= low and value > high):
        span = f"between {js_number(low)} and {js_number(high)}" if high >= low else (
            f"at least {js_number(low)}")
        raise ValidationError(
            f"{name} must be {span} for model {model_id}, got {js_number(value)}"
        )
    if grid and _on_grid(rng.default, rng) and not _on_grid(value, rng):
        raise ValidationError(
            f"{name} must be {js_number(low)} plus a multiple of {js_number(rng.step)} "
            f"for model {model_id}, got {js_number(value)}"
        )
