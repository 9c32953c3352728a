"""Real server processes for the browser and fault tests: `trainer serve` processes, a private
redis-server, a private PostgreSQL database, a TCP proxy that can cut a connection, and a
small province loaded through the services.

Imported by tests/e2e/ and tests/faults/ (`from tests.support_servers import ...`).

Schema: made as a deployment makes it, with `trainer db upgrade` (the migration matches the
models, tests/test_migrations.py). Should the migration lag behind the models while they
change, the one line SCHEMA_FROM_MIGRATIONS = False switches to create_all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

SCHEMA_FROM_MIGRATIONS = True  # False: create_all (while the migration lags the models)

ROOT = Path(__file__).resolve().parent.parent
TRAINER = Path(sys.executable).with_name("trainer")
PASSWORD = "correct horse battery"
SECRET = "real-process-tests-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `check()` until it returns something truthy (bounded); for things that have no
    event to wait on (a port that opens, a row that appears)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error, result = exc, None
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


# --------------------------------------------------------------------------- databases

def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'trainer.db'}"


def postgres_base_url() -> Any:
    from sqlalchemy.engine import make_url

    return make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")


@contextlib.contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A fresh PostgreSQL database of our own beside TEST_DATABASE_URL's, dropped afterwards
    (the shared test database's tables are never touched)."""
    from sqlalchemy import create_engine, text

    base = postgres_base_url()
    name = f"{base.database}_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def child_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `trainer` child process: no test settings leak into it."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "PYTEST_", "FLASK_", "TRAINER_", "JANUS_"))
           and k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update({"DATABASE_URL": database_url, "TRAINER_DATA_DIR": str(data_dir),
                "SECRET_KEY": SECRET, "TRAINER_SOCKETIO_CHANNEL": f"trainer-test-{uuid.uuid4().hex}",
                "PYTHONUNBUFFERED": "1", "JANUS_MANAGED": "0"})  # video tests ask for Janus
    env.update(extra)
    return env


_loader_apps: dict[str, Any] = {}


