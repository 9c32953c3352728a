// The host's control room: the host's own camera and microphone published, a tile per bridge
// point (its low simulcast layer), live quality from getStats, a talking indicator, mute,
// floor, roll-call by video (the called site's tile grows), and pages of tiles.

import { api } from "./api.js";
import { DeviceCheck } from "./conference-devices.js";
import { attachTrack, ConferenceClient, detachTrack, pageTexts, selfMuteButton, showRecording } from "./conference-room.js";
import { connectLive, emitAck } from "./live.js";

const root = document.getElementById("conference");
const cfg = root.dataset;
const sessionId = Number(cfg.sessionId);
const perPage = Number(cfg.perPage) || 12;
const $ = (id) => document.getElementById(id);

const t = pageTexts();
const hhmm = (iso) => {
  const d = new Date(iso || Date.now());
  return d.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit", hour12: false });
};

// ------------------------------------------------------------------------------ tiles
let floorSiteId = null;
let calledSiteId = null;
let page = 0;
const tiles = new Map(); // site id -> {el, video, field(name), feed, sub, media, muted, called}
document.querySelectorAll(".conf-tile").forEach((el) => {
  const tile = {
    id: Number(el.dataset.siteId),
    el,
    video: el.querySelector("video"),
    field: (name) => el.querySelector(`[data-field="${name}"]`),
    feed: null,
    sub: null,
    media: "never",
    muted: false,
    called: false,
  };
  tiles.set(tile.id, tile);
  el.querySelector('[data-action="mute"]').disabled = true; // until the site sends sound
  el.querySelector('[data-action="mute"]').addEventListener("click", () => muteSite(tile));
  el.querySelector('[data-action="floor"]').addEventListener("click", () => setFloor(floorSiteId === tile.id ? null : tile.id));
  el.querySelector('[data-action="call"]').addEventListener("click", () => callSite(tile));
  renderTile(tile);
});

function renderTile(tile) {
  tile.el.dataset.media = tile.media;
  tile.field("media").textContent = t(`media_${tile.media}`);
  tile.el.querySelector('[data-action="mute"]').textContent = t(tile.muted ? "unmute_site" : "mute_site");
  tile.el.querySelector('[data-action="floor"]').textContent = t(floorSiteId === tile.id ? "take_floor" : "give_floor");
  tile.el.querySelector('[data-action="call"]').disabled = tile.called;
  tile.el.querySelector('[data-action="call"]').textContent = t("call");
  tile.el.classList.toggle("has-floor", floorSiteId === tile.id);
  tile.el.classList.toggle("called", calledSiteId === tile.id);
  tile.el.dataset.muted = tile.muted ? "1" : "0";
  // The host hears the site holding the floor and the site being called, never the others.
  tile.video.muted = !(floorSiteId === tile.id || calledSiteId === tile.id);
}

function renderCounts() {
  let connected = 0;
  for (const tile of tiles.values()) if (tile.media === "connected" || tile.media === "degraded") connected++;
  $("connected-count").textContent = t("sites_in_room", { n: connected, total: tiles.size });
  $("floor-state").textContent = floorSiteId === null ? t("floor_none") : tiles.get(floorSiteId)?.el.querySelector(".tile-name").textContent || "";
  $("take-floor").hidden = floorSiteId === null;
}

// ------------------------------------------------------------------------------ pages
const order = [...tiles.keys()];
const pages = () => Math.max(1, Math.ceil(order.length / perPage));

function onPage(id) {
  const index = order.indexOf(id);
  return Math.floor(index / perPage) === page || id === calledSiteId || id === floorSiteId;
}

function showPage(n) {
  page = Math.max(0, Math.min(pages() - 1, n));
  for (const tile of tiles.values()) {
    tile.el.hidden = !onPage(tile.id);
    syncSubscription(tile);
  }
  $("pager").hidden = pages() <= 1;
  $("page-label").textContent = t("page", { page: page + 1, pages: pages() });
  $("page-prev").disabled = page === 0;
  $("page-next").disabled = page >= pages() - 1;
}
$("page-prev").addEventListener("click", () => showPage(page - 1));
$("page-next").addEventListener("click", () => showPage(page + 1));

