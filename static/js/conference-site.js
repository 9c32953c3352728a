// The bridge point's room computer: check the devices, then full screen with the host large,
// the site holding the floor beside it and the site's own picture small. Publishes the site's
// camera and microphone (simulcast) and rejoins by itself after a drop.

import { api } from "./api.js";
import { DeviceCheck } from "./conference-devices.js";
import { attachTrack, ConferenceClient, detachTrack, pageTexts, screenMid, selfMuteButton, showRecording } from "./conference-room.js";
import { connectLive, emitAck } from "./live.js";

const root = document.getElementById("conference");
const cfg = root.dataset;
const sessionId = Number(cfg.sessionId);
const siteId = Number(cfg.siteId);
const $ = (id) => document.getElementById(id);

const t = pageTexts();
const siteNames = new Map([...document.querySelectorAll("#site-names [data-id]")].map((el) => [Number(el.dataset.id), el.textContent]));

// ------------------------------------------------------------ a second tab of the same site
const channel = "BroadcastChannel" in window ? new BroadcastChannel(`trainer-conference-${sessionId}-${siteId}`) : null;
let joined = false;
if (channel) {
  channel.onmessage = (event) => {
    if (event.data === "hello") channel.postMessage(joined ? "joined" : "open");
    else if (event.data === "joined" || event.data === "open") $("second-tab").hidden = false;
  };
  channel.postMessage("hello");
}

// ------------------------------------------------------------------------------ devices
const devices = new DeviceCheck({ t, onChange: applySpeaker });
devices.start();

function applySpeaker() {
  const id = devices.speakerId;
  if (!id) return;
  for (const el of [$("host-video"), $("floor-video")]) el?.setSinkId?.(id).catch(() => {});
}

// ------------------------------------------------------------------------------ the call
let floorSiteId = null;
let hostSub = null;
let floorSub = null;

function setStatus(kind, detail) {
  const el = $("conn-status");
  el.dataset.state = kind;
  el.textContent = t(kind, { reason: detail || "" });
  // The big screen says it too while the host's picture is missing (read from across the room).
  const waiting = $("host-waiting");
  waiting.textContent = kind === "live" || kind === "connecting" ? t("waiting_host") : el.textContent;
  waiting.dataset.state = kind;
  if (kind === "refused" || kind === "duplicate" || kind === "ended") {
    $("stage").dataset.blocked = "1";
  }
}

const client = new ConferenceClient({
  joinUrl: cfg.joinUrl,
  body: { site_id: siteId, role: "site" },
  simulcast: true,
  onStatus: setStatus,
  onLocalTrack: (track, on) => {
    if (track.kind !== "video") return;
    if (on) attachTrack($("self-video"), track);
    else detachTrack($("self-video"), track);
  },
  onFeed: (feed) => {
    if (feed.owner === "host") watchHost(feed);
    else if (feed.owner === floorSiteId) watchFloor(feed);
  },
  onFeedGone: (feed) => {
    if (feed.owner === "host") {
      hostSub = null;
      clearVideo($("host-video"));
      showSlides(false);
      $("host-waiting").hidden = false;
    } else if (feed.owner === floorSiteId) {
      floorSub = null;
      clearVideo($("floor-video"));
    }
  },
});

function clearVideo(el) {
  el.srcObject = null;
  delete el.dataset.framesDecoded;
}

// The host's camera and sound, and its slides when it shares its screen: then the slides take
// the big screen and the host's picture goes to its corner.
function watchHost(feed) {
  const slidesMid = screenMid(feed);
  showSlides(slidesMid !== null);
  hostSub = client.subscribe(feed, {
    substream: 2,
    onTrack: (track, mid, on) => {
      if (!on) return;
      if (slidesMid !== null && String(mid) === slidesMid) {
        attachTrack($("slides-video"), track);
        return;
      }
      attachTrack($("host-video"), track);
      $("host-waiting").hidden = true;
      applySpeaker();
    },
  });
}

function showSlides(on) {
  root.dataset.slides = on ? "1" : "";
  $("slides-video").hidden = !on;
  if (!on) clearVideo($("slides-video"));
}

function watchFloor(feed) {
  floorSub = client.subscribe(feed, {
    substream: 2,
    onTrack: (track, _mid, on) => {
      if (on) attachTrack($("floor-video"), track);
      applySpeaker();
    },
  });
}

