"""Model catalogue, availability and price estimates (socket host ``/api/...``, bare JSON).

The model list and tiers are cached for 24 hours and size presets for 10 minutes, as the
reference does, so ``projects.create()`` normally costs no catalogue round trip. Socket
handlers never fetch: a ``swarmModels`` frame that arrives before the model list is cached is
completed on the io pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sogni_sync._convert import structure
from sogni_sync._js import js_number
from sogni_sync._sync import Deadline, wait_for
from sogni_sync._transport import CatalogTransport, quote_segment
from sogni_sync.catalog._families import (
    H3_WORKFLOW_ASSETS,
    VIDEO_WORKFLOW_ASSETS,
    calculate_video_frames,
    is_audio_model_id,
    is_h3_model,
    is_video_model_id,
    video_workflow,
)
from sogni_sync.catalog._options import ModelOptions, check_sampler, model_options_from_catalog
from sogni_sync.catalog._types import (
    AvailableModel,
    CostEstimate,
    SizePreset,
    SupportedModel,
    VideoAssetConfig,
)
from sogni_sync.errors import (
    ApiError,
    ClientClosedError,
    TimeoutError,
    UnexpectedResponseError,
    ValidationError,
)

__all__ = ["ENHANCEMENT_STRENGTHS", "Catalog"]

log = logging.getLogger(__name__)

MODELS_PATH = "/api/v1/models/list"
MODELS_TTL = 24 * 3600.0
SIZE_PRESETS_TTL = 600.0
#: Enhancement strength name → the reference's strength value (anything else is "medium").
ENHANCEMENT_STRENGTHS = {"light": 0.15, "medium": 0.35, "heavy": 0.49}


def _segment(value: Any) -> str:
    """A path segment as JS string conversion prints it."""
    if value is None:
        return "undefined"
    if isinstance(value, (bool, int, float)):
        return js_number(value)
    return str(value)


def _component(value: Any) -> str:
    """``encodeURIComponent`` of a segment (dot segments refused)."""
    return quote_segment(_segment(value), "estimate path segment")


def _available_model(key: str, model: Mapping[str, Any] | None, workers: Any) -> AvailableModel:
    """A model with ``workers`` online: its catalogue entry names it, else its key does."""
    if model is None:
        return AvailableModel(id=key, name=key.replace("-", " "), worker_count=workers,
                              media="image")
    return AvailableModel(id=str(model.get("id")), name=str(model.get("name")),
                          worker_count=workers, media=str(model.get("media") or "image"))


class _Cached:
    __slots__ = ("at", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.at = time.monotonic()

    def fresh(self, ttl: float) -> bool:
        return time.monotonic() - self.at < ttl


class Catalog:
    """The client's catalogue (``client.catalog``): built once by ``SogniClient`` and handed
    to projects and chat, which validate against it and price with it."""

    def __init__(self, transport: CatalogTransport) -> None:
        self._transport = transport
        self._fetch_lock = threading.Lock()  # one catalogue fetch at a time; never held by events
        self._models: _Cached | None = None
        self._tiers: _Cached | None = None
        self._presets: dict[str, _Cached] = {}
        self._presets_lock = threading.Lock()
        self._available: list[AvailableModel] = []
        self._available_seq = 0
        self._applied_seq = 0
        self._cond = threading.Condition(transport.lock)
        self._model_listeners: list[Callable[[list[AvailableModel]], Any]] = []
        # Built after the socket authenticated, the frame already went by: the transport
        # replays the last one.
        transport.subscribe("swarmModels", self._on_swarm_models, replay_last=True)
        transport.subscribe("changeNetwork", self._on_change_network)
        transport.on_connection(self._on_connection)

    # -- raw catalogue ------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None, *,
             shape: type | None = None, optional: bool = False) -> Any:
        """The answer of ``path``; one that is not a ``shape`` (or null when ``optional``)
        raises UnexpectedResponseError rather than reading as an empty catalogue."""
        data = self._transport.rest.request("GET", path, host="socket", params=params)
        if shape is None or isinstance(data, shape) or (optional and data is None):
            return data
        what = "a list" if shape is list else "an object"
        raise UnexpectedResponseError.expected(path, what, data)

    def _estimate(self, path: str, query: Mapping[str, Any] | None = None) -> CostEstimate:
        return structure(self._get(path, query, shape=Mapping), CostEstimate, path)

    def _raw_models(self, force_refresh: bool = False) -> list[dict[str, Any]]:
        cached = self._models
        if cached is not None and cached.fresh(MODELS_TTL) and not force_refresh:
            return list(cached.value)
        with self._fetch_lock:
            cached = self._models
            if cached is not None and cached.fresh(MODELS_TTL) and not force_refresh:
                return list(cached.value)
            data = self._get(MODELS_PATH, shape=list)
            models = [dict(m) for m in data if isinstance(m, Mapping)]
            self._models = _Cached(models)
            return list(models)

    def _raw_tiers(self) -> dict[str, Any]:
        cached = self._tiers
        if cached is not None and cached.fresh(MODELS_TTL):
            return dict(cached.value)
        with self._fetch_lock:
            cached = self._tiers
            if cached is not None and cached.fresh(MODELS_TTL):
                return dict(cached.value)
            tiers = dict(self._get("/api/v2/models/tiers", shape=Mapping))
            self._tiers = _Cached(tiers)
            return dict(tiers)

    def _cached_model(self, model_id: str) -> Mapping[str, Any] | None:
        cached = self._models
        if cached is None:
            return None
        return next((m for m in cached.value if m.get("id") == model_id), None)

    # -- public look-ups ----------------------------------------------------------------------

    def supported_models(self, force_refresh: bool = False) -> list[SupportedModel]:
        """Every model the network knows (``/api/v1/models/list``, cached 24 h)."""
        return [structure(m, SupportedModel, MODELS_PATH) for m in self._raw_models(force_refresh)]

    def model_options(self, model_id: str) -> ModelOptions:
        """The tier-derived options of a model; unknown models raise ValidationError."""
        return model_options_from_catalog(model_id, self._raw_models(), self._raw_tiers())

    def size_presets(
        self, network: str, model_id: str, force_refresh: bool = False
    ) -> list[SizePreset]:
        """Named sizes of a model on a network (cached 10 minutes)."""
        key = f"{network}-{model_id}"
        with self._presets_lock:
            cached = self._presets.get(key)
        if cached is None or force_refresh or not cached.fresh(SIZE_PRESETS_TTL):
            path = (f"/api/v1/size-presets/network/{quote_segment(network, 'network')}"
                    f"/model/{quote_segment(model_id, 'model_id')}")
            data = self._get(path, shape=list, optional=True)
            cached = _Cached([structure(p, SizePreset, path) for p in data or []
                              if isinstance(p, Mapping)])
            with self._presets_lock:
                self._presets = {
                    k: v for k, v in self._presets.items() if v.fresh(SIZE_PRESETS_TTL)
                }
                self._presets[key] = cached
        return list(cached.value)

    def is_video_model(self, model_id: str) -> bool:
        model = self._cached_model(model_id)
        return model.get("media") == "video" if model is not None else is_video_model_id(model_id)

    def is_audio_model(self, model_id: str) -> bool:
        model = self._cached_model(model_id)
        return model.get("media") == "audio" if model is not None else is_audio_model_id(model_id)

    def video_asset_config(self, model_id: str) -> VideoAssetConfig:
        """The workflow and asset table of a video model (ValidationError for other models)."""
        if not self.is_video_model(model_id):
            raise ValidationError(f"Model {model_id} is not a video model")
        workflow = video_workflow(model_id)
        if workflow is None:
            return VideoAssetConfig(workflow_type=None)
        assets = VIDEO_WORKFLOW_ASSETS[workflow]
        if is_h3_model(model_id):
            assets = H3_WORKFLOW_ASSETS.get(workflow, assets)
        return VideoAssetConfig(workflow_type=workflow, assets=dict(assets))

    # -- availability -------------------------------------------------------------------------

    @property
    def available_models(self) -> list[AvailableModel]:
        """Models with online workers, from the latest ``swarmModels`` frame."""
        with self._transport.lock:
            return list(self._available)

    def fetch_available_models(self, network: str | None = None) -> list[AvailableModel]:
        """Ask the status endpoint for worker counts instead of waiting for ``swarmModels``."""
        network = network or self._transport.network
        segment = quote_segment(network, "network")
        counts = self._get(f"/api/v1/status/network/{segment}/models", shape=Mapping,
                           optional=True) or {}
        by_sid = {m.get("SID"): m for m in self._raw_models()}
        result = []
        for sid, workers in counts.items():
            try:
                model = by_sid.get(int(sid))
            except ValueError:
                model = None
            result.append(_available_model(str(sid), model, workers))
        return result

    def wait_for_models(self, timeout: float | None = 10.0) -> list[AvailableModel]:
        """Block until a non-empty ``swarmModels`` list is known (connecting if needed)."""
        deadline = Deadline(timeout)
        with self._transport.lock:
            if self._available:
                return list(self._available)
        self._transport.connect(timeout=deadline.remaining())
        with self._cond:
            ready = wait_for(
                self._cond,
                lambda: bool(self._available) or self._transport.closing.is_set(),
                deadline,
            )
            if self._available:
                return list(self._available)
            if ready and self._transport.closing.is_set():
                raise ClientClosedError("client closed while waiting for models")
        raise TimeoutError("Timeout waiting for models")

    def on_models(self, callback: Callable[[list[AvailableModel]], Any]) -> Callable[[], None]:
        """Call ``callback(models)`` on the ``sogni-callbacks`` thread whenever the list of
        available models changes (``swarmModels``, network change, disconnect); returns a
        function that unsubscribes. The current list, when known, is delivered first."""
        with self._cond:
            self._model_listeners.append(callback)
            if self._available:
                self._transport.dispatch(callback, list(self._available))

        def remove() -> None:
            with self._cond:
                if callback in self._model_listeners:
                    self._model_listeners.remove(callback)

        return remove

    def _models_changed(self) -> None:
        """Caller holds the lock: wake waiters and tell listeners."""
        self._cond.notify_all()
        for callback in self._model_listeners:
            self._transport.dispatch(callback, list(self._available))

    def _build_available(self, counts: Mapping[str, Any]) -> list[AvailableModel]:
        index = {m.get("id"): m for m in (self._models.value if self._models else [])}
        return [_available_model(str(model_id), index.get(model_id), workers)
                for model_id, workers in counts.items()]

    def _apply_available(self, seq: int, counts: Mapping[str, Any]) -> None:
        models = self._build_available(counts)
        with self._cond:
            if seq < self._applied_seq:
                return  # a newer frame was applied meanwhile
            self._applied_seq = seq
            self._available = models
            self._models_changed()

    def _on_swarm_models(self, payload: Any) -> None:
        if not isinstance(payload, Mapping):
            return
        with self._transport.lock:
            self._available_seq += 1
            seq = self._available_seq
        if self._models is not None and self._models.fresh(MODELS_TTL):
            self._apply_available(seq, payload)
            return

        def fetch_then_apply() -> None:
            try:
                self._raw_models()
            except ClientClosedError:
                return  # close() interrupted the fetch: nobody waits for the list any more
            except (ApiError, OSError) as exc:
                if self._transport.closing.is_set():
                    return  # the failure is the close's, not the server's
                log.warning("model list unavailable for swarmModels: %s", exc)
            self._apply_available(seq, payload)

        self._transport.io.submit(fetch_then_apply)

    def _clear_available(self) -> None:
        with self._cond:
            self._available_seq += 1
            self._applied_seq = self._available_seq
            changed = bool(self._available)
            self._available = []
            if changed:
                self._models_changed()
            else:
                self._cond.notify_all()

    def _on_change_network(self, _payload: Any) -> None:
        self._clear_available()

    def _on_connection(self, event: str, _payload: Any) -> None:
        if event == "disconnected":
            self._clear_available()
        elif event == "closing":
            with self._cond:
                self._cond.notify_all()

    # -- estimates ----------------------------------------------------------------------------

    def estimate_cost(
        self,
        *,
        model: str,
        image_count: int,
        step_count: int,
        preview_count: int = 0,
        network: str = "fast",
        token_type: str | None = None,
        cn_enabled: bool = False,
        starting_image_strength: float | None = None,
        width: int | None = None,
        height: int | None = None,
        size_preset: str | None = None,
        guidance: float | None = None,
        sampler: str | None = None,
        context_images: int | None = None,
        gpt_image_quality: str | None = None,
        output_format: str | None = None,
    ) -> CostEstimate:
        """Price an image project (``/api/v2|v3/job/estimate/...``)."""
        options = self.model_options(model)
        segments: list[Any] = [
            token_type or "spark", network, model, image_count, step_count, preview_count,
            1 if cn_enabled else 0,
            1 - starting_image_strength if starting_image_strength else 0,
        ]
        if size_preset:
            preset = next(
                (p for p in self.size_presets(network, model) if p.id == size_preset), None
            )
            if preset is None:
                raise ValidationError("Invalid size preset")
            segments += [preset.width, preset.height]
        elif width and height:
            segments += [width, height]
        else:
            segments += [0, 0]
        version = 2
        if sampler or context_images is not None:
            version = 3
            segments.append(guidance or 0)
            segments.append(check_sampler(sampler, options) or "_" if sampler else "_")
            segments.append(context_images or 0)
        query = {"gptImageQuality": gpt_image_quality or None,
                 "outputFormat": output_format or None}
        # segments are not URL-escaped, as the reference sends them; check_path still
        # refuses dot segments
        path = "/".join("" if s is None else _segment(s) for s in segments)
        return self._estimate(f"/api/v{version}/job/estimate/{path}", query)

    def estimate_enhancement_cost(
        self, strength: str = "medium", token_type: str = "spark"
    ) -> CostEstimate:
        """Price ``job.enhance(strength)`` (flux1-schnell-fp8, 5 steps, fast network)."""
        return self.estimate_cost(
            model="flux1-schnell-fp8", image_count=1, step_count=5, preview_count=0,
            network="fast", token_type=token_type, cn_enabled=False,
            starting_image_strength=ENHANCEMENT_STRENGTHS.get(strength, 0.35),
        )

    def estimate_video_cost(
        self,
        *,
        model: str,
        width: int,
        height: int,
        fps: float,
        token_type: str = "spark",
        frames: int | None = None,
        duration: float | None = None,
        steps: int | None = None,
        number_of_media: int = 1,
        has_video_input: bool = False,
        reference_video: Any = None,
        reference_video_urls: list[str] | None = None,
    ) -> CostEstimate:
        """Price a video project (``/api/v1/job-video/estimate/...``); frames follow
        ``duration`` with the same maths as ``create()`` when not given."""
        if not frames:
            if duration is None:
                raise ValidationError("estimate_video_cost needs frames or duration")
            frames = calculate_video_frames(model, duration, fps)
        segments: list[Any] = [token_type, model, width, height, frames, fps]
        if steps is not None:
            segments += [steps, number_of_media]
        elif number_of_media != 1:
            segments += [0, number_of_media]
        query = None
        video_input = reference_video is not None and reference_video is not False
        if has_video_input or video_input or reference_video_urls:
            query = {"hasVideoInput": "1"}
        path = "/".join(_component(s) for s in segments)
        return self._estimate(f"/api/v1/job-video/estimate/{path}", query)

    def estimate_audio_cost(
        self,
        *,
        model: str,
        duration: float,
        steps: int,
        number_of_media: int = 1,
        token_type: str = "spark",
    ) -> CostEstimate:
        """Price an audio project (``/api/v1/job-audio/estimate/...``)."""
        segments = [token_type, model, duration, steps, number_of_media]
        path = "/".join(_component(s) for s in segments)
        return self._estimate(f"/api/v1/job-audio/estimate/{path}")
