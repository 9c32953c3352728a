"""A small client for the Janus WebRTC server: its HTTP API (`info`) and its admin API.

trainer never talks to Janus as a participant: rooms are created, checked and moderated with the
admin API's `message_plugin` (so no Janus session has to be kept alive), and browsers are
admitted with tokens added through `add_token`. Every call answers within `timeout` seconds or
raises `JanusUnavailable`; a refusal by Janus raises `JanusError`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"


class JanusError(Exception):
    """Janus answered with an error."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class JanusUnavailable(JanusError):
    """Janus did not answer (down, restarting, unreachable)."""


@dataclass(frozen=True)
class JanusClient:
    url: str  # the Janus HTTP API, e.g. http://127.0.0.1:8088/janus
    admin_url: str  # the admin API, e.g. http://127.0.0.1:7088/admin
    admin_secret: str
    room_admin_key: str | None = None  # the VideoRoom's admin_key, when it has one
    timeout: float = 3.0

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8)}
        try:
            response = requests.post(url, json=body, timeout=self.timeout)
            answer: dict[str, Any] = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise JanusUnavailable(f"Janus at {url} did not answer: {exc}") from exc
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(str(error.get("reason") or "error"), error.get("code"))
        return answer

    def info(self) -> dict[str, Any]:
        """The server's description (version, plugins); raises JanusUnavailable when down."""
        try:
            response = requests.get(f"{self.url.rstrip('/')}/info", timeout=self.timeout)
            answer: dict[str, Any] = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise JanusUnavailable(f"Janus at {self.url} did not answer: {exc}") from exc
        return answer

    def admin(self, request: str, **fields: Any) -> dict[str, Any]:
        return self._post(self.admin_url, {"janus": request, "admin_secret": self.admin_secret,
                                           **fields})

    # --- tokens (the core's token_auth) ---------------------------------------------------

    def add_token(self, token: str, plugins: tuple[str, ...] = (VIDEOROOM,)) -> None:
        self.admin("add_token", token=token, plugins=list(plugins))

    def remove_token(self, token: str) -> None:
        self.admin("remove_token", token=token)

    def list_tokens(self) -> list[str]:
        data = self.admin("list_tokens").get("data") or {}
        return [t.get("token") for t in data.get("tokens") or [] if t.get("token")]

    # --- the VideoRoom plugin -------------------------------------------------------------

    def videoroom(self, request: str, **fields: Any) -> dict[str, Any]:
        """A synchronous VideoRoom request; answers the plugin's response, or raises JanusError
        with the plugin's error code (e.g. 426: no such room)."""
        body: dict[str, Any] = {"request": request, **fields}
        if self.room_admin_key and request in ("create", "rtp_forward", "stop_rtp_forward"):
            body["admin_key"] = self.room_admin_key
        answer = self._post(self.admin_url, {"janus": "message_plugin", "plugin": VIDEOROOM,
                                             "admin_secret": self.admin_secret,
                                             "request": body})
        data: dict[str, Any] = answer.get("response") or {}
        if data.get("videoroom") == "event" and data.get("error_code"):
            raise JanusError(str(data.get("error")), int(data["error_code"]))
        return data

    def room_exists(self, room: int) -> bool:
        return bool(self.videoroom("exists", room=room).get("exists"))

    def create_room(self, room: int, *, pin: str, secret: str, description: str,
                    publishers: int, rec_dir: str | None = None) -> None:
        """A private room; only a request with its secret starts or stops a recording
        (`lock_record`), written into `rec_dir` when given."""
        extra = {"rec_dir": rec_dir} if rec_dir else {}
        self.videoroom(
            "create", room=room, pin=pin, secret=secret, description=description,
            is_private=True, publishers=publishers, require_pvtid=True, lock_record=True,
            notify_joining=True, audiolevel_event=True, bitrate=512000,
            videocodec="vp8", fir_freq=10, permanent=False, **extra)

    def participants(self, room: int) -> list[dict[str, Any]]:
        return list(self.videoroom("listparticipants", room=room).get("participants") or [])

    def kick(self, room: int, secret: str, publisher_id: int) -> None:
        self.videoroom("kick", room=room, secret=secret, id=publisher_id)

    def destroy_room(self, room: int, secret: str) -> None:
        self.videoroom("destroy", room=room, secret=secret)

    def lock_recording(self, room: int, secret: str, rec_dir: str) -> None:
        """Only a request with the room's secret may start or stop a recording, and Janus
        writes the room's recordings into `rec_dir` (a room made before recording existed
        gets both here)."""
        self.videoroom("edit", room=room, secret=secret, new_lock_record=True,
                       new_rec_dir=rec_dir)

    def message(self, janus_session: int, handle: int, body: dict[str, Any],
                token: str) -> None:
        """A plugin request on an existing handle (one a browser opened), through Janus's HTTP
        API: Janus acknowledges it at once and tells the handle's owner the outcome."""
        url = f"{self.url.rstrip('/')}/{janus_session}/{handle}"
        answer = self._post(url, {"janus": "message", "token": token, "body": body})
        if answer.get("janus") not in ("ack", "success", "event"):
            raise JanusError(f"unexpected answer {answer.get('janus')!r}")

    def record(self, janus_session: int, handle: int, *, room_secret: str, on: bool,
               filename: str | None, token: str) -> None:
        """Start (with `filename`, relative to the room's recording folder) or stop recording
        the publisher of a handle: VideoRoom `configure` with the room's secret (the room is
        created with `lock_record`, so no page can do this itself)."""
        body: dict[str, Any] = {"request": "configure", "record": on, "secret": room_secret}
        if on and filename:
            body["filename"] = filename
        self.message(janus_session, handle, body, token)

    def recording_files(self, janus_session: int, handle: int) -> list[str]:
        """The .mjr files Janus is writing for a publisher's handle now."""
        info = self.admin("handle_info", session_id=janus_session, handle_id=handle)
        streams = ((info.get("info") or {}).get("plugin_specific") or {}).get("streams") or []
        return [s["recording"] for s in streams if isinstance(s, dict) and s.get("recording")]
