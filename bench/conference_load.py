"""Publishing sites without a browser, for benchmark 8's capacity run: real WebRTC through
Janus (ICE, DTLS, SRTP; aiortc), each site joining with the token trainer issues for it through
`POST /api/v1/sessions/<id>/conference/join`, exactly as a room computer's page does.

What makes it cheap enough to load Janus with many sites on the same two cores: the video is
encoded once, before the run (a short VP8 loop at the room computer's low quality, a keyframe
every second), and every site sends those same packets (aiortc packs pre-encoded packets
without encoding); the audio is one Opus packet of a quiet tone, 20 ms each, as Chromium sends
it. Sites that receive the host (`--subscribe`) get Janus's stream but do not decode it.

Run by bench/conference.py inside the benchmark's network namespace: it reads commands on its
standard input and writes one JSON line per result:

    add <site_id> [<site_id> ...]    join these sites (one after another, a few at a time)
    subscribe                        every site on the call (and each later one) receives the host
    stats                            RTP packets sent, received, and lost on the way to Janus
    quit

    {"site": 5, "up": 1765000000123.4}     the site's publisher PeerConnection is connected
    {"site": 5, "failed": "..."}          it did not get on the call
    {"site": 5, "pc": "failed"}           its publisher PeerConnection left "connected" here
    {"site": 5, "subscribed": true}       it receives the host
    {"site": 5, "subscribe_failed": "..."}
    {"stats": {"sent": 12000, "received": 9000, "lost": 3, "at": 5012.25}}

python -m bench.conference_load --url URL --session ID --token API_TOKEN [--fps 15 --kbps 150]
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import secrets
import sys
import time
from typing import Any

import aiohttp
import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription, rtcrtpreceiver

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
JOINS_AT_ONCE = 4


class _NoDecoder:
    """Received media is counted by Janus as sent; decoding it here would only cost the load
    generator CPU that Janus then lacks."""

    def decode(self, _frame: Any) -> list[Any]:
        return []


rtcrtpreceiver.get_decoder = lambda _codec: _NoDecoder()  # type: ignore[attr-defined]


def encode_video(fps: int, kbps: int, seconds: int = 2) -> list[bytes]:
    """A moving test picture at 320x180, VP8, a keyframe every second: one frame per item."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = 320, 180, "yuv420p"
    codec.time_base = fractions.Fraction(1, fps)
    codec.framerate = fractions.Fraction(fps, 1)
    codec.bit_rate = kbps * 1000
    codec.gop_size = fps
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    frames: list[bytes] = []
    for n in range(fps * seconds):
        img = av.VideoFrame(320, 180, "yuv420p")
        for i, plane in enumerate(img.planes):
            value = (n * 7 + i * 80) % 256
            row = bytes((value + x) % 256 for x in range(plane.line_size))
            plane.update(row * plane.height)
        img.pts = n
        frames += [bytes(p) for p in codec.encode(img)]
    frames += [bytes(p) for p in codec.encode(None)]
    return frames


def encode_audio() -> bytes:
    """One 20 ms Opus packet of a quiet tone (the same packet every 20 ms)."""
    import math

    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = AUDIO_CLOCK, "mono", "s16"
    codec.bit_rate = 32_000
    samples = 960
    packets: list[bytes] = []
    for n in range(10):
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        tone = bytearray()
        for i in range(samples):
            v = int(300 * math.sin(2 * math.pi * 440 * (n * samples + i) / AUDIO_CLOCK))
            tone += v.to_bytes(2, "little", signed=True)
        frame.planes[0].update(bytes(tone))
        frame.sample_rate, frame.pts = AUDIO_CLOCK, n * samples
        packets += [bytes(p) for p in codec.encode(frame)]
    return packets[-1]


class LoopTrack(MediaStreamTrack):
    """Sends pre-encoded packets at their pace (aiortc packs av.Packet without encoding)."""

    def __init__(self, kind: str, packets: list[bytes], interval: float, clock: int) -> None:
        super().__init__()
        self.kind = kind
        self.packets, self.interval, self.clock = packets, interval, clock
        self.n = 0
        self.start: float | None = None

    async def recv(self) -> av.Packet:
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.n * self.interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self.packets[self.n % len(self.packets)])
        packet.pts = int(self.n * self.interval * self.clock)
        packet.time_base = fractions.Fraction(1, self.clock)
        self.n += 1
        return packet


