"""Janus's raw recordings (.mjr, one file per stream) -> media files people can play.

`janus-pp-rec` (Debian's janus-tools) turns a VP8 video stream into .webm and an Opus audio
stream into .opus. When `ffmpeg` is on PATH the two of one publisher are merged into one .webm
(copied, not encoded again); without it they stay a pair. Nothing here touches the database:
`trainer.conference.attach` calls `convert` from a background task and attaches the result.
The work is done by those child processes; under gevent, `subprocess` waits cooperatively.

A failure raises `ConversionFailed` with a reason code; the raw files are never removed here.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TOOL = "janus-pp-rec"
TIMEOUT_S = 3 * 3600  # a day's recording converts in minutes; never wait forever
EXTENSIONS = {"video": ".webm", "audio": ".opus"}
MIN_BYTES = 64  # a container with no frame in it is smaller than this


class ConversionFailed(Exception):
    """`code` is one of: tool-missing, no-media, conversion-failed."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Track:
    kind: str  # "video", "audio", or "av" (merged)
    path: Path


def tool_path() -> str | None:
    return shutil.which(TOOL)


def raw_files(folder: Path, basename: str) -> list[Path]:
    """The .mjr files Janus wrote for one recorded publisher (`<basename>-<kind>-<n>.mjr`)."""
    return sorted(p for p in folder.glob(f"{basename}-*.mjr") if p.is_file())


def kind_of(raw: Path, basename: str) -> str | None:
    rest = raw.name[len(basename) + 1:]
    kind = rest.split("-", 1)[0]
    return kind if kind in EXTENSIONS else None


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S,  # noqa: S603
                          check=False, stdin=subprocess.DEVNULL)


def _last_error(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "couldn't" in ln.lower()]
    return (errors or lines or ["no output"])[-1][:300]


def convert(folder: Path, basename: str) -> list[Track]:
    """Convert one publisher's raw files; the converted files sit beside them. Streams that
    carried nothing (no camera, or a stretch shorter than a frame) are left out."""
    tool = tool_path()
    if tool is None:
        raise ConversionFailed("tool-missing")
    tracks: list[Track] = []
    problems: list[str] = []
    for raw in raw_files(folder, basename):
        kind = kind_of(raw, basename)
        if kind is None:
            continue
        out = raw.with_suffix(EXTENSIONS[kind])
        out.unlink(missing_ok=True)
        try:
            done = _run([tool, "-o", str(raw), str(out)])
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConversionFailed("conversion-failed", f"{raw.name}: {exc}") from exc
        if out.exists() and out.stat().st_size >= MIN_BYTES and done.returncode == 0:
            tracks.append(Track(kind, out))
            continue
        out.unlink(missing_ok=True)
        report = done.stdout + done.stderr
        if "no rtp packets" in report.lower() or "no packets" in report.lower():
            log.info("%s held no media; skipped", raw.name)
            continue
        problems.append(f"{raw.name}: {_last_error(report)}")
    if problems:
        for track in tracks:
            track.path.unlink(missing_ok=True)
        raise ConversionFailed("conversion-failed", "; ".join(problems)[:900])
    if not tracks:
        raise ConversionFailed("no-media")
    return merge(folder, basename, tracks)


def merge(folder: Path, basename: str, tracks: list[Track]) -> list[Track]:
    """One .webm with the picture and the sound when ffmpeg is there (streams copied); the
    tracks as they are otherwise, or when ffmpeg fails."""
    ffmpeg = shutil.which("ffmpeg")
    videos = [t for t in tracks if t.kind == "video"]
    audios = [t for t in tracks if t.kind == "audio"]
    if ffmpeg is None or len(videos) != 1 or len(audios) != 1:
        return tracks
    out = folder / f"{basename}.webm"
    try:
        done = _run([ffmpeg, "-nostdin", "-loglevel", "error", "-y",
                     "-i", str(videos[0].path), "-i", str(audios[0].path),
                     "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", str(out)])
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("ffmpeg could not merge %s: %s; the tracks stay apart", basename, exc)
        return tracks
    if done.returncode != 0 or not out.exists() or out.stat().st_size < MIN_BYTES:
        log.warning("ffmpeg could not merge %s: %s; the tracks stay apart", basename,
                    _last_error(done.stderr))
        out.unlink(missing_ok=True)
        return tracks
    for track in tracks:
        track.path.unlink(missing_ok=True)
    return [Track("av", out)]


def remove_files(folder: Path, basename: str) -> None:
    """After the recording is attached: its raw and converted files are no longer needed."""
    for path in folder.glob(f"{basename}[-.]*"):
        if path.is_file():
            path.unlink(missing_ok=True)
