// The live wall and the projector view: tiles rendered by the server, then updated in place
// from Socket.IO (namespace /live). Events carry a `version`: only a newer one is applied, and
// a list of some sites merges into what is shown. DOM writes are batched per animation frame;
// tiles are never rebuilt, only moved when the order changes.

import { api } from "./api.js";
import { fold } from "./fold.js";
import { connectLive, emitAck } from "./live.js";

const root = document.getElementById("wall");
const cfg = root.dataset;
const sessionId = Number(cfg.sessionId);
const projector = cfg.mode === "projector";
const $ = (id) => document.getElementById(id);

const messages = {};
document.querySelectorAll("#wall-i18n [data-k]").forEach((el) => {
  messages[el.dataset.k] = el.textContent;
});
function t(key, params = {}) {
  let text = messages[key] ?? key;
  for (const [name, value] of Object.entries(params)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

let timeFormat;
try {
  timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: cfg.timezone || undefined });
} catch (_err) {
  timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false });
}
const hhmm = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFormat.format(d);
};
const numberFormat = new Intl.NumberFormat(document.documentElement.lang || "vi");
const num = (n) => numberFormat.format(Number(n) || 0);
// The server's clock minus this one: times from the server compared with Date.now().
const clockOffset = cfg.now && !Number.isNaN(Date.parse(cfg.now)) ? Date.now() - Date.parse(cfg.now) : 0;
const serverMs = (iso) => {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? 0 : ms + clockOffset;
};
const aliveMs = 1000 * Number(cfg.aliveS || 300);
const share = (part, whole) => (whole > 0 ? Math.max(0, Math.min(100, Math.round((100 * part) / whole))) : 0);

// ------------------------------------------------------------------ state, read from the page
const state = {
  version: Number(cfg.version || 0),
  rollcallActive: cfg.rollcallStarted === "1",
  sites: new Map(), // site_id -> {data, el, refs, chart}
  order: [],
  dirty: new Set(),
  totals: null,
  totalsDirty: false,
  orderDirty: false,
  frame: 0,
  quizzes: new Map(), // quiz_id -> status
};

const fieldsOf = (el) => {
  const refs = {};
  el.querySelectorAll("[data-field]").forEach((node) => {
    refs[node.dataset.field] = node;
  });
  el.querySelectorAll("[data-part]").forEach((node) => {
    refs[`part_${node.dataset.part}`] = node;
  });
  return refs;
};

document.querySelectorAll("#tiles .tile[data-site-id]").forEach((el, index) => {
  const d = el.dataset;
  const id = Number(d.siteId);
  const data = {
    site_id: id, code: d.code, name: d.name, kind: d.kind, status: d.status,
    connected: d.connected === "1", registered: Number(d.registered), present: Number(d.present),
    female: Number(d.female), male: Number(d.male), unspecified: Number(d.unspecified),
    last_checkin_at: d.lastCheckinAt || null, rollcall_at: d.rollcallAt || null,
    note: el.querySelector("[data-field=note]")?.textContent.trim() || null,
    quiz: null, index, reported: d.reported || "unknown", serverPresence: d.presence,
    lastHeard: serverMs(d.lastHeardAt), checkinSeen: 0, state: d.state,
    conference: d.media ? { media: d.media, since: d.mediaSince || null, last_seen: d.mediaLastSeen || null } : null,
  };
  // Alive by a recent check-in rather than an open page: that check-in's time, as the server saw it.
  if (d.presence === "live" && d.connected !== "1") data.checkinSeen = data.lastHeard;
  data.folded = fold(`${data.name} ${data.code}`);
  state.sites.set(id, { data, el, refs: fieldsOf(el), chart: null });
  state.order.push(id);
});
document.querySelectorAll("#chart-rows [data-site-id]").forEach((el) => {
  const site = state.sites.get(Number(el.dataset.siteId));
  if (site) site.chart = { el, refs: fieldsOf(el) };
});
let chartScale = Number(cfg.chartScale || 1);

// ------------------------------------------------------------------ signs of life
// The same rule as trainer.checkin.liveness: live while a page is open or a check-in arrived
// within `aliveMs`; otherwise "lost" when heard from before, "never" when not.
function presenceOf(d) {
  if (d.connected) return "live";
  if (d.checkinSeen && Date.now() - d.checkinSeen <= aliveMs) return "live";
  return d.lastHeard || d.checkinSeen || d.serverPresence === "lost" ? "lost" : "never";
}
function stateOf(d) {
  const presence = presenceOf(d);
  if (presence !== "live") return presence;
  return !d.reported || d.reported === "unknown" ? "online" : d.reported;
}
const badgeClass = (state) => ({ never: "unknown", lost: "offline" })[state] || state;