def loader_app(database_url: str, data_dir: Path) -> Any:
    """An application in this process on the servers' database, to load data with the
    services (fast password hashes: the server checks any method). Built once per database
    URL; callers dispose of its engine when done, so no connection stays open."""
    from trainer import create_app
    from trainer.extensions import socketio

    if database_url not in _loader_apps:
        previous = socketio.server  # the shared test app's Socket.IO server stays in place
        _loader_apps[database_url] = create_app({
            "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "DATA_DIR": str(data_dir),
            "SECRET_KEY": SECRET, "LIVE_COALESCE_S": 0.0, "REDIS_URL": None,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        if previous is not None:
            socketio.server = previous
    return _loader_apps[database_url]


def create_schema(database_url: str, data_dir: Path) -> None:
    if SCHEMA_FROM_MIGRATIONS:
        done = subprocess.run([str(TRAINER), "db", "upgrade"],
                              env=child_env(database_url, data_dir), cwd=str(ROOT),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"trainer db upgrade failed:\n{done.stdout}{done.stderr}"
        return
    from trainer.extensions import db

    app = loader_app(database_url, data_dir)
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def count_rows(database_url: str, sql: str, **params: Any) -> Any:
    """One query straight on the database (not through the app): what is stored."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- a small province

FIRST_NAMES = ["Hà", "Bình", "Cúc", "Dũng", "Đào", "Giang", "Hải", "Khánh", "Lan", "Minh",
               "Nga", "Oanh", "Phúc", "Quang", "Sơn", "Thảo", "Uyên", "Vinh", "Xuân", "Yến"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]


@dataclass
class World:
    session_id: int
    host_id: int
    a_id: int
    b_id: int
    organiser_token: str
    coord_token: str
    people: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # site key -> rows
    quiz_id: int | None = None
    quiz_short_code: str | None = None
    quiz_answers: dict[int, list[int]] = field(default_factory=dict)  # question id -> correct


def load_world(database_url: str, data_dir: Path, *, at_a: int = 6, at_b: int = 3,
               at_host: int = 3, names_at_a: list[tuple[str, str]] | None = None,
               quiz: bool = False) -> World:
    """A live session across a host and two bridge points (A: Cẩm Khê, B: Đoan Hùng), every
    participant registered at their own site; users `organiser` and `coord_a` (coordinator of
    A), both with password PASSWORD; optionally an open quiz with three questions."""
    from trainer.auth.services import create_user, issue_token
    from trainer.dbtypes import utcnow
    from trainer.extensions import db
    from trainer.people.services import create as create_participant
    from trainer.sessions.models import Registration, SessionSite, SessionStatus, TrainingSession
    from trainer.sites.services import create_site

    app = loader_app(database_url, data_dir)
    with app.app_context():
        host = create_site(None, code="VT", name="Thành phố Việt Trì", kind="host")
        a = create_site(None, code="CK", name="Huyện Cẩm Khê")
        b = create_site(None, code="DH", name="Huyện Đoan Hùng")
        organiser = create_user("organiser", PASSWORD, "organiser")
        coord = create_user("coord_a", PASSWORD, "coordinator", [a.id])
        start = utcnow() - timedelta(minutes=30)
        session = TrainingSession(title="Tập huấn quản lý Trung tâm học tập cộng đồng",
                                  starts_at=start, ends_at=start + timedelta(hours=4),
                                  host_site_id=host.id, status=SessionStatus.LIVE,
                                  topics=["management"])
        session.session_sites = [SessionSite(site_id=s.id) for s in (host, a, b)]
        db.session.add(session)
        db.session.commit()

        n = 0

        def generated(count: int) -> list[tuple[str, str]]:
            nonlocal n
            out = []
            for _ in range(count):
                name = f"{FAMILY[n % len(FAMILY)]} Văn {FIRST_NAMES[n % len(FIRST_NAMES)]} {n}"
                out.append((name, ("female", "male")[n % 2]))
                n += 1
            return out

        people: dict[str, list[dict[str, Any]]] = {}
        for key, site, specs in (("a", a, (names_at_a or []) + generated(at_a - len(names_at_a or []))),
                                 ("b", b, generated(at_b)), ("host", host, generated(at_host))):
            rows = []
            for name, sex in specs:
                p = create_participant(None, {"full_name": name, "sex": sex, "site_id": site.id},
                                       commit=False)
                db.session.flush()
                db.session.add(Registration(session_id=session.id, participant_id=p.id,
                                            site_id=site.id))
                rows.append({"id": p.id, "code": p.code, "full_name": p.full_name, "sex": sex})
            db.session.commit()
            people[key] = rows

        world = World(session_id=session.id, host_id=host.id, a_id=a.id, b_id=b.id,
                      organiser_token=issue_token(organiser).token,
                      coord_token=issue_token(coord).token, people=people)
        if quiz:
            _load_quiz(world)
        db.session.remove()
        db.engine.dispose()
    return world


def _load_quiz(world: World) -> None:
    from trainer.extensions import db
    from trainer.quizzes import services
    from trainer.quizzes.models import Question

    q = services.create_quiz(None, {
        "session_id": world.session_id, "title": "Bài kiểm tra cuối buổi", "time_limit_s": 900,
        "pass_percent": 60, "shuffle_questions": False, "shuffle_options": False,
        "reveal": "after_submit",
        "questions": [
            {"kind": "single", "points": 1,
             "text": "Mỗi xã có bao nhiêu Trung tâm học tập cộng đồng?",
             "options": [{"text": "Một", "correct": True}, {"text": "Hai", "correct": False},
                         {"text": "Ba", "correct": False}]},
            {"kind": "multiple", "points": 1, "text": "Luật Bình đẳng giới nêu lĩnh vực nào?",
             "options": [{"text": "Giáo dục", "correct": True}, {"text": "Y tế", "correct": True},
                         {"text": "Thiên văn", "correct": False}]},
            {"kind": "true_false", "points": 1,
             "text": "Giới tính là đặc điểm sinh học của nam và nữ.",
             "options": [{"text": "Đúng", "correct": True}, {"text": "Sai", "correct": False}]},
        ]})
    services.set_status(None, q.id, "open")
    world.quiz_id, world.quiz_short_code = q.id, q.short_code
    for item in q.items:
        question = db.session.get(Question, item.question_id)
        world.quiz_answers[question.id] = [o.id for o in question.options if o.correct]


# --------------------------------------------------------------------------- trainer serve

class Server:
    """One `trainer serve` process (gevent, HTTP + Socket.IO) on a free loopback port."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path,
                 port: int | None = None) -> None:
        self.name, self.env, self.log_dir = name, env, log_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.log_dir / f"{self.name}.{self.starts}.log"

    def start(self, wait: bool = True) -> Server:
        self.starts += 1
        with self.log.open("wb") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [str(TRAINER), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT))
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                break
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} ({self.url}) did not start:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no flushing, as a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


# --------------------------------------------------------------------------- redis-server

class RedisServer:
    """A private redis-server on a free port, which a test may kill and start again (the
    machine's Redis is shared and must not be stopped)."""

    def __init__(self, log_dir: Path) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.binary
        with (self.log_dir / "redis.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no"],
                stdout=out, stderr=subprocess.STDOUT, cwd=str(self.log_dir))

        def ping() -> bool:
            import redis

            client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()

        wait_until(ping, 20, "redis-server to answer")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)


# --------------------------------------------------------------------------- a TCP proxy

class TcpProxy:
    """127.0.0.1:<port> -> target, in threads of the test process.

    cut(): the listening socket closes (new connections are refused) and every open
    connection is closed, as a server restart does; restore() listens again on the same port.
    drop_responses: what the target answers is read and thrown away (a response lost on the
    way back); `answered` is set when the target has sent something back.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.drop_responses = False
        self.answered = threading.Event()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    restore = start

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, back: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if back:
                    self.answered.set()
                    if self.drop_responses:
                        continue
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):  # wakes the other direction's recv
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._conns.discard(src)
            src.close()  # each direction closes the socket it reads from