// A tile on the shown page receives its site's low layer; the called or floor site its high one.
function syncSubscription(tile) {
  const wanted = tile.feed && onPage(tile.id);
  if (!wanted) {
    if (tile.sub) tile.sub.close(true);
    tile.sub = null;
    tile.video.srcObject = null;
    delete tile.el.dataset.framesDecoded;
    return;
  }
  const substream = tile.id === calledSiteId || tile.id === floorSiteId ? 2 : 0;
  if (tile.sub && !tile.sub.closed) {
    tile.sub.setSubstream(substream);
    return;
  }
  tile.sub = client.subscribe(tile.feed, {
    substream,
    onTrack: (track, _mid, on) => {
      if (on) attachTrack(tile.video, track);
      else detachTrack(tile.video, track);
    },
    onGone: () => {
      tile.sub = null;
    },
  });
}

// ------------------------------------------------------------------------------ the call
function setStatus(kind, detail) {
  const el = $("conn-status");
  el.dataset.state = kind;
  el.textContent = t(kind, { reason: detail || "" });
}

const client = new ConferenceClient({
  joinUrl: cfg.joinUrl,
  body: { site_id: Number(cfg.hostSiteId), role: "host" },
  simulcast: true,
  onStatus: setStatus,
  onScreen: (sharing, error) => renderScreen(sharing, error),
  onLocalTrack: (track, on) => {
    if (track.kind !== "video" || track.getSettings?.().displaySurface) return; // not the slides
    if (on) attachTrack($("self-video"), track);
    else detachTrack($("self-video"), track);
  },
  onFeed: (feed) => {
    const tile = typeof feed.owner === "number" ? tiles.get(feed.owner) : null;
    if (!tile) return;
    tile.feed = feed;
    tile.el.querySelector('[data-action="mute"]').disabled = !feed.streams.some((s) => s.type === "audio");
    syncSubscription(tile);
  },
  onFeedGone: (feed) => {
    const tile = typeof feed.owner === "number" ? tiles.get(feed.owner) : null;
    if (!tile || tile.feed?.id !== feed.id) return;
    tile.feed = null;
    syncSubscription(tile);
  },
  onRoomEvent: (msg) => {
    if (msg.videoroom !== "talking" && msg.videoroom !== "stopped-talking") return;
    for (const tile of tiles.values()) {
      if (tile.feed && tile.feed.id === msg.id) tile.field("talking").dataset.on = msg.videoroom === "talking" ? "1" : "0";
    }
  },
});

// Quality badge and talking indicator from the receiving side, every 2 s.
setInterval(async () => {
  for (const tile of tiles.values()) {
    if (!tile.sub || tile.sub.closed) {
      tile.field("quality").textContent = "";
      continue;
    }
    const s = await tile.sub.stats();
    if (!s) continue;
    tile.el.dataset.framesDecoded = String(s.frames);
    tile.field("quality").textContent = t("quality", { kbps: s.kbps, loss: s.loss, rtt: s.rtt ?? "–" });
    tile.field("quality").dataset.level = s.loss >= 5 || (s.rtt ?? 0) >= 400 ? "bad" : s.loss >= 1 || (s.rtt ?? 0) >= 200 ? "warn" : "ok";
    tile.field("talking").dataset.on = s.level > 0.05 ? "1" : "0";
  }
}, 2000);

// ------------------------------------------------------------------------------ actions
function say(text) {
  const el = $("control-message");
  el.textContent = text;
  el.hidden = !text;
}

async function setFloor(siteId) {
  const r = await api("POST", cfg.floorUrl, { site_id: siteId });
  if (!r.ok) {
    say(t("failed", { reason: r.problem?.detail || r.status }));
    return;
  }
  applyFloor(siteId);
}

function applyFloor(siteId) {
  const before = floorSiteId;
  floorSiteId = siteId;
  for (const id of [before, siteId]) {
    const tile = tiles.get(id);
    if (!tile) continue;
    renderTile(tile);
    tile.el.hidden = !onPage(tile.id);
    syncSubscription(tile);
  }
  renderCounts();
}
$("take-floor").addEventListener("click", () => setFloor(null));

