"""``client.creative_workflows.templates``: saved, parameterised workflow blueprints.

A template declares typed ``inputs`` and ``stages`` (hosted tool steps whose arguments may name
``$inputs.<name>``); :meth:`CreativeWorkflowsApi.run_template` starts a run of one. Templates
live under ``/v1/creative-agent/workflows/templates`` (list, get, create, update, delete, fork).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from sogni_sync._convert import register_wire, structure
from sogni_sync._transport import RestAccess, RestClient, quote_segment
from sogni_sync.errors import UnexpectedResponseError, ValidationError

__all__ = ["WorkflowTemplate", "WorkflowTemplatePage", "WorkflowTemplatesApi"]

TEMPLATES = "/v1/creative-agent/workflows/templates"
VISIBILITY_FILTERS = ("own", "public", "all")
MAX_LIMIT = 200

TemplateVisibility = Literal["own", "public", "all"]


@attrs.frozen
class WorkflowTemplate:
    """A saved workflow template; ``raw`` keeps every key the server sent (``graph``...).

    ``author`` is ``"system"`` for Sogni's own templates, else ``{userId, displayName}``.
    """

    id: str
    name: str
    version: str | None = None
    description: str | None = None
    category: str | None = None
    stability: str | None = None
    author: Any = None
    visibility: str | None = None
    inputs: tuple[Mapping[str, Any], ...] = ()
    stages: tuple[Mapping[str, Any], ...] = ()
    expose_to_llm: bool | None = attrs.field(default=None, metadata={"wire": "exposeToLLM"})
    llm_priority: float | None = None
    estimated_credits: Mapping[str, Any] | None = None
    estimated_capacity_units: Mapping[str, Any] | None = None
    tags: tuple[str, ...] = ()
    created_at: float | str | None = None
    updated_at: float | str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(str(i["name"]) for i in self.inputs if isinstance(i, Mapping)
                     and isinstance(i.get("name"), str))

    @property
    def required_inputs(self) -> tuple[str, ...]:
        return tuple(str(i["name"]) for i in self.inputs if isinstance(i, Mapping)
                     and isinstance(i.get("name"), str) and i.get("required") is True)


def _list_of(value: Any, kind: type) -> tuple[Any, ...]:
    return tuple(v for v in value if isinstance(v, kind)) if isinstance(value, list) else ()


def _template_wire(value: Any) -> dict[str, Any]:
    raw = dict(value) if isinstance(value, Mapping) else {}
    objects = {k: raw.get(k) if isinstance(raw.get(k), Mapping) else None
               for k in ("estimatedCredits", "estimatedCapacityUnits")}
    return {**raw, **objects,
            "inputs": _list_of(raw.get("inputs"), Mapping),
            "stages": _list_of(raw.get("stages"), Mapping),
            "tags": _list_of(raw.get("tags"), str), "raw": raw}


register_wire(WorkflowTemplate, _template_wire)


@attrs.frozen
class WorkflowTemplatePage:
    """One page of templates; ``next_cursor`` is the offset of the next page (None: last)."""

    templates: tuple[WorkflowTemplate, ...]
    next_cursor: int | None = None


def _is_template(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("id"), str) \
        and isinstance(value.get("name"), str)


def _template(data: Any, path: str) -> WorkflowTemplate:
    template = data.get("template") if isinstance(data, Mapping) else None
    if not _is_template(template):
        raise UnexpectedResponseError(path, "the workflow template response did not include a "
                                            "template", payload=data)
    return structure(template, WorkflowTemplate, path)


def _id_path(template_id: str, suffix: str = "") -> str:
    if not isinstance(template_id, str) or not template_id.strip():
        raise ValidationError("template_id must be a non-empty string")
    return f"{TEMPLATES}/{quote_segment(template_id, 'template_id')}{suffix}"


def _count(value: Any, name: str, low: int, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low \
            or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError(f"{name} must be an integer {bounds}, got {value!r}")
    return value


def _template_body(template: Any, what: str) -> dict[str, Any]:
    if not isinstance(template, Mapping):
        raise ValidationError(f"{what} must be a mapping")
    body = dict(template)
    for key in ("name", "id", "version", "description"):
        if key in body and not isinstance(body[key], str):
            raise ValidationError(f"{what}['{key}'] must be a string")
    for key in ("inputs", "stages", "tags"):
        if key in body and not isinstance(body[key], (list, tuple)):
            raise ValidationError(f"{what}['{key}'] must be a list")
        if key in body:
            body[key] = list(body[key])
    return body


class WorkflowTemplatesApi:
    """List, read, create, change, delete and fork workflow templates (API-key auth)."""

    def __init__(self, transport: RestAccess) -> None:
        self._transport = transport

    @property
    def _rest(self) -> RestClient:
        return self._transport.rest

    def list(
        self,
        *,
        visibility: TemplateVisibility | None = None,
        offset: int | None = None,
        limit: int | None = None,
    ) -> WorkflowTemplatePage:
        """Templates you can see: ``visibility`` ``own`` (yours), ``public`` or ``all``;
        ``limit`` 1-200. ``next_cursor`` feeds ``offset`` for the next page."""
        params: dict[str, Any] = {}
        if visibility is not None:
            if visibility not in VISIBILITY_FILTERS:
                raise ValidationError(
                    f"visibility must be 'own', 'public' or 'all', got {visibility!r}")
            params["visibility"] = visibility
        if offset is not None:
            params["offset"] = _count(offset, "offset", 0)
        if limit is not None:
            params["limit"] = _count(limit, "limit", 1, MAX_LIMIT)
        data = self._rest.request("GET", TEMPLATES, params=params or None)
        rows = data.get("templates") if isinstance(data, Mapping) else None
        if not isinstance(rows, builtins.list):
            raise UnexpectedResponseError.expected(TEMPLATES, "a templates list", data)
        cursor = data.get("next")
        return WorkflowTemplatePage(
            templates=tuple(structure(t, WorkflowTemplate, TEMPLATES) for t in rows
                            if _is_template(t)),
            next_cursor=cursor if isinstance(cursor, int) and not isinstance(cursor, bool)
            else None)

    def get(self, template_id: str) -> WorkflowTemplate:
        path = _id_path(template_id)
        return _template(self._rest.request("GET", path), path)

    def create(self, template: Mapping[str, Any]) -> WorkflowTemplate:
        """Save a new template (``name`` required; ``inputs``, ``stages``, ``visibility``...
        in the wire's spelling). The server assigns the id unless one is given."""
        body = _template_body(template, "template")
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise ValidationError("template needs a non-empty 'name'")
        return _template(self._rest.request("POST", TEMPLATES, json=body, idempotent=False),
                         TEMPLATES)

    def update(self, template_id: str, patch: Mapping[str, Any]) -> WorkflowTemplate:
        """Change the given keys of one of your templates (PATCH)."""
        path = _id_path(template_id)
        body = _template_body(patch, "patch")
        if not body:
            raise ValidationError("patch must change at least one key")
        return _template(self._rest.request("PATCH", path, json=body, idempotent=False), path)

    def delete(self, template_id: str) -> None:
        self._rest.request("DELETE", _id_path(template_id), idempotent=True)

    def fork(self, template_id: str, *, new_name: str | None = None) -> WorkflowTemplate:
        """Copy a template you can see (a public or system one) into a private one of yours."""
        path = _id_path(template_id, "/fork")
        body: dict[str, Any] = {}
        if new_name is not None:
            if not isinstance(new_name, str) or not new_name.strip():
                raise ValidationError("new_name must be a non-empty string")
            body["newName"] = new_name
        return _template(self._rest.request("POST", path, json=body, idempotent=False), path)
