"""``image``, ``video`` and ``music``: create a project, follow its progress on stderr,
download the results into ``--out`` and print their paths on stdout."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from typing import TYPE_CHECKING, Any

from sogni_sync.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    add_common,
    guarded,
    non_negative_int,
    open_client,
    positive_float,
    positive_int,
    say,
    show,
    text,
)
from sogni_sync.cli._progress import Progress
from sogni_sync.errors import SogniError, TimeoutError

if TYPE_CHECKING:
    from sogni_sync.projects import Project

__all__ = ["configure_image", "configure_music", "configure_video", "run_image", "run_music",
           "run_video"]

DEFAULT_MODELS = {"image": "flux1-schnell-fp8", "video": "wan_v2.2-14b-fp8_t2v_lightx2v",
                  "audio": "ace_step_1.5_turbo"}
#: how often the progress line is refreshed while waiting (ETA-based progress moves by itself)
REFRESH = 0.25


def _shared(parser: argparse.ArgumentParser, kind: str) -> None:
    parser.add_argument("prompt", type=text, metavar="PROMPT", help="what to generate")
    parser.add_argument("--model", default=DEFAULT_MODELS[kind],
                        help=f"model id (default: {DEFAULT_MODELS[kind]}; see `sogni-sync "
                             "models`)")
    parser.add_argument("-n", "--count", type=positive_int, default=1, metavar="N",
                        help="how many results (default: 1)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="inference steps (default: the model's)")
    parser.add_argument("--seed", type=non_negative_int, default=None,
                        help="random seed, for repeatable results")
    parser.add_argument("--token-type", choices=("spark", "sogni"), default=None,
                        help="token to pay with (default: the account's)")
    parser.add_argument("-o", "--out", default="out", metavar="DIR",
                        help="directory for the results (default: ./out)")


def configure_image(parser: argparse.ArgumentParser) -> None:
    _shared(parser, "image")
    parser.add_argument("--negative-prompt", default=None, metavar="TEXT",
                        help="what to avoid")
    parser.add_argument("--guidance", type=positive_float, default=None,
                        help="prompt guidance (default: the model's)")
    parser.add_argument("--width", type=positive_int, default=None, help="width in pixels")
    parser.add_argument("--height", type=positive_int, default=None, help="height in pixels")
    parser.add_argument("--format", dest="output_format", choices=("png", "jpg"), default=None,
                        help="file format (default: the model's, usually png)")
    add_common(parser)


def configure_video(parser: argparse.ArgumentParser) -> None:
    _shared(parser, "video")
    parser.add_argument("--duration", type=positive_float, default=None, metavar="SECONDS",
                        help="length in seconds (default: the model's)")
    parser.add_argument("--fps", type=positive_int, default=None,
                        help="frames per second (default: the model's)")
    parser.add_argument("--width", type=positive_int, default=None, help="width in pixels")
    parser.add_argument("--height", type=positive_int, default=None, help="height in pixels")
    add_common(parser)


def configure_music(parser: argparse.ArgumentParser) -> None:
    _shared(parser, "audio")
    parser.add_argument("--duration", type=positive_float, default=None, metavar="SECONDS",
                        help="length in seconds (default: the model's)")
    parser.add_argument("--bpm", type=positive_int, default=None, help="tempo, beats per minute")
    parser.add_argument("--keyscale", default=None, metavar="KEY",
                        help='key and scale, e.g. "A minor"')
    parser.add_argument("--lyrics", default=None, metavar="TEXT",
                        help='lyrics, e.g. "[verse]\\n...\\n[chorus]\\n..."')
    parser.add_argument("--format", dest="output_format", choices=("mp3", "wav"), default=None,
                        help="file format (default: mp3)")
    add_common(parser)


def _check_size(args: argparse.Namespace) -> None:
    if (args.width is None) != (args.height is None):
        raise UsageError("--width and --height go together")


def _follow(project: Project, progress: Progress, timeout: float | None) -> list[str]:
    """Wait for the project, refreshing the progress line; TimeoutError after ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = REFRESH if deadline is None else min(REFRESH, deadline - time.monotonic())
        try:
            return project.wait(max(0.0, step))
        except TimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                raise
        status = project.status
        if status in ("pending", "queued") and project.queue_position >= 0:
            status = f"queued, position {project.queue_position}"
        progress.update(project.progress, status)


def _cancel(project: Project) -> None:
    try:
        if project.cancel():
            say(f"sogni-sync: project {project.id} canceled")
        else:
            say(f"sogni-sync: project {project.id} had already finished")
    except (SogniError, OSError) as exc:
        say(f"sogni-sync: could not cancel project {project.id}: {exc}")


def _generate(args: argparse.Namespace, kind: str, params: dict[str, Any]) -> int:
    label = {"audio": "music"}.get(kind, kind)
    given = {k: v for k, v in params.items() if v is not None}
    out = pathlib.Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out} is not a directory")
    with open_client(args) as client:
        project = client.projects.create(
            type=kind, model_id=args.model, positive_prompt=args.prompt,
            number_of_media=args.count, steps=args.steps, seed=args.seed,
            token_type=args.token_type, **given)
        say(f"sogni-sync: {label} project {project.id} submitted")
        progress = Progress(label, sys.stderr, enabled=not args.quiet)
        try:
            _follow(project, progress, args.timeout)
            progress.update(100, "done")
        except TimeoutError:
            progress.close()
            _cancel(project)
            say(f"error: no result within {args.timeout:g}s")
            return EXIT_FAILURE
        except KeyboardInterrupt:
            progress.close()
            _cancel(project)
            raise
        finally:
            progress.close()
        written, withheld = [], 0
        for job in project.jobs:
            if job.has_result_media:
                out.mkdir(parents=True, exist_ok=True)
                path = job.download(out)
                written.append(path)
                show(path)
            elif job.is_nsfw:
                withheld += 1
        if withheld:
            say(f"sogni-sync: {withheld} result(s) withheld by the safety filter")
        if not written:
            say("error: the project produced no downloadable result")
            return EXIT_FAILURE
    return EXIT_OK


@guarded
def run_image(args: argparse.Namespace) -> int:
    _check_size(args)
    return _generate(args, "image", {
        "negative_prompt": args.negative_prompt, "guidance": args.guidance,
        "width": args.width, "height": args.height, "output_format": args.output_format})


@guarded
def run_video(args: argparse.Namespace) -> int:
    _check_size(args)
    return _generate(args, "video", {"duration": args.duration, "fps": args.fps,
                                     "width": args.width, "height": args.height})


@guarded
def run_music(args: argparse.Namespace) -> int:
    return _generate(args, "audio", {"duration": args.duration, "bpm": args.bpm,
                                     "keyscale": args.keyscale, "lyrics": args.lyrics,
                                     "output_format": args.output_format})