async function muteSite(tile) {
  const muted = !tile.muted;
  const r = await api("POST", cfg.muteUrl, { site_id: tile.id, muted });
  if (!r.ok) {
    say(t("failed", { reason: r.problem?.detail || r.status }));
    return;
  }
  tile.muted = muted;
  renderTile(tile);
}

// Slides: the host shares a screen or a window; every site shows it large, the host small.
const screenButton = $("share-screen");
function renderScreen(sharing, error) {
  screenButton.textContent = t(sharing ? "screen_stop" : "screen_start");
  screenButton.setAttribute("aria-pressed", String(sharing));
  $("screen-indicator").hidden = !sharing;
  if (error) say(t("screen_failed", { reason: error }));
}
renderScreen(false);
screenButton.addEventListener("click", async () => {
  screenButton.disabled = true;
  if (client.screenTrack) client.stopScreen();
  else {
    say("");
    await client.shareScreen();
  }
  screenButton.disabled = false;
});

// Recording (the host's choice): the host and the floor site; then converted and attached.
let recording = false;
const recordButton = $("record");
const hostName = document.querySelector("[data-testid=self-view] figcaption")?.textContent;
const siteName = (id) => (id === null
  ? `${hostName} (${t("rec_host")})`
  : tiles.get(id)?.el.querySelector(".tile-name").textContent || String(id));

function renderRecording(state) {
  recording = !!state.recording;
  showRecording($("rec-indicator"), recording, t, "recording_short");
  recordButton.disabled = !state.possible && !recording;
  recordButton.textContent = t(recording ? "record_stop" : "record_start");
  recordButton.setAttribute("aria-pressed", String(recording));
  const parts = state.parts || [];
  $("recordings").hidden = parts.length === 0 && state.converter !== false;
  const warning = $("rec-warning");
  warning.hidden = state.converter !== false;
  warning.textContent = t("rec_no_converter");
  const list = $("rec-parts");
  list.replaceChildren(
    ...parts.map((part) => {
      const li = document.createElement("li");
      li.dataset.state = part.state;
      li.dataset.testid = "rec-part";
      const when = `${hhmm(part.started_at)}${part.stopped_at ? `–${hhmm(part.stopped_at)}` : ""}`;
      li.textContent = `${siteName(part.site_id ?? null)} · ${when} · ${t(`rec_${part.state}`)}`;
      if (part.error) li.append(` — ${part.error}`);
      for (const [kind, id] of [["video", part.video_material_id], ["audio", part.audio_material_id]]) {
        if (!id) continue;
        const a = document.createElement("a");
        a.href = `${cfg.materialsUrl}/${id}`;
        a.target = "_blank";
        a.rel = "noopener";
        a.dataset.testid = `rec-${kind}`;
        a.textContent = t(`rec_${kind}`);
        li.append(" ", a);
      }
      return li;
    }),
  );
}

async function loadRecording() {
  const r = await api("GET", cfg.recordingUrl);
  if (r.ok) renderRecording(r.data);
}

recordButton.addEventListener("click", async () => {
  recordButton.disabled = true;
  const r = await api("POST", cfg.recordingUrl, { recording: !recording });
  recordButton.disabled = false;
  if (!r.ok) {
    say(t("failed", { reason: r.problem?.detail || r.status }));
    return;
  }
  say("");
  renderRecording(r.data);
});

// Roll-call by video: the called site's tile grows (high layer, its sound on) until its
// coordinator confirms on the check-in page, as in the roll-call of the wall.
let rollcallRunning = false;
async function callSite(tile) {
  if (!rollcallRunning) {
    const r = await api("POST", cfg.rollcallUrl, {});
    if (!r.ok) {
      say(t("failed", { reason: r.problem?.detail || r.status }));
      return;
    }
    rollcallRunning = true;
    for (const other of tiles.values()) other.field("rollcall").hidden = true;
  }
  const before = tiles.get(calledSiteId);
  calledSiteId = tile.id;
  tile.called = true;
  const state = tile.field("rollcall");
  state.hidden = false;
  state.dataset.state = "waiting";
  state.textContent = t("calling");
  for (const other of [before, tile]) {
    if (!other) continue;
    renderTile(other);
    other.el.hidden = !onPage(other.id);
    syncSubscription(other);
  }
}

