"""Shared machinery for the benchmarks: databases, demo-scale data, server processes, stats."""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRAINER = str(ROOT / ".venv" / "bin" / "trainer")
PG_URL = os.environ.get("BENCH_DATABASE_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}")


@dataclass
class Database:
    url: str
    data_dir: Path
    cleanup: list[Any] = field(default_factory=list)

    def drop(self) -> None:
        for fn in reversed(self.cleanup):
            fn()


def _data_dir(db: Database) -> Database:
    """The database's data folder (uploads, Janus's configuration, the SQLite file) is removed
    with it."""
    db.cleanup.append(lambda: shutil.rmtree(db.data_dir, ignore_errors=True))
    return db


def sqlite_database() -> Database:
    data_dir = Path(tempfile.mkdtemp(prefix="trainer-bench-"))
    return _data_dir(Database(f"sqlite:///{data_dir / 'bench.db'}", data_dir))


def postgres_database() -> Database:
    import psycopg

    name = f"trainer_bench_{secrets.token_hex(4)}"
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    data_dir = Path(tempfile.mkdtemp(prefix="trainer-bench-"))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    db = _data_dir(Database(url, data_dir))
    db.cleanup.append(drop)
    return db


@dataclass
class Fixture:
    """What a benchmark needs to know about the data it loaded."""

    session_id: int
    site_ids: list[int]
    participants: list[tuple[int, int, str]]  # (id, site_id, code)
    organiser_token: str
    coordinator_tokens: dict[int, str]  # site_id -> token
    quiz_id: int | None = None


def _env(db: Database, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": db.url, "TRAINER_DATA_DIR": str(db.data_dir),
                "SECRET_KEY": "bench-secret", "TRAINER_LOGIN_MAX_FAILURES": "1000000"})
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def load(db: Database, *, sites: int, participants: int, coordinators: int = 50,
         quiz: bool = False, checked_in: bool = False, checked_in_share: float = 1.0,
         builtin_conference: bool = False) -> Fixture:
    """Schema and data through the app's own services and models, in a child process."""
    args = [sys.executable, "-m", "bench.loader", "--sites", str(sites), "--participants",
            str(participants), "--coordinators", str(coordinators)]
    if quiz:
        args.append("--quiz")
    if builtin_conference:
        args.append("--builtin-conference")
    if checked_in:
        args += ["--checked-in", "--checked-in-share", str(checked_in_share)]
    out = subprocess.run(args, env=_env(db), cwd=ROOT, check=False, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise RuntimeError(f"bench.loader failed:\n{out.stderr[-3000:]}")
    import json

    raw = json.loads(out.stdout.strip().splitlines()[-1])
    raw["coordinator_tokens"] = {int(k): v for k, v in raw["coordinator_tokens"].items()}
    raw["participants"] = [tuple(p) for p in raw["participants"]]
    return Fixture(**raw)


class Server:
    """One real `trainer serve` process."""

    def __init__(self, db: Database, *, redis: bool = False, channel: str | None = None):
        self.port = free_port()
        extra = {"TRAINER_SOCKETIO_CHANNEL": channel or f"bench-{secrets.token_hex(4)}"}
        if redis:
            extra["REDIS_URL"] = REDIS_URL
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the process
            prefix="trainer-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(  # noqa: S603
            [TRAINER, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=_env(db, **extra), cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start; see {self.log.name}")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Row:
    name: str
    values: list[float]
    unit: str
    goal: str = ""
    ok: bool | None = None

    def cells(self) -> list[str]:
        med = statistics.median(self.values) if self.values else float("nan")
        lo = min(self.values) if self.values else float("nan")
        hi = max(self.values) if self.values else float("nan")
        verdict = "" if self.ok is None else ("met" if self.ok else "NOT MET")
        return [self.name, _fmt(med), _fmt(lo), _fmt(hi), self.unit, self.goal, verdict]


def _fmt(x: float) -> str:
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if abs(x) < 10:
        return f"{x:,.2f}"
    if abs(x) < 1000:
        return f"{x:,.1f}"
    return f"{x:,.0f}"


def table(title: str, rows: Iterable[Row]) -> str:
    head = ["measure", "median", "min", "max", "unit", "goal", ""]
    body = [r.cells() for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out = [f"\n### {title}\n", line, sep]
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + " |"
            for r in body]
    return "\n".join(out)
