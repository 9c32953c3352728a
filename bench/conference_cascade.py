"""Two Janus servers, one room each: a publisher on the origin reaches a subscriber on the edge
through VideoRoom remote publishers (`add_remote_publisher` on the edge, `publish_remotely` on
the origin), the step of the plan for hundreds of sites (README, "Video at scale") that sends
the host's stream once per server instead of once per site. Checks that Debian's Janus does it.

Inside a network namespace it makes (root), two Janus children configured as trainer
configures its own (token auth, the VideoRoom's admin key); the publisher and the subscriber
are aiortc (bench/conference_load.py). Prints the packets the edge's subscriber received.

python -m bench.conference_cascade
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOM, PIN, SECRET, HOST_ID = 1234, "pin", "secret", 77


def _janus(address: str, name: str, ports: str) -> tuple[Any, Any]:
    from trainer.conference.process import JanusConfig, ManagedJanus, janus_binary

    config = JanusConfig(folder=Path(tempfile.mkdtemp(prefix=f"trainer-cascade-{name}-")),
                         http_host=address, events_url="http://127.0.0.1:9/none",
                         rtp_port_range=ports)
    server = ManagedJanus(config, janus_binary() or "janus")
    server.start()
    config.client().create_room(ROOM, pin=PIN, secret=SECRET, description=name, publishers=10)
    return server, config


async def _session(http: Any, config: Any) -> Any:
    from bench.conference_load import Janus

    token = secrets.token_hex(12)
    config.client().add_token(token)
    janus = Janus(http, config.url, token)
    await janus.create()
    return janus


async def check(address: str) -> dict[str, int]:
    import aiohttp
    from aiortc import RTCPeerConnection, RTCSessionDescription

    from bench.conference_load import (
        AUDIO_CLOCK,
        VIDEO_CLOCK,
        LoopTrack,
        encode_audio,
        encode_video,
    )

    origin, o = _janus(address, "origin", "30000-30999")
    edge, e = _janus(address, "edge", "31000-31999")
    pcs: list[Any] = []
    try:
        async with aiohttp.ClientSession() as http:
            pub = await _session(http, o)
            handle = await pub.attach("host")
            await pub.message(handle, {"request": "join", "ptype": "publisher", "room": ROOM,
                                       "pin": PIN, "id": HOST_ID, "display": "host"})
            pc = RTCPeerConnection()
            pcs.append(pc)
            pc.addTransceiver(LoopTrack("audio", [encode_audio()], 0.02, AUDIO_CLOCK), "sendonly")
            pc.addTransceiver(LoopTrack("video", encode_video(15, 150), 1 / 15, VIDEO_CLOCK),
                              "sendonly")
            await pc.setLocalDescription(await pc.createOffer())
            answer = await pub.message(handle, {"request": "configure", "audio": True,
                                                "video": True},
                                       {"type": "offer", "sdp": pc.localDescription.sdp})
            await pc.setRemoteDescription(RTCSessionDescription(**answer["jsep"]))
            streams = answer["plugindata"]["data"]["streams"]

            # The edge stands in for the host; the origin sends the host's RTP there.
            remote = e.client().videoroom(
                "add_remote_publisher", room=ROOM, secret=SECRET, admin_key=e.room_admin_key,
                id=HOST_ID, display="host", iface=address,
                streams=[{k: s[k] for k in ("type", "mid", "mindex", "codec")} for s in streams])
            o.client().videoroom(
                "publish_remotely", room=ROOM, secret=SECRET, admin_key=o.room_admin_key,
                publisher_id=HOST_ID, remote_id="edge", host=address, port=remote["port"],
                rtcp_port=remote["rtcp_port"])

            # A site on the edge subscribes to the host as to any publisher of its room.
            sub = await _session(http, e)
            site = await sub.attach("site-5")
            joined = await sub.message(site, {"request": "join", "ptype": "publisher",
                                              "room": ROOM, "pin": PIN, "id": 5,
                                              "display": "site-5"})
            feed = await sub.attach("site-5")
            offer = await sub.message(feed, {
                "request": "join", "ptype": "subscriber", "room": ROOM, "pin": PIN,
                "streams": [{"feed": HOST_ID}],
                "private_id": joined["plugindata"]["data"]["private_id"]})
            pc2 = RTCPeerConnection()
            pcs.append(pc2)
            await pc2.setRemoteDescription(RTCSessionDescription(**offer["jsep"]))
            await pc2.setLocalDescription(await pc2.createAnswer())
            await sub.message(feed, {"request": "start", "room": ROOM},
                              {"type": "answer", "sdp": pc2.localDescription.sdp})
            await asyncio.sleep(6)
            return {item.kind: item.packetsReceived for item in (await pc2.getStats()).values()
                    if item.type == "inbound-rtp"}
    finally:
        for pc in pcs:
            await pc.close()
        origin.stop()
        edge.stop()
        for config in (o, e):
            shutil.rmtree(config.folder, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--inside":
        got = asyncio.run(check(sys.argv[2]))
        print(f"the edge's subscriber received, in 6 s, from the origin's publisher: "
              f"{got.get('audio', 0)} audio and {got.get('video', 0)} video packets")
        sys.exit(0 if got.get("audio") and got.get("video") else 1)
    from tests.support_netns import NetNS

    with NetNS("cascade") as ns:
        done = subprocess.run(ns.command(sys.executable, "-m", "bench.conference_cascade",
                                         "--inside", ns.address), check=False, timeout=180)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
