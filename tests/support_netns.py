"""A network namespace for tests and benchmarks with media (WebRTC through Janus).

Janus skips loopback interfaces when it gathers ICE candidates, and Chromium offers none
without a flag, so on 127.0.0.1 alone media would flow over the machine's own network
address. Instead Janus, `trainer serve` and Chromium run inside a namespace made here: a veth
pair with private addresses (the `dummy` link type is missing on some kernels) links it to the
test process, which reaches the server at `ns.address`. Inside it, media never touches a real
interface. Needs root (`ip netns add`); `available()` says whether this machine can,
`media_unavailable()` whether Janus and Chromium are there too. Shared by the video tests
(tests/conference_pages/, tests/conference/test_media_path.py) and benchmark 8
(bench/conference*.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from tests.support_servers import ROOT, TRAINER, Server

IP = shutil.which("ip") or "/usr/sbin/ip"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 "--autoplay-policy=no-user-gesture-required"]


def available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if not Path(IP).exists():
        return "the `ip` command (iproute2) is missing"
    return None


def media_unavailable() -> str | None:
    """None when a room with media can run here (root, Janus, Chromium), else why not."""
    if why := available():
        return why
    if not shutil.which("janus"):
        return "Debian's janus is not installed (apt-get install janus)"
    if not CHROMIUM.exists():
        return "Debian's Chromium (/usr/bin/chromium) is not installed (apt-get install chromium)"
    return None


def secure_origin(url: str) -> list[str]:
    """Camera and microphone need a secure context: HTTPS, or this origin declared secure (the
    namespace's private address over plain HTTP; a real deployment serves HTTPS)."""
    return [f"--unsafely-treat-insecure-origin-as-secure={url}"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(*args: str) -> None:
    subprocess.run([IP, *args], check=True, capture_output=True, text=True, timeout=20)


def _used_networks() -> list[ipaddress.IPv4Network]:
    out = subprocess.run([IP, "-4", "-o", "addr"], capture_output=True, text=True,
                         timeout=20).stdout
    nets = []
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            nets.append(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    return nets


class NetNS:
    """`with NetNS() as ns:` a namespace `ns.name` whose veth end has `ns.address` (the
    test's end: `ns.peer`); everything is removed on exit, also after a failure. Names carry
    `purpose` and a random tag, and the /30 is a random one of 10.200-254.x.x that no
    interface of the machine uses, so tests and benchmarks running at once do not collide."""

    def __init__(self, purpose: str = "test") -> None:
        tag = uuid.uuid4().hex[:7]
        self.name = f"trainer-{purpose}-{tag}"
        self.host_if, self.ns_if = f"trh{tag}", f"trn{tag}"
        used = _used_networks()
        while True:
            net = ipaddress.ip_network(
                f"10.{random.randint(200, 254)}.{random.randint(0, 255)}.{4 * random.randint(0, 63)}/30")
            if not any(net.overlaps(u) for u in used):
                break
        hosts = list(net.hosts())
        self.peer, self.address = str(hosts[0]), str(hosts[1])
        self.prefix = net.prefixlen

    def __enter__(self) -> NetNS:
        _run("netns", "add", self.name)
        try:
            _run("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _run("link", "set", self.ns_if, "netns", self.name)
            _run("addr", "add", f"{self.peer}/{self.prefix}", "dev", self.host_if)
            _run("link", "set", self.host_if, "up")
            self.exec_ip("addr", "add", f"{self.address}/{self.prefix}", "dev", self.ns_if)
            self.exec_ip("link", "set", self.ns_if, "up")
            self.exec_ip("link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def exec_ip(self, *args: str) -> None:
        _run("netns", "exec", self.name, IP, *args)

    def command(self, *args: str) -> list[str]:
        """`args` run inside the namespace (ip netns exec replaces itself with the command,
        so the child's pid is the command's own)."""
        return [IP, "netns", "exec", self.name, *args]

    def wrapper(self, program: str, folder: Path) -> Path:
        """An executable that runs `program` inside the namespace with the arguments it is
        given: Playwright launches Chromium through it."""
        path = folder / f"{Path(program).name}-in-{self.name}"
        path.write_text(f'#!/bin/sh\nexec {IP} netns exec {self.name} {program} "$@"\n')
        path.chmod(0o755)
        return path

    def pids(self) -> list[int]:
        """The processes inside the namespace now."""
        out = subprocess.run([IP, "netns", "pids", self.name], capture_output=True, text=True,
                             timeout=20).stdout
        return [int(p) for p in out.split()]

    def launch_chromium(self, playwright: Any, url: str, folder: Path) -> Any:
        """Debian's Chromium inside the namespace, with fake camera and microphone, `url`
        treated as a secure origin."""
        return playwright.chromium.launch(
            executable_path=str(self.wrapper(str(CHROMIUM), folder)),
            args=[*CHROMIUM_ARGS, *secure_origin(url)])

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            _run("link", "del", self.host_if)  # removes both ends of the pair
        with contextlib.suppress(subprocess.SubprocessError):
            _run("netns", "del", self.name)


class NsServer(Server):
    """`trainer serve` inside the namespace, listening on its veth address (a `janus` on
    PATH is started by it as its child, in the same namespace)."""

    def __init__(self, ns: NetNS, name: str, env: dict[str, str], log_dir: Path,
                 port: int = 5000) -> None:
        super().__init__(name, env, log_dir, port=port)
        self.ns = ns
        self.url = f"http://{ns.address}:{port}"

    def start(self, wait: bool = True) -> NsServer:
        self.starts += 1
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.ns.command(str(TRAINER), "serve", "--host", self.ns.address,
                                "--port", str(self.port)),
                env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT))
        if wait:
            self.wait_ready()
        return self

    def janus_pid(self) -> int | None:
        """The server's child Janus (by the server's children in /proc)."""
        if self.proc is None:
            return None
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                if Path(f"/proc/{child}/comm").read_text().strip() == "janus":
                    return int(child)
        return None
