"""README's model-family table: it covers every model of the packaged catalogue, its example
lines run against the emulator (checked as any call is, then rendered) and each result is of
the kind the table says; the example scripts it names exist."""

from __future__ import annotations

import fnmatch
import itertools
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.testing import LocalSupernet
from tests.testing.decoders import kind_of

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "examples" / "media"
#: the file names the table's examples use -> sample inputs of the same kind
FILES = {".png": MEDIA / "sample.png", ".mp4": MEDIA / "sample.mp4"}
KINDS = {"image": "image", "3D": "model", "video": "video", "audio": "audio"}


def table_rows() -> list[tuple[str, str, str]]:
    """``(family, makes, example)`` of each row of the "Model families" list-table."""
    text = (ROOT / "README.rst").read_text("utf-8")
    section = text.split("\nModel families\n", 1)[1].split("\n\n.. list-table::", 1)[1]
    body = section.split("\n\n", 2)[1]
    rows = []
    for row in re.split(r"\n   \* - ", "\n" + body)[1:]:
        cells = [" ".join(c.split()) for c in re.split(r"\n     - ", row)]
        assert len(cells) == 3, row
        rows.append((cells[0], cells[1], cells[2]))
    return rows[1:]  # the header row


def id_patterns(family: str) -> list[str]:
    """The model-id patterns of a family cell (``a*``, ``x-{t2v,i2v}`` expanded)."""
    patterns = []
    for literal in re.findall(r"``([^`]+)``", family):
        if " " in literal or "(" in literal:
            continue  # a call, not an id
        parts = re.split(r"\{([^}]*)\}", literal)
        choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
        patterns += ["".join(c) for c in itertools.product(*choices)]
    return patterns


def test_the_table_parses_and_can_fail() -> None:
    rows = table_rows()
    assert len(rows) >= 15
    assert id_patterns("X (``happyhorse-1.1-{t2v,i2v}``, ``a_*``, ``p.f(x)``)") == [
        "happyhorse-1.1-t2v", "happyhorse-1.1-i2v", "a_*"]


def test_every_catalogue_model_has_a_row() -> None:
    catalog = json.loads(resources.files("sogni_sync").joinpath("data/catalog.json")
                         .read_text("utf-8"))
    patterns = [p for family, _, _ in table_rows() for p in id_patterns(family)]
    missing = [m["id"] for m in catalog["models"]
               if not any(fnmatch.fnmatchcase(m["id"], p) for p in patterns)]
    assert missing == []


def test_the_example_scripts_named_exist() -> None:
    named = {n for _, _, example in table_rows() for n in re.findall(r"``(\w+\.py)``", example)}
    assert named and all((ROOT / "examples" / n).is_file() for n in named), named


@pytest.fixture(scope="module")
def small_client() -> Iterator[SogniClient]:
    with LocalSupernet(step_delay=0, media_max_side=32, video_max_side=64, max_frames=6,
                       max_seconds=0.5) as net, \
            SogniClient(app_id="readme-table", api_key=net.api_key, rest_endpoint=net.rest_url,
                        socket_endpoint=net.socket_url) as client:
        yield client


@pytest.mark.parametrize(("family", "makes", "example"), table_rows(),
                         ids=[r[0].split(" (")[0][:40] for r in table_rows()])
def test_the_example_line_makes_what_the_table_says(
        family: str, makes: str, example: str, small_client: SogniClient,
        tmp_path: Path) -> None:
    call = re.match(r"``(p\.create_\w+\(.*?\))``", example)
    assert call, example
    source = re.sub(r'"[\w.]+(\.png|\.mp4)"', lambda m: repr(str(FILES[m.group(1)])),
                    call.group(1))
    model = re.match(r'p\.create_\w+\("([^"]+)"', source)
    assert model and any(fnmatch.fnmatchcase(model.group(1), p) for p in id_patterns(family))
    project: Any = eval(source, {"p": small_client.projects})  # the README's line, emulated
    assert len(project.wait(timeout=60)) >= 1
    path = project.jobs[0].download(tmp_path)
    assert kind_of(path.read_bytes()) == KINDS[makes.split()[0]], (family, path)