class Janus:
    """One Janus session over the HTTP API, with its long poll; replies by transaction."""

    def __init__(self, http: aiohttp.ClientSession, server: str, token: str) -> None:
        self.http, self.server, self.token = http, server, token
        self.url = ""
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.poller: asyncio.Task[None] | None = None

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6), "token": self.token}
        async with self.http.post(url, json=body) as r:
            answer: dict[str, Any] = await r.json(content_type=None)
        if answer.get("janus") == "error":
            raise RuntimeError(f"janus: {answer['error']}")
        return answer

    async def create(self) -> None:
        created = await self._post(self.server, {"janus": "create"})
        self.url = f"{self.server}/{created['data']['id']}"
        self.poller = asyncio.create_task(self._poll())

    async def attach(self, opaque_id: str) -> str:
        attached = await self._post(self.url, {"janus": "attach", "opaque_id": opaque_id,
                                               "plugin": "janus.plugin.videoroom"})
        return f"{self.url}/{attached['data']['id']}"

    async def message(self, handle: str, body: dict[str, Any],
                      jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a plugin message; the plugin's event that answers it (by transaction)."""
        transaction = secrets.token_hex(6)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[transaction] = future
        request: dict[str, Any] = {"janus": "message", "body": body, "token": self.token,
                                   "transaction": transaction}
        if jsep:
            request["jsep"] = jsep
        async with self.http.post(handle, json=request) as r:
            ack = await r.json(content_type=None)
        if ack.get("janus") == "error":
            raise RuntimeError(f"janus: {ack['error']}")
        if ack.get("janus") == "success":  # a synchronous answer
            self.waiting.pop(transaction, None)
            return dict(ack)
        return await asyncio.wait_for(future, 30)

    async def _poll(self) -> None:
        while True:
            try:
                async with self.http.get(f"{self.url}?maxev=5&token={self.token}",
                                         timeout=aiohttp.ClientTimeout(total=40)) as r:
                    events = await r.json(content_type=None)
            except (TimeoutError, aiohttp.ClientError):
                await asyncio.sleep(1)
                continue
            for event in events if isinstance(events, list) else [events]:
                future = self.waiting.pop(event.get("transaction", ""), None)
                if future and not future.done():
                    future.set_result(event)


def _error(event: dict[str, Any]) -> str | None:
    data = event.get("plugindata", {}).get("data", {})
    return str(data["error"]) if "error" in data else None


class Site:
    def __init__(self, gen: Generator, site_id: int) -> None:
        self.gen, self.site_id = gen, site_id
        self.janus: Janus | None = None
        self.join: dict[str, Any] = {}
        self.host_id: int | None = None
        self.private_id: int | None = None
        self.pcs: list[RTCPeerConnection] = []

    async def publish(self) -> None:
        gen = self.gen
        async with gen.http.post(
                f"{gen.url}/api/v1/sessions/{gen.session}/conference/join",
                json={"site_id": self.site_id, "role": "site"},
                headers={"Authorization": f"Bearer {gen.token}"}) as r:
            if r.status != 201:
                raise RuntimeError(f"join {r.status}: {await r.text()}")
            self.join = j = await r.json()
        self.janus = janus = Janus(gen.http, j["server"], j["token"])
        await janus.create()
        handle = await janus.attach(j["display"])
        joined = await janus.message(handle, {
            "request": "join", "ptype": "publisher", "room": j["room"], "pin": j["pin"],
            "id": j["publisher_id"], "display": j["display"]})
        if error := _error(joined):
            raise RuntimeError(error)
        data = joined["plugindata"]["data"]
        self.private_id = data.get("private_id")
        self.host_id = next((p["id"] for p in data.get("publishers", [])
                             if p.get("display") == "host"), None)
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        up = asyncio.get_running_loop().create_future()

        @pc.on("connectionstatechange")
        def _state() -> None:
            if pc.connectionState == "connected" and not up.done():
                up.set_result(time.time() * 1000)
            elif pc.connectionState == "failed" and not up.done():
                up.set_exception(RuntimeError("ICE/DTLS failed"))
            elif up.done() and pc.connectionState != "connected":
                gen.emit({"site": self.site_id, "pc": pc.connectionState})

        pc.addTransceiver(LoopTrack("audio", [gen.audio], 0.02, AUDIO_CLOCK), "sendonly")
        pc.addTransceiver(LoopTrack("video", gen.video, 1 / gen.fps, VIDEO_CLOCK), "sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer = await janus.message(handle, {"request": "configure", "audio": True,
                                              "video": True},
                                     {"type": "offer", "sdp": pc.localDescription.sdp})
        if error := _error(answer):
            raise RuntimeError(error)
        await pc.setRemoteDescription(RTCSessionDescription(**answer["jsep"]))
        gen.emit({"site": self.site_id, "up": await asyncio.wait_for(up, 30)})

    async def subscribe(self) -> None:
        """Receive the host (audio and video), as a room computer does."""
        if self.janus is None or self.host_id is None:
            return
        j = self.join
        handle = await self.janus.attach(j["display"])
        offer = await self.janus.message(handle, {
            "request": "join", "ptype": "subscriber", "room": j["room"], "pin": j["pin"],
            "streams": [{"feed": self.host_id}], "private_id": self.private_id})
        if error := _error(offer):
            raise RuntimeError(error)
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(**offer["jsep"]))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.janus.message(handle, {"request": "start", "room": j["room"]},
                                 {"type": "answer", "sdp": pc.localDescription.sdp})
        self.gen.emit({"site": self.site_id, "subscribed": True})


