"""Every example runs offline: no API key, so each starts its own emulated Supernet.

Each example is a subprocess in a fresh working directory (examples write to ``./out``); it must
exit 0 within the timeout, print what it is about and write the media it says it wrote. The runs
start together (a few at a time) so the whole module takes the time of its slowest few.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: the web apps run under real servers in tests/web; ``_web.py`` is their shared module
SERVED_ELSEWHERE = {"flask_app.py", "fastapi_app.py"}
TIMEOUT = 120.0
#: leading bytes of each kind of file the examples write (mp3: an MPEG-1 layer III frame header)
MAGIC = {".png": (0, b"\x89PNG\r\n\x1a\n"), ".mp4": (4, b"ftyp"), ".mp3": (0, b"\xff\xfb"),
         ".glb": (0, b"glTF\x02\x00\x00\x00")}
UUID = r"[0-9A-F]{8}(?:-[0-9A-F]{4}){3}-[0-9A-F]{12}"

#: example -> (lines its output must contain, as regexes; files it must write under out/)
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "batch.py": ([r"^4 completed, 0 already done, 0 failed in "],
                 ["batch/00000[0-3]-0.png"] * 4),
    "batch_dask.py": ([r"^16 completed on the cluster in "], ["batch-dask/*.png"] * 16),
    "chat_durable_run.py": ([r"^cost approval for call_\w+: 4\.0 capacity units$",
                             r"^Tool results: generate_image: 1 image ready$",
                             r"^final status: completed, 1 artifact\(s\)$",
                             r"^declined run: cancelled \(not this time\)$"], []),
    "creative_agent_tools.py": ([r"^hosted tool requested: \w+\(", r"^workflow \S+: completed$"],
                                []),
    "creative_agent_workflows.py": ([r"^workflow \S+ \(.*\) is ", r"^final status: completed$",
                                     r"^  artifact: http://127\.0\.0\.1:\d+/"], []),
    "event_driven.py": ([r"^\[job_completed\] job " + UUID, r"^done: completed 2 results$"], []),
    "image_edit.py": ([rf"^edited image: out/{UUID}_{UUID}\.png$"], ["*.png"]),
    "image_to_3d.py": ([rf"^model: out/{UUID}_{UUID}\.glb$"], ["*.glb"]),
    "image_to_video.py": ([r"^i2v assets: \{", rf"^video: out/{UUID}_{UUID}\.mp4$"], ["*.mp4"]),
    "loras_and_history.py": ([r"^\d+ LoRA\(s\) for flux1-schnell-fp8; using \S+ \(strength ",
                              r"^estimated render: [\d.]+ s$",
                              rf"^project {UUID}: completed, 1 result URL\(s\)$",
                              rf"^\d+ recent project\(s\), newest {UUID}$"], []),
    "minimax_h3_video.py": ([rf"^video: out/{UUID}_{UUID}\.mp4$"], ["*.mp4"]),
    "multi_turn.py": ([r"^> What was my favourite colour\?$", r"^7 messages in the conversation$"],
                      []),
    "sogni_tools.py": ([r"^sogni_generate_image: ok \['http://127\.0\.0\.1:\d+/"], []),
    "sound_to_video.py": ([rf"^video: out/{UUID}_{UUID}\.mp4$"], ["*.mp4"]),
    "speech.py": ([rf"^speech: out/{UUID}_{UUID}\.mp3$",
                   rf"^cloned voice: out/{UUID}_{UUID}\.mp3$"], ["*.mp3"] * 2),
    "streaming.py": ([r"^\[\d+ tokens, finish: stop\]$"], []),
    "text_chat.py": ([r"^estimate: \d+ input tokens, ~[\d.]+ USD$", r"^\[\d+ in / \d+ out, "], []),
    "text_to_image.py": ([r"^project " + UUID + " submitted; waiting\\.\\.\\.$",
                          r"^image written to /.*\.png$"], ["*.png"]),
    "text_to_music.py": ([r"^allowed samplers: \(", rf"^track: out/{UUID}_{UUID}\.mp3$"],
                         ["*.mp3"] * 2),
    "text_to_video.py": ([r"^estimated cost: [\d.]+ spark \(\$[\d.]+\)$",
                          rf"^video: out/{UUID}_{UUID}\.mp4$"], ["*.mp4"]),
    "tool_calling.py": ([r"^model asked for get_weather\(", r"^1 tool round\(s\)$"], []),
    "upscale_video.py": ([r"^completed\s+100%$",
                          rf"^upscaled: out/{UUID}_{UUID}\.mp4$"], ["*.mp4"]),
    "video_to_video.py": ([rf"^video: out/{UUID}_{UUID}\.mp4$"], ["*.mp4"]),
    "vision.py": ([r"^I see 1 image\(s\)\."], []),
    "workflow_template.py": ([r"^saved template tpl_\w+: inputs subject$",
                              r"^reseeded as wf_\w+ \(from wf_\w+\)$",
                              r"^  artifact: http://127\.0\.0\.1:\d+/"], []),
}
NEEDS = {"batch_dask.py": "distributed"}  # an optional extra ('dask')


def runnable() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.py")
                  if not p.name.startswith("_") and p.name not in SERVED_ELSEWHERE)


def run(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOGNI_")}
    return subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[dict[str, tuple[Path, Future[subprocess.CompletedProcess[str]]]]]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        started = {}
        for name in runnable():
            if name in NEEDS and not _importable(NEEDS[name]):
                continue
            cwd = tmp_path_factory.mktemp(name.removesuffix(".py"))
            started[name] = (cwd, pool.submit(run, name, cwd))
        yield started


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_every_example_has_an_expectation() -> None:
    assert set(runnable()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(
        name: str, runs: dict[str, tuple[Path, Future[subprocess.CompletedProcess[str]]]]) -> None:
    if name not in runs:
        pytest.skip(f"needs {NEEDS[name]} (an optional extra)")
    cwd, future = runs[name]
    done = future.result()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "Traceback" not in done.stderr, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "SOGNI_API_KEY is not set: using a local emulated Supernet"
    patterns, files = EXPECTED[name]
    for pattern in patterns:
        assert any(re.search(pattern, line) for line in lines), (pattern, done.stdout[-3000:])
    out = cwd / "out"
    for pattern in set(files):
        written = sorted(out.glob(pattern))
        assert len(written) == files.count(pattern), (pattern, written)
        for path in written:
            offset, magic = MAGIC[path.suffix]
            assert path.read_bytes()[offset:offset + len(magic)] == magic, path