// ------------------------------------------------------------------ alerts
const soundButton = $("sound-toggle");
const soundLabels = $("sound-labels");
let soundOn = false;
let audio = null;
try {
  soundOn = localStorage.getItem("wall-sound") === "1";
} catch (_err) { /* private mode: off */ }

function showSound() {
  if (!soundButton) return;
  soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
  soundButton.textContent = soundOn ? soundLabels.dataset.on : soundLabels.dataset.off;
  root.dataset.sound = soundOn ? "1" : "0";
}
soundButton?.addEventListener("click", () => {
  soundOn = !soundOn;
  try {
    localStorage.setItem("wall-sound", soundOn ? "1" : "0");
  } catch (_err) { /* not kept */ }
  if (soundOn && !audio && window.AudioContext) audio = new AudioContext(); // needs this tap
  showSound();
});
showSound();

function beep() {
  if (!audio && window.AudioContext) audio = new AudioContext();
  if (!audio) return;
  const at = audio.currentTime;
  for (const [start, freq] of [[0, 880], [0.25, 660], [0.5, 880]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.2, at + start);
    gain.gain.exponentialRampToValueAtTime(0.001, at + start + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(at + start);
    osc.stop(at + start + 0.23);
  }
}

function alertFor(site) {
  root.dataset.alerts = String(Number(root.dataset.alerts || 0) + 1);
  root.dataset.lastAlertSite = String(site.data.site_id);
  site.el.classList.remove("tile-flash");
  void site.el.offsetWidth; // restart the flash
  site.el.classList.add("tile-flash");
  if (soundOn) {
    beep();
    root.dataset.soundsPlayed = String(Number(root.dataset.soundsPlayed || 0) + 1);
  }
}

// ------------------------------------------------------------------ rendering (batched)
function schedule() {
  if (!state.frame) state.frame = requestAnimationFrame(render);
}

function setBar(refs, d, scale) {
  const f = share(d.female, scale);
  const m = Math.min(share(d.male, scale), 100 - f);
  const u = Math.min(share(d.unspecified, scale), 100 - f - m);
  if (refs.part_f) refs.part_f.style.width = `${f}%`;
  if (refs.part_m) refs.part_m.style.width = `${m}%`;
  if (refs.part_u) refs.part_u.style.width = `${u}%`;
}

function mediaLabel(c) {
  if (!c) return "";
  if (c.media === "lost") return t("media_lost", { time: hhmm(c.since || c.last_seen) || "–" });
  return t(`media_${c.media || "never"}`);
}

function renderTile(site) {
  const { data: d, el, refs } = site;
  const state = stateOf(d);
  const before = d.state;
  d.state = state;
  el.dataset.status = d.status;
  el.dataset.state = state;
  el.dataset.presence = presenceOf(d);
  el.dataset.connected = d.connected ? "1" : "0";
  el.dataset.registered = d.registered;
  el.dataset.present = d.present;
  el.dataset.alert = state === "issue" ? "1" : "0";
  el.classList.toggle("tile-alert", state === "issue");
  if (state !== "issue") el.classList.remove("tile-flash");
  if (state === "issue" && before !== "issue") alertFor(site);
  if (refs.status) {
    refs.status.className = `badge ${badgeClass(state)}`;
    refs.status.textContent = t(state === "never" || state === "lost" ? `presence_${state}` : `status_${state}`);
  }
  if (refs.conference) {
    refs.conference.hidden = !d.conference;
    if (d.conference) {
      el.dataset.media = d.conference.media || "never";
      refs.conference.textContent = mediaLabel(d.conference);
    }
  }
  if (refs.connected) {
    refs.connected.dataset.connected = d.connected ? "1" : "0";
    refs.connected.title = d.connected ? t("connected") : t("not_connected");
  }
  refs.present.textContent = num(d.present);
  refs.registered.textContent = num(d.registered);
  setBar(refs, d, Math.max(d.registered, d.present));
  refs.female.textContent = num(d.female);
  refs.male.textContent = num(d.male);
  const heard = Math.max(d.lastHeard || 0, d.checkinSeen || 0);
  if (state === "lost" && heard) refs.last.textContent = t("last_heard", { time: hhmm(new Date(heard - clockOffset).toISOString()) });
  else refs.last.textContent = d.last_checkin_at ? t("last", { time: hhmm(d.last_checkin_at) }) : "";
  if (refs.note && d.note !== null) {
    refs.note.textContent = d.note || "";
    refs.note.title = d.note || "";
    refs.note.hidden = !d.note;
  }
  if (refs.rollcall) {
    refs.rollcall.hidden = !state.rollcallActive;
    const confirmed = state.rollcallActive && !!d.rollcall_at;
    refs.rollcall.dataset.state = state.rollcallActive ? (confirmed ? "confirmed" : "waiting") : "none";
    refs.rollcall.textContent = confirmed ? t("rollcall_confirmed", { time: hhmm(d.rollcall_at) }) : t("rollcall_waiting");
  }
  if (refs.quiz) {
    const q = d.quiz;
    refs.quiz.hidden = !q;
    if (q) refs.quiz.textContent = t("quiz", { started: q.started ?? 0, submitted: q.submitted ?? 0, passed: q.passed ?? 0 });
  }
  if (site.chart) {
    const c = site.chart.refs;
    c.present.textContent = num(d.present);
    c.registered.textContent = num(d.registered);
    c.reg.style.width = `${share(Math.max(d.registered, d.present), chartScale)}%`;
    setBar(c, d, Math.max(d.registered, d.present));
  }
}

function renderTotals() {
  const tot = state.totals;
  if (!tot) return;
  const set = (key, value) => {
    const node = document.querySelector(`#totals [data-total="${key}"]`);
    if (node) node.textContent = value;
  };
  set("present", num(tot.present));
  set("registered", num(tot.registered));
  set("female", num(tot.female));
  set("male", num(tot.male));
  set("unspecified", num(tot.unspecified));
  set("attendance", tot.registered ? `${share(tot.present, tot.registered)}%` : "–");
  set("women", tot.present ? `${share(tot.female, tot.present)}%` : "–");
  const bar = document.querySelector("#totals .bar");
  if (bar) setBar(fieldsOf(bar.parentElement), tot, Math.max(tot.registered, tot.present));
}

function renderSummary() {
  let online = 0;
  let confirmed = 0;
  for (const { data } of state.sites.values()) {
    if (data.state === "online") online++;
    if (data.rollcall_at) confirmed++;
  }
  const node = document.querySelector('#totals [data-total="sites-online"]');
  if (node) node.textContent = num(online);
  renderNotes();
  const rc = $("rollcall-state");
  if (rc) {
    rc.hidden = !state.rollcallActive;
    rc.textContent = t("rollcall_count", { n: confirmed, total: state.sites.size });
  }
}

function render() {
  state.frame = 0;
  const rescale = computeChartScale();
  if (rescale) state.sites.forEach((site) => state.dirty.add(site.data.site_id));
  for (const id of state.dirty) {
    const site = state.sites.get(id);
    if (site) renderTile(site);
  }
  const anyChange = state.dirty.size > 0;
  state.dirty.clear();
  if (state.totalsDirty) {
    renderTotals();
    state.totalsDirty = false;
  }
  if (anyChange) renderSummary();
  if (state.orderDirty) applyOrder();
}

function computeChartScale() {
  let max = 1;
  for (const { data } of state.sites.values()) max = Math.max(max, data.registered, data.present);
  if (max !== chartScale) {
    chartScale = max;
    return true;
  }
  return false;
}

function markAll() {
  state.sites.forEach((site) => state.dirty.add(site.data.site_id));
  schedule();
}

// ------------------------------------------------------------------ sort and filter
const searchInput = $("wall-search");
const sortSelect = $("wall-sort");
const problemsOnly = $("wall-problems");
let lastOrderAt = 0;
let orderTimer = 0;

const problemRank = (d) => ({ lost: 0, issue: 1, offline: 1, never: 2 })[d.state] ?? 3;
const attendanceOf = (d) => (d.registered ? d.present / d.registered : 2);

function comparator() {
  const mode = sortSelect ? sortSelect.value : "board";
  const byName = (a, b) => a.folded.localeCompare(b.folded) || a.site_id - b.site_id;
  if (mode === "name") return byName;
  if (mode === "lowest") return (a, b) => attendanceOf(a) - attendanceOf(b) || byName(a, b);
  if (mode === "problems") return (a, b) => problemRank(a) - problemRank(b) || a.index - b.index;
  return (a, b) => a.index - b.index;
}

function requestOrder() {
  // At most one reorder a second while events stream in, so tiles do not jump constantly.
  const mode = sortSelect ? sortSelect.value : "board";
  if (mode === "board" && !problemsOnly?.checked) return;
  const wait = 1000 - (Date.now() - lastOrderAt);
  if (wait <= 0) {
    state.orderDirty = true;
    schedule();
  } else if (!orderTimer) {
    orderTimer = setTimeout(() => {
      orderTimer = 0;
      state.orderDirty = true;
      schedule();
    }, wait);
  }
}

function applyOrder() {
  state.orderDirty = false;
  lastOrderAt = Date.now();
  const query = fold(searchInput ? searchInput.value : "");
  const onlyProblems = !!problemsOnly?.checked;
  const all = [...state.sites.values()].map((s) => s.data).sort(comparator());
  const ids = all.map((d) => d.site_id);
  let visible = 0;
  for (const d of all) {
    const site = state.sites.get(d.site_id);
    const show = (!query || d.folded.includes(query)) && (!onlyProblems || problemRank(d) < 3);
    if (site.el.hidden === show) site.el.hidden = !show;
    if (site.chart && site.chart.el.hidden === show) site.chart.el.hidden = !show;
    if (show) visible++;
  }
  const empty = $("tiles-empty");
  if (empty) empty.hidden = visible > 0 || state.sites.size === 0;
  if (ids.join(",") !== state.order.join(",")) {
    const tiles = $("tiles");
    const frag = document.createDocumentFragment();
    const chartFrag = document.createDocumentFragment();
    for (const id of ids) {
      const site = state.sites.get(id);
      frag.append(site.el);
      if (site.chart) chartFrag.append(site.chart.el);
    }
    tiles.insertBefore(frag, empty || null);
    $("chart-rows")?.append(chartFrag);
    state.order = ids;
  }
  if (projector) fit();
}

searchInput?.addEventListener("input", () => {
  state.orderDirty = true;
  schedule();
});
sortSelect?.addEventListener("change", () => {
  state.orderDirty = true;
  schedule();
});
problemsOnly?.addEventListener("change", () => {
  state.orderDirty = true;
  schedule();
});

// ------------------------------------------------------------------ applying events
function mergeSite(row) {
  const site = state.sites.get(Number(row.site_id));
  if (!site) return false;
  const d = site.data;
  const presentBefore = d.present;
  for (const key of ["registered", "present", "female", "male", "unspecified"]) {
    if (row[key] !== undefined && row[key] !== null) d[key] = Number(row[key]);
  }
  if (d.present > presentBefore) d.checkinSeen = Date.now(); // a check-in is a sign of life
  if ("last_checkin_at" in row) d.last_checkin_at = row.last_checkin_at;
  state.dirty.add(d.site_id);
  return true;
}

function applyAttendance(body, snapshot = false) {
  if (!body || typeof body !== "object" || Number(body.session_id) !== sessionId) return;
  const version = Number(body.version);
  if (!Number.isFinite(version)) return;
  if (snapshot ? version < state.version : version <= state.version) return;
  state.version = version;
  root.dataset.version = version;
  // A site added to the session after this page was rendered has no tile: a reload shows it.
  for (const row of body.sites || []) mergeSite(row);
  if (!snapshot) refreshFeed();
  state.totals = body.totals || sumTiles();
  state.totalsDirty = true;
  requestOrder();
  schedule();
}

function sumTiles() {
  const tot = { registered: 0, present: 0, female: 0, male: 0, unspecified: 0 };
  for (const { data } of state.sites.values()) for (const key of Object.keys(tot)) tot[key] += data[key] || 0;
  return tot;
}

function applySiteStatus(p) {
  if (!p || Number(p.session_id) !== sessionId) return;
  const site = state.sites.get(Number(p.site_id));
  if (!site) return;
  const d = site.data;
  if (p.status) d.status = p.status;
  if (p.reported_status) d.reported = p.reported_status;
  if (typeof p.connected === "boolean") d.connected = p.connected;
  if ("note" in p) d.note = p.note || "";
  heardFrom(d, p);
  state.dirty.add(site.data.site_id);
  requestOrder();
  schedule();
}

function applyBoardRow(row) {
  const site = state.sites.get(Number(row.site_id));
  if (!site) return;
  const d = site.data;
  d.status = row.status || d.status;
  d.reported = row.reported_status || d.reported;
  d.connected = !!row.connected;
  d.note = row.status_note || "";
  d.rollcall_at = row.rollcall_at || null;
  if ("conference" in row) d.conference = row.conference || null;
  heardFrom(d, row);
  state.dirty.add(d.site_id);
}

function heardFrom(d, p) {
  if (p.presence) d.serverPresence = p.presence;
  const heard = serverMs(p.last_heard_at);
  if (heard > (d.lastHeard || 0)) d.lastHeard = heard;
  if (p.presence === "live" && p.connected === false && heard) d.checkinSeen = Math.max(d.checkinSeen || 0, heard);
}

// ------------------------------------------------------------------ the feed of the latest check-ins
let feedTimer = 0;
let feedAt = 0;
function refreshFeed() {
  const list = $("feed-items");
  if (!list || !cfg.feedUrl || feedTimer) return;
  const wait = Math.max(0, 2000 - (Date.now() - feedAt));
  feedTimer = setTimeout(async () => {
    feedAt = Date.now();
    try {
      const response = await fetch(cfg.feedUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.ok) {  // a fragment the server rendered (escaped by its templates)
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        list.replaceChildren(...doc.body.childNodes);
      }
    } catch (_err) { /* offline: the next push tries again */ }
    feedTimer = 0;
  }, wait);
}

// ------------------------------------------------------------------ notes of the sites with a problem
function renderNotes() {
  const box = $("notes");
  if (!box) return;
  const rows = [...state.sites.values()].map((s) => s.data).filter((d) => d.state === "issue" && d.note);
  box.hidden = rows.length === 0;
  box.replaceChildren(...rows.map((d) => {
    const p = document.createElement("p");
    p.dataset.siteId = d.site_id;
    const name = document.createElement("b");
    name.textContent = `${d.name}: `;
    p.append(name, document.createTextNode(d.note));
    return p;
  }));
  if (projector) fit();
}

// A note cut short on a tile opens in full on a tap (and shows on hover as its title).
document.getElementById("tiles")?.addEventListener("click", (event) => {
  const note = event.target.closest?.(".tile-note");
  if (!note) return;
  const open = note.getAttribute("aria-expanded") !== "true";
  note.setAttribute("aria-expanded", open ? "true" : "false");
});

// Time passes: a site alive only by its last check-in turns "lost" after a while.
setInterval(() => {
  for (const site of state.sites.values()) if (stateOf(site.data) !== site.data.state) state.dirty.add(site.data.site_id);
  if (state.dirty.size) {
    requestOrder();
    schedule();
  }
}, 10_000);

// After a reconnect: statuses, connections and roll-call answers as they are now.
async function refreshSites() {
  for (let page = 1; page <= 20; page++) {
    const result = await api("GET", `${cfg.sitesUrl}?per_page=500&page=${page}`);
    if (!result.ok) return;
    const items = result.data?.items || [];
    items.forEach(applyBoardRow);
    const total = result.data?.total ?? items.length;
    if (!items.length || page * 500 >= total) break;
  }
  requestOrder();
  schedule();
}

function setLive(up) {
  const node = $("live-state");
  if (!node) return;
  node.dataset.state = up ? "live" : "down";
  node.lastElementChild.textContent = up ? t("live") : t("down");
}

// ------------------------------------------------------------------ the connection
const socket = connectLive({
  onConnect: async (s) => {
    setLive(true);
    const ack = await emitAck(s, "watch", { session_id: sessionId });
    if (ack && !ack.error) applyAttendance(ack, true);
    if (state.connects++ > 0) refreshSites();
  },
  onDisconnect: () => setLive(false),
});
state.connects = 0;

if (socket) {
  socket.on("attendance", (body) => applyAttendance(body));
  socket.on("site_status", applySiteStatus);
  socket.on("session_status", (p) => {
    if (!p || Number(p.session_id) !== sessionId || !p.status) return;
    const badge = $("session-status");
    badge.className = `badge ${p.status}`;
    badge.textContent = t(`session_${p.status}`);
  });
  socket.on("rollcall", (p) => {
    if (!p || Number(p.session_id) !== sessionId) return;
    state.rollcallActive = !!p.started_at;
    state.sites.forEach((site) => {
      site.data.rollcall_at = null;
    });
    markAll();
  });
  socket.on("rollcall_confirmed", (p) => {
    if (!p || Number(p.session_id) !== sessionId) return;
    const site = state.sites.get(Number(p.site_id));
    if (!site) return;
    state.rollcallActive = true;
    site.data.rollcall_at = p.at || new Date().toISOString();
    state.dirty.add(site.data.site_id);
    schedule();
  });
  socket.on("conference_status", (p) => {
    if (!p || Number(p.session_id) !== sessionId) return;
    const site = state.sites.get(Number(p.site_id));
    if (!site) return;
    site.data.conference = { ...(site.data.conference || {}), media: p.media || "never", since: p.since || null };
    state.dirty.add(site.data.site_id);
    schedule();
  });
  socket.on("quiz_status", (p) => {
    if (!p || Number(p.session_id) !== sessionId) return;
    state.quizzes.set(p.quiz_id, p.status);
  });
  socket.on("quiz_progress", (p) => {
    if (!p || !Array.isArray(p.sites)) return;
    if (p.session_id !== undefined && Number(p.session_id) !== sessionId) return;
    for (const row of p.sites) {
      const site = state.sites.get(Number(row.site_id));
      if (!site) continue;
      site.data.quiz = { started: Number(row.started) || 0, submitted: Number(row.submitted) || 0, passed: Number(row.passed) || 0 };
      state.dirty.add(site.data.site_id);
    }
    schedule();
  });
}

// ------------------------------------------------------------------ roll-call button
const rollcallButton = $("rollcall-start");
rollcallButton?.addEventListener("click", async () => {
  rollcallButton.disabled = true;
  const result = await api("POST", cfg.rollcallUrl, {});
  rollcallButton.disabled = false;
  const message = $("wall-message");
  if (result.ok) {
    state.rollcallActive = true;
    state.sites.forEach((site) => {
      site.data.rollcall_at = null;
    });
    markAll();
    message.textContent = t("rollcall_started");
  } else {
    message.textContent = result.problem?.detail || "";
  }
  message.hidden = !message.textContent;
});

// ------------------------------------------------------------------ projector: fit the screen
function fit() {
  const tiles = $("tiles");
  const shown = [...state.sites.values()].filter((s) => !s.el.hidden).length || 1;
  const rect = tiles.getBoundingClientRect();
  const width = Math.max(200, rect.width);
  const below = ["notes", "feed"].reduce((sum, id) => {
    const node = $(id);
    return sum + (node && !node.hidden ? node.getBoundingClientRect().height + 8 : 0);
  }, 0);
  const height = Math.max(150, window.innerHeight - rect.top - 12 - below);
  // Many sites: two-line tiles (name, present / registered, the status as colour).
  const dense = shown > 120;
  tiles.classList.toggle("dense", dense);
  const [across, down] = dense ? [7.5, 2.6] : [13, 7.5];
  const gap = dense ? 2 : Math.max(4, Math.round(Math.min(width, height) / 120));
  // Try every column count; keep the one whose cells allow the largest type. A tile needs
  // about `across` em across and `down` em down.
  let best = { cols: 1, rows: shown, font: 0 };
  for (let cols = 1; cols <= Math.min(shown, 80); cols++) {
    const rows = Math.ceil(shown / cols);
    const w = (width - gap * (cols - 1)) / cols;
    const h = (height - gap * (rows - 1)) / rows;
    const font = Math.min(w / across, h / down);
    if (font > best.font) best = { cols, rows, font };
  }
  const font = Math.max(6, Math.min(40, best.font));
  tiles.style.gridTemplateColumns = `repeat(${best.cols}, minmax(0, 1fr))`;
  // Rows share the height when the type is at its largest; otherwise they take what they need.
  tiles.style.gridTemplateRows = best.font <= 40 ? `repeat(${best.rows}, minmax(0, 1fr))` : "";
  tiles.style.height = `${Math.floor(height)}px`;
  tiles.style.gap = `${gap}px`;
  tiles.style.setProperty("--tile-font", `${font.toFixed(1)}px`);
  // The estimate can fall short (a status line that wraps on a narrow tile, a note): make the
  // type smaller until no tile is cut at the bottom, down to 60 % of the estimate.
  // A tile cut at the bottom, or a line inside it squeezed by the tile's fixed height (a note
  // clamped to two lines shrinks rather than overflows).
  const over = (el) => el.scrollHeight > el.clientHeight + 1;
  const cut = () => [...tiles.children].some((el) => !el.hidden && (over(el)
    || [...el.children].some((line) => !line.hidden && line.clientHeight > 0 && over(line))));
  // (Dense tiles hide every optional line; at most 120 tiles are measured.)
  for (let size = font * 0.92; !dense && size >= font * 0.6 && cut(); size *= 0.92) {
    tiles.style.setProperty("--tile-font", `${size.toFixed(1)}px`);
  }
}

renderNotes();
if (projector) {
  fit();
  let resizeFrame = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(fit);
  });
}
root.dataset.ready = "1";