function showFloor(id) {
  if (id === floorSiteId) return;
  if (floorSub) floorSub.close(true);
  floorSub = null;
  clearVideo($("floor-video"));
  floorSiteId = id;
  const screen = $("floor-screen");
  screen.hidden = id === null || id === siteId;
  $("floor-name").textContent = id === null ? "" : siteNames.get(id) || "";
  root.dataset.floorSiteId = id === null ? "" : String(id);
  document.querySelector(".self-view").classList.toggle("has-floor", id === siteId);
  if (id !== null && id !== siteId) {
    const feed = client.feedOf(id);
    if (feed) watchFloor(feed);
  }
}

// Frames decoded by the host's and the floor's pictures (shown to tests and to the curious).
setInterval(async () => {
  for (const [sub, el] of [[hostSub, $("host-video")], [floorSub, $("floor-video")]]) {
    const s = sub && !sub.closed ? await sub.stats() : null;
    if (s) el.dataset.framesDecoded = String(s.frames);
  }
  const slides = $("slides-video");
  if (!slides.hidden && slides.getVideoPlaybackQuality) {
    slides.dataset.framesDecoded = String(slides.getVideoPlaybackQuality().totalVideoFrames);
  }
}, 1000);

async function loadFloor() {
  const r = await api("GET", cfg.stateUrl);
  if (!r.ok) return;
  showFloor(r.data.floor_site_id ?? null);
  showRecording($("rec-indicator"), !!r.data.recording, t);
  const mine = (r.data.sites || []).find((row) => Number(row.site_id) === siteId);
  if (mine && "muted" in mine) showMuted(!!mine.muted);
  showHand(!!mine?.hand_raised_at);
}

// "Xin phát biểu": the site asks the host for the floor; giving it the floor answers it.
let handRaised = false;
function showHand(raised) {
  handRaised = raised;
  const button = $("raise-hand");
  button.textContent = t(raised ? "hand_lower" : "hand_raise");
  button.setAttribute("aria-pressed", String(raised));
}
showHand(false);
$("raise-hand").addEventListener("click", async () => {
  const button = $("raise-hand");
  button.disabled = true;
  const r = await api("POST", cfg.handUrl, { site_id: siteId, raised: !handRaised });
  button.disabled = false;
  const note = $("hand-note");
  note.hidden = r.ok;
  note.textContent = r.ok ? "" : r.problem?.detail || String(r.status);
  if (r.ok) showHand(!!r.data.raised);
});

const socket = connectLive({
  onConnect: async (s) => {
    await emitAck(s, "watch", { session_id: sessionId });
    loadFloor();
  },
});
// The host muted this site at the video server (its own page cannot undo it).
function showMuted(muted) {
  const note = $("muted-by-host");
  note.hidden = !muted;
  note.textContent = t("muted_by_host");
}
socket?.on("conference_status", (p) => {
  if (Number(p.session_id) === sessionId && Number(p.site_id) === siteId && "muted" in p) showMuted(!!p.muted);
});
socket?.on("conference_floor", (p) => {
  if (Number(p.session_id) === sessionId) showFloor(p.site_id ?? null);
});
socket?.on("conference_hand", (p) => {
  if (Number(p.session_id) === sessionId && Number(p.site_id) === siteId) showHand(!!p.raised);
});
socket?.on("conference_recording", (p) => {
  if (Number(p.session_id) === sessionId) showRecording($("rec-indicator"), !!p.recording, t);
});
socket?.on("session_status", (p) => {
  if (Number(p.session_id) === sessionId && p.status === "ended") client.end();
});

// ------------------------------------------------------------------------------ controls
selfMuteButton($("mute-self"), client, t);

$("fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else root.requestFullscreen?.().catch(() => {});
});

$("leave").addEventListener("click", () => {
  client.stop();
  joined = false;
  location.href = $("stage").closest("main")?.querySelector(".session-line a")?.href || "/";
});

$("join").addEventListener("click", () => {
  const video = devices.videoConstraints();
  const audio = devices.audioConstraints();
  devices.release();
  client.o.video = video;
  client.o.audio = audio;
  $("prejoin").hidden = true;
  $("stage").hidden = false;
  document.body.classList.add("in-call");
  root.requestFullscreen?.().catch(() => {});
  joined = true;
  channel?.postMessage("joined");
  client.start();
});

window.addEventListener("pagehide", () => client.stop());