function confirmed(siteId, at) {
  const tile = tiles.get(siteId);
  if (!tile) return;
  const state = tile.field("rollcall");
  state.hidden = false;
  state.dataset.state = "confirmed";
  state.textContent = t("confirmed", { time: hhmm(at) });
  if (calledSiteId === siteId) {
    calledSiteId = null;
    renderTile(tile);
    tile.el.hidden = !onPage(tile.id);
    syncSubscription(tile);
  }
}

// ------------------------------------------------------------------------------ hands
// Sites asking for the floor ("Xin phát biểu"), in the order they asked: one tap gives it.
const hands = new Map(); // site id -> when it asked (ISO)
function applyHand(siteId, at) {
  if (at) hands.set(siteId, at);
  else hands.delete(siteId);
  const tile = tiles.get(siteId);
  if (tile) {
    const note = tile.field("hand");
    note.hidden = !at;
    note.textContent = at ? t("hand_raised", { time: hhmm(at) }) : "";
    tile.el.classList.toggle("hand-raised", !!at);
  }
  const asked = [...hands.entries()].sort((x, y) => x[1].localeCompare(y[1]));
  $("hands").hidden = asked.length === 0;
  $("hands-list").replaceChildren(
    ...asked.map(([id, when]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.dataset.testid = "hand-give";
      button.dataset.siteId = String(id);
      button.title = t("give_floor");
      button.textContent = `${tiles.get(id)?.el.querySelector(".tile-name").textContent || id} · ${hhmm(when)}`;
      button.addEventListener("click", () => setFloor(id));
      return button;
    }),
  );
}

// ------------------------------------------------------------------------------ live state
function applyMedia(row) {
  const tile = tiles.get(Number(row.site_id));
  if (!tile) return;
  tile.media = row.media || "never";
  if ("muted" in row) tile.muted = !!row.muted;
  if ("hand_raised_at" in row) applyHand(tile.id, row.hand_raised_at);
  else if (tile.media !== "connected" && tile.media !== "degraded") applyHand(tile.id, null);
  renderTile(tile);
  renderCounts();
}

async function loadState() {
  const r = await api("GET", cfg.stateUrl);
  if (!r.ok) return;
  for (const row of r.data.sites || []) applyMedia(row);
  applyFloor(r.data.floor_site_id ?? null);
  loadRecording();
}

const socket = connectLive({
  onConnect: async (s) => {
    await emitAck(s, "watch", { session_id: sessionId });
    loadState();
  },
});
socket?.on("session_status", (p) => {
  if (Number(p.session_id) === sessionId && p.status === "ended") client.end();
});
socket?.on("conference_status", (p) => {
  if (Number(p.session_id) === sessionId) applyMedia(p);
});
socket?.on("conference_floor", (p) => {
  if (Number(p.session_id) === sessionId) applyFloor(p.site_id ?? null);
});
socket?.on("conference_hand", (p) => {
  if (Number(p.session_id) === sessionId) applyHand(Number(p.site_id), p.raised ? p.at : null);
});
socket?.on("conference_recording", (p) => {
  if (Number(p.session_id) === sessionId) loadRecording();
});
socket?.on("rollcall", (p) => {
  if (Number(p.session_id) !== sessionId) return;
  rollcallRunning = !!p.started_at;
});
socket?.on("rollcall_confirmed", (p) => {
  if (Number(p.session_id) === sessionId) confirmed(Number(p.site_id), p.at);
});

// ------------------------------------------------------------------------------ devices, join
const devices = new DeviceCheck({ t });
devices.start();

selfMuteButton($("mute-self"), client, t);

$("leave").addEventListener("click", () => {
  client.stop();
  location.href = root.querySelector(".session-line a")?.href || "/";
});

$("join").addEventListener("click", () => {
  client.o.video = devices.videoConstraints();
  client.o.audio = devices.audioConstraints();
  devices.release();
  $("prejoin").hidden = true;
  $("stage").hidden = false;
  document.body.classList.add("in-call");
  showPage(0);
  renderCounts();
  client.start();
});

window.addEventListener("pagehide", () => client.stop());
