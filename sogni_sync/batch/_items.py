"""Batch items: read lazily from a JSONL or CSV file (or any iterable of dicts), checked
locally, and hashed so a manifest can tell whether it belongs to the same items.

An item is a dict of project parameters — the words of ``client.projects.create(type=...)``
(``type`` defaults to ``"image"``) — or a chat request: ``{"type": "chat", "model": ...,
"messages": [...]}`` (or ``"prompt": "..."`` for one user message), plus any keyword
``client.chat.complete`` takes. CSV: a header row of parameter names; cells are text for
prompts, ids and names and JSON (numbers, booleans, lists) elsewhere; empty cells are "not
given".
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import pathlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from sogni_sync.errors import ValidationError
from sogni_sync.projects._params import ProjectParams, params_from

__all__ = ["Item", "ItemSource", "check_item", "params_hash"]

#: CSV columns that stay text even when they look like JSON ("1984" as a prompt)
_TEXT_COLUMNS = frozenset({"type", "model_id", "model", "positive_prompt", "negative_prompt",
                           "style_prompt", "prompt", "app_source", "token_type", "network",
                           "output_format", "sampler", "scheduler", "size_preset"})
_MAX_LINE = 16 * 1024 * 1024


def params_hash(raw: Mapping[str, Any]) -> str:
    """A stable hash of an item's parameters (canonical JSON, keys sorted)."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@attrs.frozen
class Item:
    """One checked batch item: its position, raw parameters and their hash; ``params`` for a
    media project, ``chat`` (model, messages, options) for a chat request."""

    index: int
    raw: dict[str, Any]
    hash: str
    params: ProjectParams | None = None
    chat: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return "chat" if self.chat is not None else str(self.raw.get("type") or "image")


def _chat(index: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    model = raw.get("model") or raw.get("model_id")
    if not isinstance(model, str) or not model.strip():
        raise ValidationError(f"item {index}: a chat item needs a 'model'")
    messages = raw.get("messages")
    prompt = raw.get("prompt")
    if messages is None and isinstance(prompt, str) and prompt.strip():
        messages = [{"role": "user", "content": prompt}]
    if not isinstance(messages, list) or not messages:
        raise ValidationError(f"item {index}: a chat item needs 'messages' (a non-empty list) "
                              "or a 'prompt'")
    options = {k: v for k, v in raw.items()
               if k not in ("type", "model", "model_id", "messages", "prompt")}
    for banned in ("tool_handlers", "on_tool_call", "on_tool_progress"):
        if banned in options:
            raise ValidationError(f"item {index}: {banned} cannot be given in a batch item")
    return {"model": model, "messages": messages, **options}


def check_item(index: int, raw: Any) -> Item:
    """An :class:`Item` from one raw dict, or ValidationError naming the item."""
    if not isinstance(raw, Mapping):
        raise ValidationError(f"item {index}: expected a dict of parameters, not "
                              f"{type(raw).__name__}")
    given = {str(k): v for k, v in raw.items() if v is not None}
    digest = params_hash(given)
    kind = given.get("type", "image")
    if kind == "chat" or (kind == "image" and "messages" in given):
        return Item(index, given, digest, chat=_chat(index, given))
    if "project_id" in given:
        raise ValidationError(f"item {index}: project_id is chosen by the batch runner")
    try:
        params, ignored = params_from({"type": "image", **given})
    except ValidationError as exc:
        raise ValidationError(f"item {index}: {exc}") from None
    if ignored:
        raise ValidationError(f"item {index}: not parameters of {kind} projects: "
                              f"{', '.join(sorted(ignored))}")
    return Item(index, given, digest, params=params)


def _cell(name: str, value: str) -> Any:
    if name in _TEXT_COLUMNS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _jsonl(path: pathlib.Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(iter(lambda: fh.readline(_MAX_LINE), ""), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                raise ValidationError(f"{path.name} line {number}: not JSON ({exc})") from None
            if not isinstance(value, dict):
                raise ValidationError(f"{path.name} line {number}: expected a JSON object")
            yield value


def _csv(path: pathlib.Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ValidationError(f"{path.name}: the CSV needs a header row of parameter names")
        for row in reader:
            if None in row:
                raise ValidationError(f"{path.name} line {reader.line_num}: more cells than "
                                      "header columns")
            yield {k: _cell(k, v) for k, v in row.items() if v not in (None, "")}


class ItemSource:
    """Items read lazily: a JSONL/CSV path (re-readable, so it can be checked up front and
    counted) or an iterable (read once, checked as it is consumed)."""

    def __init__(self, items: str | os.PathLike[str] | Iterable[Mapping[str, Any]]) -> None:
        self.path: pathlib.Path | None = None
        self._iterable: Iterable[Mapping[str, Any]] | None = None
        if isinstance(items, (str, os.PathLike)):
            path = pathlib.Path(items)
            if path.suffix.lower() not in (".jsonl", ".csv", ".ndjson"):
                raise ValidationError(f"items file must be .jsonl or .csv, not {path.name!r}")
            if not path.is_file():
                raise ValidationError(f"items file {str(path)!r} does not exist")
            self.path = path
        elif isinstance(items, Mapping) or not isinstance(items, Iterable):
            raise ValidationError("items must be a JSONL/CSV path or an iterable of dicts")
        else:
            self._iterable = items

    @property
    def rereadable(self) -> bool:
        return self.path is not None

    def raw(self) -> Iterator[dict[str, Any]]:
        if self.path is not None:
            reader = _csv if self.path.suffix.lower() == ".csv" else _jsonl
            return reader(self.path)
        if self._iterable is None:
            raise ValidationError("the items iterable was already consumed")
        iterable, self._iterable = self._iterable, None
        return (dict(raw) if isinstance(raw, Mapping) else raw for raw in iterable)

    def __iter__(self) -> Iterator[Item]:
        for index, raw in enumerate(self.raw()):
            yield check_item(index, raw)