class Generator:
    def __init__(self, args: argparse.Namespace, http: aiohttp.ClientSession) -> None:
        self.url, self.session, self.token = args.url, args.session, args.token
        self.fps = args.fps
        self.http = http
        self.video = encode_video(args.fps, args.kbps)
        self.audio = encode_audio()
        self.sites: dict[int, Site] = {}
        self.subscribing = False
        self.slots = asyncio.Semaphore(JOINS_AT_ONCE)

    def emit(self, line: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    async def add(self, site_id: int) -> None:
        site = self.sites[site_id] = Site(self, site_id)
        async with self.slots:
            try:
                await site.publish()
            except Exception as e:  # noqa: BLE001 - reported as the site's failure
                self.emit({"site": site_id, "failed": f"{type(e).__name__}: {e}"})
                return
            if self.subscribing:
                await self._subscribe(site)

    async def _subscribe(self, site: Site) -> None:
        try:
            await site.subscribe()
        except Exception as e:  # noqa: BLE001 - reported as the site's failure
            self.emit({"site": site.site_id, "subscribe_failed": f"{type(e).__name__}: {e}"})

    async def subscribe_all(self) -> None:
        self.subscribing = True
        for site in list(self.sites.values()):
            async with self.slots:
                await self._subscribe(site)

    async def stats(self) -> dict[str, float]:
        """RTP packets sent and received so far by all sites, and the packets Janus reported
        lost (its receiver reports on the sites' streams); `at`: when (monotonic seconds)."""
        at = time.monotonic()
        sent = received = lost = 0
        for site in self.sites.values():
            for pc in site.pcs:
                for item in (await pc.getStats()).values():
                    if item.type == "outbound-rtp":
                        sent += item.packetsSent
                    elif item.type == "inbound-rtp":
                        received += item.packetsReceived
                    elif item.type == "remote-inbound-rtp":
                        lost += max(item.packetsLost, 0)
        return {"sent": sent, "received": received, "lost": lost, "at": at}

    async def close(self) -> None:
        for site in self.sites.values():
            for pc in site.pcs:
                await pc.close()


async def main_async(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        gen = Generator(args, http)
        gen.emit({"ready": True})
        tasks: set[asyncio.Task[None]] = set()
        while line := (await reader.readline()).decode().split():
            if line[0] == "add":
                for site_id in line[1:]:
                    task = asyncio.create_task(gen.add(int(site_id)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            elif line[0] == "subscribe":
                task = asyncio.create_task(gen.subscribe_all())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif line[0] == "stats":
                gen.emit({"stats": await gen.stats()})
            elif line[0] == "quit":
                break
        await gen.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.conference_load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--session", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--kbps", type=int, default=150)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
