// The coordinator's check-in page for one site of one session (phone first, offline-first).
//
// Every check-in, walk-in and undo is written to an IndexedDB queue first, then sent; the page
// works against the roster cached on the device while the network is down and sends the queue
// when it comes back. What the server refuses moves to a "needs attention" list; nothing is
// dropped silently. Retrying is safe: every item carries its client_id.

import { api, isCsrfProblem, refreshCsrfToken } from "./api.js";
import { fold, normaliseCode } from "./fold.js";
import { connectLive, emitAck } from "./live.js";
import { isoNow, newClientId, openStore } from "./offline-queue.js";
import { rankByName, sharedNames } from "./rank.js";
import { cameraAvailable, startScanner } from "./scanner.js";

const root = document.getElementById("checkin-app");
const cfg = root.dataset;
const sessionId = Number(cfg.sessionId);
const siteId = Number(cfg.siteId);
const scope = `${sessionId}:${siteId}`;
const UNDO_GRACE_MS = 5000; // "Undone · Restore" stays this long before the undo is sent
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ messages (translated)
const messages = {};
document.querySelectorAll("#ck-i18n [data-k]").forEach((el) => {
  messages[el.dataset.k] = el.textContent;
});
function t(key, params = {}) {
  let text = messages[key] || key;
  for (const [name, value] of Object.entries(params)) text = text.split(`{${name}}`).join(String(value));
  return text;
}

let timeFormat;
try {
  timeFormat = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: cfg.timezone || undefined,
  });
} catch (_err) {
  timeFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false });
}
function hhmm(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFormat.format(d);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "type" || key === "role") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// ------------------------------------------------------------------ state
const state = {
  rows: [],              // roster rows (server rows plus walk-ins waiting to be sent)
  byKey: new Map(),      // row key -> row; key = participant id, or "tmp:<client_id>" for walk-ins
  byCode: new Map(),
  queue: [],             // queue items, in order; state "pending" or "attention"
  filter: "all",
  confirm: null,         // {key, clientId} of the confirmation on screen
  inflight: null,        // client_id being sent now
  online: navigator.onLine,
  socket: null,
  authLost: false,
  retryDelay: 0,
  retryTimer: 0,
  rosterLoaded: false,
  rosterFresh: false,
  sendFailing: false,
  socketNeverUp: true,
  connects: 0,
  lastSendOk: false,     // the last request reached the server (online even before the socket)
  undoing: null,         // {row, key, timer}: an undo still in its grace period
};
let store = null;
let seqCounter = 0;

const rowKey = (row) => (row.participant_id ? String(row.participant_id) : `tmp:${row.tmp}`);
// Present here: checked in at this site (a row may also show someone checked in elsewhere).
const serverPresent = (row) => !!row.checkin_id && (row.checkin_site_id == null || Number(row.checkin_site_id) === siteId);
const isPresent = (row) => {
  if (row.undoing) return false;
  return row.localIn === true || row.localIn === false ? row.localIn : serverPresent(row);
};
const elsewhere = (row) => row.localIn == null && !!row.checkin_id && !serverPresent(row);
const presentAt = (row) => (row.localIn === true ? row.localAt : row.checked_in_at);

let sharedCache = null;
function sharedSet() {
  if (!sharedCache) sharedCache = sharedNames(state.rows);
  return sharedCache;
}

function indexRow(row) {
  sharedCache = null;
  row._fold = fold(row.full_name);
  row._words = row._fold.split(" ");
  state.byKey.set(rowKey(row), row);
  if (row.code) state.byCode.set(row.code, row);
}

function serverRows() {
  return state.rows
    .filter((r) => r.participant_id)
    .map((r) => ({
      participant_id: r.participant_id, code: r.code, full_name: r.full_name, sex: r.sex,
      unit: r.unit, position: r.position, birth_year: r.birth_year ?? null, site_id: r.site_id, checkin_id: r.checkin_id || null,
      checked_in_at: r.checked_in_at || null, checkin_site_id: r.checkin_site_id ?? null,
    }));
}

let saveTimer = 0;
// The roster as the server last told it, kept on the phone for the next opening without a
// network: at once after a load or a confirmed check-in / undo, a moment later after pushes.
function saveRosterNow() {
  clearTimeout(saveTimer);
  saveTimer = 0;
  if (!store || !state.rosterLoaded) return;
  const savedAt = Date.now();
  store.putRoster(scope, { rows: serverRows(), saved_at: savedAt })
    .then(() => { root.dataset.rosterSaved = String(savedAt); })
    .catch(() => {});
}
function saveRosterSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveRosterNow, 300);
}

// Rows from the server (or the device cache), then every pending queue item replayed on top.
function setRoster(rows) {
  state.rows = rows.map((r) => ({ ...r }));
  sharedCache = null;
  state.byKey.clear();
  state.byCode.clear();
  state.rows.forEach(indexRow);
  for (const item of state.queue) if (item.state === "pending") applyLocal(item);
  renderRoster();
  renderCounts();
  renderResults();
}

function applyLocal(item) {
  if (item.kind === "walkin") {
    if (!state.byKey.has(`tmp:${item.client_id}`)) {
      const row = {
        participant_id: null, tmp: item.client_id, code: "", full_name: item.walkin.full_name,
        sex: item.walkin.sex, unit: item.walkin.unit || "", site_id: siteId,
        checkin_id: null, checked_in_at: null, localIn: true, localAt: item.at, pending: item.client_id,
      };
      state.rows.push(row);
      indexRow(row);
    }
    return;
  }
  const row = findRow(item);
  if (!row) return;
  row.pending = item.client_id;
  if (item.kind === "checkin") {
    row.localIn = true;
    row.localAt = item.at;
  } else if (item.kind === "undo") {
    row.localIn = false;
    row.localAt = null;
  }
}

function findRow(item) {
  if (item.key) return state.byKey.get(item.key) || null;
  if (item.participant_id) return state.byKey.get(String(item.participant_id)) || null;
  if (item.participant_code) return state.byCode.get(item.participant_code) || null;
  return null;
}

function clearLocal(row, clientId) {
  if (row && row.pending === clientId) {
    row.pending = null;
    row.localIn = null;
    row.localAt = null;
  }
}

// ------------------------------------------------------------------ rendering
const listEl = $("roster");
const rowEls = new Map();

function rowLabel(row, withBirthYear = false) {
  const born = withBirthYear && row.birth_year ? t("born", { year: row.birth_year }) : "";
  return [born, row.unit, row.code].filter(Boolean).join(" · ");
}

function buildRowEl(row) {
  const name = el("span", { class: "ck-row-name", text: row.full_name });
  const meta = el("span", { class: "ck-row-meta", text: rowLabel(row) });
  const stateEl = el("span", { class: "ck-row-state" });
  const action = el("button", { type: "button", class: "ck-row-action secondary", "data-testid": "roster-action" });
  const li = el("li", { class: "ck-row", "data-testid": "roster-row", "data-key": rowKey(row) },
    el("span", { class: "ck-row-who" }, name, meta), stateEl, action);
  li._refs = { name, meta, stateEl, action };
  action.addEventListener("click", () => {
    const current = state.byKey.get(li.dataset.key);
    if (!current) return;
    if (isPresent(current)) undo(current);
    else checkIn(current, "manual");
  });
  return li;
}

function updateRowEl(row) {
  const li = rowEls.get(rowKey(row));
  if (!li) return;
  const present = isPresent(row);
  li.classList.toggle("present", present);
  li.classList.toggle("waiting", !!row.pending);
  li.dataset.present = present ? "1" : "0";
  if (row.participant_id) li.dataset.participantId = row.participant_id;
  li.dataset.code = row.code || "";
  li.dataset.name = row.full_name;
  li._refs.meta.textContent = rowLabel(row, !!row.birth_year && sharedSet().has(row._fold));
  li.classList.toggle("elsewhere", elsewhere(row));
  li._refs.stateEl.textContent = present ? `✓ ${hhmm(presentAt(row))}` : (elsewhere(row) ? t("elsewhere") : "");
  li._refs.action.textContent = present ? t("undo") : t("check_in");
  li._refs.action.classList.toggle("danger-text", present);
}

function renderRoster() {
  rowEls.clear();
  const frag = document.createDocumentFragment();
  for (const row of state.rows) {
    const li = buildRowEl(row);
    rowEls.set(rowKey(row), li);
    frag.append(li);
  }
  listEl.replaceChildren(frag);
  state.rows.forEach(updateRowEl);
  $("roster-empty").hidden = state.rows.length > 0;
}

function renderCounts() {
  const registered = state.rows.length;
  const present = state.rows.filter(isPresent).length;
  $("count-present").textContent = present;
  $("count-registered").textContent = registered;
  $("count-absent").textContent = registered - present;
  root.dataset.present = present;
  root.dataset.registered = registered;
}

function refreshRow(row) {
  if (!row) return;
  if (!rowEls.has(rowKey(row))) {
    const li = buildRowEl(row);
    rowEls.set(rowKey(row), li);
    listEl.append(li);
    $("roster-empty").hidden = true;
  }
  updateRowEl(row);
  renderCounts();
  if (state.confirm && state.confirm.key === rowKey(row)) renderConfirmRow(row);
}

function renderPending() {
  const pending = state.queue.filter((i) => i.state === "pending").length;
  const attention = state.queue.filter((i) => i.state === "attention");
  const badge = $("pending");
  badge.dataset.count = pending;
  badge.textContent = pending ? t("pending", { n: pending }) : t("all_sent");
  badge.classList.toggle("warn", pending > 0);
  badge.classList.toggle("ok", pending === 0);

  const section = $("attention");
  section.hidden = attention.length === 0;
  const list = $("attention-list");
  const frag = document.createDocumentFragment();
  for (const item of attention) {
    const who = item.label?.full_name || item.participant_code || "";
    const what = { checkin: t("kind_checkin"), walkin: t("kind_walkin"), undo: t("kind_undo") }[item.kind] || "";
    const dismiss = el("button", { type: "button", class: "secondary small-button", "data-testid": "attention-dismiss", text: t("dismiss") });
    dismiss.addEventListener("click", () => dismissItem(item.client_id));
    frag.append(el("li", { class: "ck-attention-item", "data-testid": "attention-item", "data-client-id": item.client_id },
      el("div", {},
        el("strong", { text: who }), " ",
        el("span", { class: "muted", text: `${what} · ${hhmm(item.at)}` })),
      el("div", { class: "ck-attention-detail", text: item.error?.detail || "" }),
      dismiss));
  }
  list.replaceChildren(frag);
}

// Online: the browser says so, the last request reached the server, and the live connection
// is up (or has not been tried yet).
function connected() {
  return state.online && !state.sendFailing
    && (!state.socket || state.socket.connected || state.socketNeverUp || state.lastSendOk);
}

function setNetwork() {
  const up = connected();
  const net = $("net-status");
  net.dataset.state = up ? "online" : "offline";
  net.textContent = up ? t("online") : t("offline");
  net.classList.toggle("ok", up);
  net.classList.toggle("bad", !up);
  $("net-line").hidden = up;
  root.classList.toggle("is-offline", !up);
}

// ------------------------------------------------------------------ messages & confirmation
const messageEl = $("message");
function say(text, kind = "info") {
  messageEl.textContent = text || "";
  messageEl.dataset.kind = kind;
  messageEl.hidden = !text;
}

const confirmEl = $("confirm");
function showConfirm({ key, clientId, kind, title, name, unit, showUndo }) {
  state.confirm = { key, clientId, kind };
  confirmEl.hidden = false;
  confirmEl.dataset.kind = kind;
  confirmEl.dataset.clientId = clientId || "";
  $("confirm-state").textContent = title;
  $("confirm-name").textContent = name || "";
  $("confirm-unit").textContent = unit || "";
  $("confirm-unit").hidden = !unit;
  $("confirm-site").textContent = cfg.siteName;
  $("undo").hidden = !showUndo;
}

function renderConfirmRow(row) {
  const c = state.confirm;
  if (!c || c.kind === "error" || c.kind === "already" || c.kind === "undone") return;
  if (row.pending && row.pending === c.clientId) {
    showConfirm({ ...c, kind: "queued", title: connected() ? t("saving") : t("saved_on_device"),
      name: row.full_name, unit: row.unit, showUndo: true });
  } else if (isPresent(row)) {
    showConfirm({ ...c, kind: "ok", title: t("checked_in"), name: row.full_name, unit: row.unit, showUndo: true });
  }
}

// Bring the confirmation into view below the sticky search bar (a walk-in is sent from a form
// further down the page, which then closes: the confirmation is the only sign it worked).
function revealConfirm() {
  const bar = $("search-form").getBoundingClientRect();
  const box = confirmEl.getBoundingClientRect();
  if (box.top < bar.bottom) window.scrollBy({ top: box.top - bar.bottom - 8, behavior: "instant" });
  else if (box.bottom > window.innerHeight) window.scrollBy({ top: box.bottom - window.innerHeight + 8, behavior: "instant" });
}

function hideConfirm() {
  state.confirm = null;
  confirmEl.hidden = true;
}

// ------------------------------------------------------------------ search
const input = $("q");
const resultsEl = $("results");

// The exact code first, then names best first (rank.js), then codes starting with the query.
function match(query) {
  if (!fold(query)) return [];
  const code = normaliseCode(query);
  const out = [];
  const exact = code.length >= 4 ? state.byCode.get(code) : null;
  if (exact) out.push(exact);
  for (const row of rankByName(state.rows, query)) if (row !== exact) out.push(row);
  if (code.length >= 3) {
    for (const row of state.rows) {
      if (out.length >= 30) break;
      if (row.code && row.code.startsWith(code) && !out.includes(row)) out.push(row);
    }
  }
  return out.slice(0, 30);
}

function renderResults() {
  const query = input.value;
  const rows = query.trim() ? match(query) : [];
  const shared = sharedSet();
  const frag = document.createDocumentFragment();
  for (const row of rows.slice(0, 12)) {
    const present = isPresent(row);
    const same = shared.has(row._fold);
    const button = el("button", {
      type: "button", class: `ck-result${present ? " present" : ""}`, "data-testid": "result",
      "data-key": rowKey(row), "data-participant-id": row.participant_id || "",
      "data-same-name": same ? "1" : null,
    },
    el("span", { class: "ck-result-name", text: row.full_name }),
    el("span", { class: "ck-result-meta", "data-testid": "result-meta", text: rowLabel(row, same) }),
    el("span", { class: "ck-result-state", text: present ? t("already_short", { time: hhmm(presentAt(row)) }) : t("tap_to_check_in") }));
    button.addEventListener("click", () => {
      const current = state.byKey.get(button.dataset.key);
      if (current) checkIn(current, "search");
    });
    frag.append(el("li", {}, button));
  }
  resultsEl.replaceChildren(frag);
  const none = !!query.trim() && rows.length === 0;
  $("no-results").hidden = !none;
  resultsEl.hidden = rows.length === 0;
}

function resetField() {
  input.value = "";
  renderResults();
  input.focus({ preventScroll: true });
}

async function submitQuery(method = "code") {
  const raw = input.value;
  const code = normaliseCode(raw);
  if (!code) return;
  const row = state.byCode.get(code);
  if (row) {
    await checkIn(row, method);
    return;
  }
  const looksLikeCode = !/\s/.test(raw.trim()) && code.length >= 4 && code.length <= 16;
  if (!looksLikeCode || (match(raw).length && method === "code" && !/\d/.test(raw))) {
    return; // a name: the coordinator picks from the list
  }
  // A code that is not on this site's list: only the server can tell more.
  if (!connected()) {
    showConfirm({ key: null, clientId: null, kind: "error", title: t("unknown_code", { code }),
      name: code, unit: "", showUndo: false });
    input.select();
    return;
  }
  await checkInByCode(code, method);
}

// ------------------------------------------------------------------ actions
async function enqueue(item) {
  item.scope = scope;
  item.seq = Date.now() * 1000 + (seqCounter++ % 1000);
  item.state = "pending";
  item.tries = 0;
  item.created = Date.now();
  item.offline = !state.online || state.sendFailing; // captured while the network was down
  state.queue.push(item);
  try {
    await store.put(item);
  } catch (_err) {
    say(t("storage_failed"), "error");
  }
  renderPending();
}

async function checkIn(row, method) {
  say("");
  if (state.undoing && state.undoing.row === row) {
    restore(); // checked in again within the grace period: the undo never happened
    return;
  }
  if (isPresent(row)) {
    showConfirm({ key: rowKey(row), clientId: null, kind: "already", title: t("already", { time: hhmm(presentAt(row)) }),
      name: row.full_name, unit: row.unit, showUndo: false });
    resetField();
    return;
  }
  if (!row.participant_id) return; // a walk-in still waiting to be sent is present already
  const item = {
    client_id: newClientId(), kind: "checkin", participant_id: row.participant_id, key: rowKey(row),
    at: isoNow(), method, label: { full_name: row.full_name, unit: row.unit || "" }, live: true,
  };
  applyLocal(item);
  keepScroll(() => {
    showConfirm({ key: rowKey(row), clientId: item.client_id, kind: "queued", title: t("saving"),
      name: row.full_name, unit: row.unit, showUndo: true });
    refreshRow(row);
    resetField();
  }, rowKey(row));
  await enqueue(item);
  flush();
}

async function checkInByCode(code, method) {
  const item = {
    client_id: newClientId(), kind: "checkin", participant_code: code, at: isoNow(), method,
    label: { full_name: code, unit: "" }, live: true,
  };
  showConfirm({ key: null, clientId: item.client_id, kind: "queued", title: t("checking_code", { code }),
    name: code, unit: "", showUndo: false });
  resetField();
  await enqueue(item);
  flush();
}

// One tap on Undo takes the person off at once on this phone and shows "Undone · Restore" for
// UNDO_GRACE_MS; only then is the undo queued (a Restore in time leaves the check-in as it
// was). The page does not move: the list keeps its scroll position.
const toastEl = $("undo-toast");

// Run a change of the page so that the row being looked at stays where it is on the screen
// (when it is on the screen; the confirmation above it may grow or shrink meanwhile).
function keepScroll(change, key) {
  const li = key ? rowEls.get(key) : null;
  const top = li ? li.getBoundingClientRect().top : null;
  const visible = top !== null && top >= 0 && top < window.innerHeight;
  change();
  if (visible && li.isConnected) {
    const moved = li.getBoundingClientRect().top - top;
    if (Math.abs(moved) >= 1) window.scrollBy(0, moved);
  }
}

async function undo(row) {
  say("");
  if (state.undoing) await commitUndo();
  const key = rowKey(row);
  keepScroll(() => {
    row.undoing = true;
    state.undoing = { row, key, timer: setTimeout(commitUndo, UNDO_GRACE_MS) };
    $("undo-toast-name").textContent = row.full_name;
    toastEl.hidden = false;
    if (state.confirm && state.confirm.key === key) {
      showConfirm({ key, clientId: null, kind: "undone", title: t("undone"), name: row.full_name, unit: row.unit, showUndo: false });
    }
    refreshRow(row);
    renderResults();
  }, key);
}

function endGrace() {
  const pending = state.undoing;
  if (!pending) return null;
  state.undoing = null;
  clearTimeout(pending.timer);
  pending.row.undoing = false;
  toastEl.hidden = true;
  return pending;
}

function restore() {
  const pending = endGrace();
  if (!pending) return;
  const { row, key } = pending;
  keepScroll(() => {
    if (state.confirm && state.confirm.key === key) {
      showConfirm({ key, clientId: row.pending || null, kind: "ok", title: t("checked_in"), name: row.full_name, unit: row.unit, showUndo: true });
    }
    refreshRow(row);
    renderResults();
  }, key);
}

async function commitUndo() {
  const pending = endGrace();
  if (pending) await sendUndo(pending.row);
}

async function sendUndo(row) {
  const key = rowKey(row);
  const pendingItem = state.queue.find((i) => i.state === "pending" && i.client_id === row.pending && i.client_id !== state.inflight);
  if (pendingItem && (pendingItem.kind === "checkin" || pendingItem.kind === "walkin")) {
    // Not sent yet: forget it here, nothing reaches the server.
    await removeItem(pendingItem.client_id);
    if (pendingItem.kind === "walkin") {
      state.rows = state.rows.filter((r) => r !== row);
      state.byKey.delete(key);
      rowEls.get(key)?.remove();
      rowEls.delete(key);
    } else {
      clearLocal(row, pendingItem.client_id);
    }
  } else {
    const item = {
      client_id: newClientId(), kind: "undo", participant_id: row.participant_id, key,
      checkin_id: row.checkin_id || null, ref: row.pending || null, at: isoNow(),
      label: { full_name: row.full_name, unit: row.unit || "" }, live: true,
    };
    applyLocal(item);
    await enqueue(item);
    flush();
  }
  keepScroll(() => {
    refreshRow(row);
    renderResults();
  }, key);
}

async function removeItem(clientId) {
  state.queue = state.queue.filter((i) => i.client_id !== clientId);
  try {
    await store.remove(clientId);
  } catch (_err) {
    /* nothing more to do */
  }
  renderPending();
}

async function dismissItem(clientId) {
  await removeItem(clientId);
}

async function toAttention(item, result) {
  item.state = "attention";
  const p = result.problem || {};
  item.error = { status: result.status, detail: p.detail || p.title || String(result.status), site_name: p.site_name || null };
  try {
    await store.put(item);
  } catch (_err) {
    /* kept in memory */
  }
}

// ------------------------------------------------------------------ sending the queue
let flushing = false;

async function flush() {
  if (flushing || !store) return;
  flushing = true;
  try {
    for (let guard = 0; guard < 10000; guard++) {
      const item = state.queue.find((i) => i.state === "pending");
      if (!item) {
        state.retryDelay = 0;
        break;
      }
      state.inflight = item.client_id;
      const outcome = await send(item);
      state.inflight = null;
      if (outcome === "stop") {
        scheduleRetry();
        break;
      }
    }
  } finally {
    state.inflight = null;
    flushing = false;
    renderPending();
    setNetwork();
  }
}

function scheduleRetry() {
  clearTimeout(state.retryTimer);
  if (state.authLost) return;
  state.retryDelay = Math.min(60000, state.retryDelay ? state.retryDelay * 2 : 2000);
  const jitter = Math.random() * 0.3 * state.retryDelay;
  state.retryTimer = setTimeout(flush, state.retryDelay + jitter);
}

// The device time goes with an item that waited (offline capture, a retry): the server keeps
// it beside its own time and flags the check-in. Sent at once, the server's time is the time.
function waited(item) {
  return !!item.offline || (item.tries || 0) > 0 || Date.now() - (item.created || 0) > 10000;
}

function request(item) {
  item.sentAt = item.sentAt || (waited(item) ? "device" : "server");
  if (item.kind === "checkin") {
    const body = { site_id: siteId, client_id: item.client_id, method: item.method || "manual" };
    if (waited(item)) body.at = item.at;
    if (item.participant_id) body.participant_id = item.participant_id;
    else body.participant_code = item.participant_code;
    return api("POST", cfg.checkinsUrl, body);
  }
  if (item.kind === "walkin") {
    const body = { site_id: siteId, full_name: item.walkin.full_name, sex: item.walkin.sex, client_id: item.client_id };
    if (waited(item)) body.at = item.at;
    if (item.walkin.unit) body.unit = item.walkin.unit;
    return api("POST", cfg.walkinsUrl, body);
  }
  return api("DELETE", `${cfg.checkinsUrl}/${item.checkin_id}`);
}

async function send(item) {
  if (item.kind === "undo" && !item.checkin_id) {
    const row = findRow(item);
    item.checkin_id = row && row.checkin_id ? row.checkin_id : null;
    if (!item.checkin_id) {
      // The check-in it undoes never reached the server: nothing to undo there.
      clearLocal(row, item.client_id);
      await removeItem(item.client_id);
      refreshRow(row);
      return "ok";
    }
  }
  let result = await request(item);
  if (isCsrfProblem(result) && (await refreshCsrfToken())) result = await request(item);
  if (result.network || result.status >= 500 || result.status === 429 || result.status === 408) {
    if (result.network) state.online = false;
    state.sendFailing = true;
    state.lastSendOk = false;
    item.tries = (item.tries || 0) + 1;
    item.live = false;
    store.put(item).catch(() => {});
    const row = findRow(item) || state.byKey.get(`tmp:${item.client_id}`);
    if (row && state.confirm?.clientId === item.client_id) renderConfirmRow(row);
    setNetwork();
    return "stop";
  }
  if (result.status === 401) {
    state.authLost = true;
    $("auth-banner").hidden = false;
    return "stop";
  }
  state.online = true;
  state.sendFailing = false;
  state.lastSendOk = true;
  state.authLost = false;
  $("auth-banner").hidden = true;
  if (result.ok) {
    await accepted(item, result);
  } else {
    await refused(item, result);
  }
  return "ok";
}

async function accepted(item, result) {
  await removeItem(item.client_id);
  if (item.kind === "checkin") {
    const body = result.data || {};
    let row = findRow(item) || state.byKey.get(String(body.participant_id));
    if (!row && body.participant && Number(body.site_id) === siteId) {
      // Checked in by a code this device did not have: the answer says who it was.
      const p = body.participant;
      row = { participant_id: p.id, code: p.code, full_name: p.full_name, sex: p.sex, unit: p.unit || "",
        position: p.position || "", site_id: p.site_id, checkin_id: null, checked_in_at: null };
      state.rows.push(row);
      indexRow(row);
    }
    if (row) {
      clearLocal(row, item.client_id);
      row.checkin_id = body.id;
      row.checked_in_at = body.at;
      row.checkin_site_id = body.site_id ?? siteId;
      for (const later of state.queue) {
        if (later.kind === "undo" && later.ref === item.client_id && !later.checkin_id) {
          later.checkin_id = body.id;
          store.put(later).catch(() => {});
        }
      }
    }
    // 200: the same client_id again (an earlier attempt of ours got through), or a check-in
    // that was there before ours: on a first attempt it can only be the latter; after retries
    // (sent with the device time) the stored device time tells.
    let already = false;
    if (result.status === 200) {
      already = !item.tries || (!!body.device_at && Math.abs(Date.parse(body.device_at) - Date.parse(item.at)) > 1500);
    }
    keepScroll(() => {
      if (state.confirm?.clientId === item.client_id) {
        const name = row ? row.full_name : item.label.full_name;
        const unit = row ? row.unit : "";
        if (already) {
          showConfirm({ key: row ? rowKey(row) : null, clientId: item.client_id, kind: "already",
            title: t("already", { time: hhmm(body.at) }), name, unit, showUndo: false });
        } else {
          showConfirm({ key: row ? rowKey(row) : null, clientId: item.client_id, kind: "ok",
            title: t("checked_in"), name, unit, showUndo: !!row });
        }
      }
      if (row) refreshRow(row);
    }, row ? rowKey(row) : null);
  } else if (item.kind === "walkin") {
    const body = result.data || {};
    const temp = state.byKey.get(`tmp:${item.client_id}`);
    const participant = body.participant || {};
    const checkin = body.checkin || {};
    const existing = state.byKey.get(String(participant.id));
    const row = existing || temp;
    if (row) {
      if (temp && existing && temp !== existing) {
        state.rows = state.rows.filter((r) => r !== temp);
        rowEls.get(`tmp:${item.client_id}`)?.remove();
        rowEls.delete(`tmp:${item.client_id}`);
      }
      state.byKey.delete(`tmp:${item.client_id}`);
      const oldKey = rowKey(row);
      Object.assign(row, {
        participant_id: participant.id, code: participant.code || row.code, full_name: participant.full_name || row.full_name,
        unit: participant.unit ?? row.unit, sex: participant.sex || row.sex, checkin_id: checkin.id, checked_in_at: checkin.at,
        checkin_site_id: checkin.site_id ?? siteId,
        pending: null, localIn: null, localAt: null, tmp: null,
      });
      indexRow(row);
      const li = rowEls.get(oldKey);
      if (li) {
        rowEls.delete(oldKey);
        li.dataset.key = rowKey(row);
        rowEls.set(rowKey(row), li);
      }
      if (state.confirm?.clientId === item.client_id) {
        state.confirm.key = rowKey(row);
        showConfirm({ key: rowKey(row), clientId: item.client_id, kind: "ok", title: t("walkin_done"),
          name: row.full_name, unit: row.unit, showUndo: true });
      }
      refreshRow(row);
    }
  } else {
    const row = findRow(item);
    if (row) {
      clearLocal(row, item.client_id);
      row.checkin_id = null;
      row.checked_in_at = null;
      refreshRow(row);
    }
  }
  saveRosterNow();
  renderResults();
}

async function refused(item, result) {
  const row = findRow(item) || state.byKey.get(`tmp:${item.client_id}`);
  const detail = result.problem?.detail || result.problem?.title || "";
  const onScreen = state.confirm?.clientId === item.client_id;
  const live = item.live && !item.tries;
  // An undo the server no longer needs (the check-in is gone already) is done.
  if (item.kind === "undo" && result.status === 404) {
    await accepted(item, { ...result, ok: true });
    return;
  }
  if (row) {
    clearLocal(row, item.client_id);
    if (item.kind === "walkin" && row.tmp) {
      state.rows = state.rows.filter((r) => r !== row);
      state.byKey.delete(rowKey(row));
      rowEls.get(rowKey(row))?.remove();
      rowEls.delete(rowKey(row));
      renderCounts();
    } else {
      refreshRow(row);
    }
  }
  if (live) {
    // The coordinator is looking at it right now: say so here, keep nothing pending.
    await removeItem(item.client_id);
    let text = detail;
    if (result.status === 404 && item.kind === "checkin" && item.participant_code) text = t("unknown_code", { code: item.participant_code });
    if (item.kind === "walkin") {
      showWalkinErrors(result.problem);
      $("walkin").open = true;
    }
    if (onScreen || item.kind === "checkin") {
      showConfirm({ key: row ? rowKey(row) : null, clientId: item.client_id, kind: "error", title: text,
        name: item.label?.full_name || "", unit: item.label?.unit || "", showUndo: false });
    } else {
      say(text, "error");
    }
    input.focus({ preventScroll: true });
  } else {
    await toAttention(item, result);
    if (onScreen) {
      showConfirm({ key: null, clientId: item.client_id, kind: "error", title: detail,
        name: item.label?.full_name || "", unit: item.label?.unit || "", showUndo: false });
    }
  }
  renderPending();
  renderResults();
}

// ------------------------------------------------------------------ walk-ins
const walkinForm = $("walkin-form");

function showWalkinErrors(problem) {
  walkinForm.querySelectorAll(".error[data-for]").forEach((e) => {
    e.textContent = "";
    e.hidden = true;
  });
  const errors = (problem && problem.errors) || {};
  let shown = false;
  for (const [field, list] of Object.entries(errors)) {
    const target = walkinForm.querySelector(`.error[data-for="${CSS.escape(field)}"]`);
    if (target) {
      target.textContent = [].concat(list).join(" ");
      target.hidden = false;
      shown = true;
    }
  }
  const general = $("walkin-error");
  general.textContent = shown ? "" : (problem?.detail || "");
  general.hidden = shown || !problem;
}

// "Nguyễn Thị Hoa": a middle name "Thị" is almost always a woman's. A walk-in with such a
// name and the sex left "not recorded" gets one gentle question; sending again keeps it.
const thiHint = $("walkin-thi");

function middleThi(fullName) {
  const words = fullName.split(" ");
  return words.slice(1, -1).some((w) => w.toLocaleLowerCase("vi") === "thị");
}

walkinForm.addEventListener("input", () => { thiHint.hidden = true; });

walkinForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(walkinForm);
  const fullName = String(data.get("full_name") || "").normalize("NFC").replace(/\s+/g, " ").trim();
  const sex = String(data.get("sex") || "");
  const unit = String(data.get("unit") || "").normalize("NFC").replace(/\s+/g, " ").trim();
  const problem = { errors: {} };
  if (!fullName) problem.errors.full_name = [t("required")];
  if (!sex) problem.errors.sex = [t("required")];
  if (Object.keys(problem.errors).length) {
    showWalkinErrors(problem);
    return;
  }
  showWalkinErrors(null);
  if (sex === "unspecified" && middleThi(fullName) && walkinForm.dataset.asked !== fullName) {
    walkinForm.dataset.asked = fullName;
    thiHint.hidden = false;
    return;
  }
  thiHint.hidden = true;
  delete walkinForm.dataset.asked;
  const item = {
    client_id: newClientId(), kind: "walkin", at: isoNow(), live: true,
    walkin: { full_name: fullName, sex, unit }, label: { full_name: fullName, unit },
  };
  applyLocal(item);
  const row = state.byKey.get(`tmp:${item.client_id}`);
  showConfirm({ key: rowKey(row), clientId: item.client_id, kind: "queued", title: t("saving"),
    name: fullName, unit, showUndo: true });
  refreshRow(row);
  walkinForm.reset();
  $("walkin").open = false;
  revealConfirm();
  await enqueue(item);
  flush();
  input.focus({ preventScroll: true });
});

// ------------------------------------------------------------------ roster loading
async function loadRoster() {
  const rows = [];
  for (let page = 1; page <= 200; page++) {
    const sep = cfg.rosterUrl.includes("?") ? "&" : "?";
    const result = await api("GET", `${cfg.rosterUrl}${sep}per_page=500&page=${page}`);
    if (!result.ok) {
      if (result.status === 401) {
        state.authLost = true;
        $("auth-banner").hidden = false;
      } else if (result.status === 403 || result.status === 404) {
        say(result.problem?.detail || "", "error");
      }
      if (result.network) {
        state.online = false;
        setNetwork();
      }
      return false;
    }
    const items = result.data?.items || [];
    rows.push(...items);
    const total = result.data?.total ?? rows.length;
    if (!items.length || rows.length >= total) break;
  }
  state.rosterLoaded = true;
  state.rosterFresh = true;
  state.online = true;
  setRoster(rows);
  saveRosterNow();
  root.dataset.rosterSource = "server";
  return true;
}

// The roster as the server rendered it into the page: used until the API answers.
function rowsFromPage() {
  return [...listEl.querySelectorAll("li[data-participant-id]")].map((li) => ({
    participant_id: Number(li.dataset.participantId), code: li.dataset.code || "",
    full_name: li.dataset.name || "", unit: li.dataset.unit || "", sex: li.dataset.sex || "unspecified",
    birth_year: li.dataset.birthYear ? Number(li.dataset.birthYear) : null,
    site_id: siteId, checkin_id: li.dataset.checkinId ? Number(li.dataset.checkinId) : null,
    checked_in_at: li.dataset.checkedInAt || null,
    checkin_site_id: li.dataset.checkinSiteId ? Number(li.dataset.checkinSiteId) : null,
  }));
}

// ------------------------------------------------------------------ live connection
function connect() {
  state.socketNeverUp = true;
  state.socket = connectLive({
    onConnect: async (socket) => {
      state.socketNeverUp = false;
      state.online = true;
      setNetwork();
      const ack = await emitAck(socket, "watch_site", { session_id: sessionId, site_id: siteId });
      if (ack && ack.rollcall_active && !ack.rollcall_confirmed_at) showRollcall();
      else if (ack && ack.ok) hideRollcall();
      if (ack && ack.reported_status) showSiteStatus(ack.reported_status, ack.note);
      // A reconnect: what happened meanwhile (other phones of this site) comes with the roster.
      if (state.connects++ > 0 || !state.rosterFresh) await loadRoster();
      state.retryDelay = 0;
      flush();
    },
    onDisconnect: () => {
      state.socketNeverUp = false;
      state.lastSendOk = false;
      setNetwork();
    },
  });
  if (!state.socket) return;
  const socket = state.socket;
  socket.on("rollcall", (p) => {
    if (Number(p?.session_id) !== sessionId) return;
    if (p.started_at) showRollcall();
    else hideRollcall(); // the organiser ended the roll-call
  });
  socket.on("rollcall_confirmed", (p) => {
    if (Number(p?.session_id) === sessionId && Number(p?.site_id) === siteId) hideRollcall();
  });
  socket.on("checkin", (p) => {
    if (Number(p?.session_id) !== sessionId) return;
    const row = state.byKey.get(String(p.participant_id));
    if (!row) {
      if (Number(p.site_id) === siteId) loadRoster();
      return;
    }
    row.checkin_id = p.checkin_id;
    row.checked_in_at = p.at;
    row.checkin_site_id = p.site_id;
    refreshRow(row);
    saveRosterSoon();
    renderResults();
  });
  socket.on("checkin_undone", (p) => {
    if (Number(p?.session_id) !== sessionId) return;
    const row = state.byKey.get(String(p.participant_id));
    if (!row || (row.checkin_id && p.checkin_id && Number(row.checkin_id) !== Number(p.checkin_id))) return;
    row.checkin_id = null;
    row.checked_in_at = null;
    refreshRow(row);
    saveRosterSoon();
    renderResults();
  });
  socket.on("site_status", (p) => {
    if (Number(p?.session_id) === sessionId && Number(p?.site_id) === siteId) {
      showSiteStatus(p.reported_status || p.status, p.note);
    }
  });
  socket.on("session_status", (p) => {
    if (Number(p?.session_id) === sessionId && p.status) {
      const badge = $("session-status");
      badge.dataset.status = p.status;
      badge.className = `badge ${p.status}`;
      badge.textContent = t(`session_${p.status}`);
    }
  });
  setInterval(() => {
    if (socket.connected) socket.emit("heartbeat", { session_id: sessionId, site_id: siteId });
  }, 10000);
}

// ------------------------------------------------------------------ roll-call and site status
function showRollcall() {
  $("rollcall").hidden = false;
}
function hideRollcall() {
  $("rollcall").hidden = true;
}

$("rollcall-confirm").addEventListener("click", async () => {
  const button = $("rollcall-confirm");
  button.disabled = true;
  const result = await api("POST", cfg.rollcallUrl, {});
  button.disabled = false;
  if (result.ok) {
    hideRollcall();
    say(t("rollcall_done"), "ok");
  } else {
    say(result.network ? t("needs_network") : (result.problem?.detail || ""), "error");
  }
});

function showSiteStatus(status, note) {
  const badge = $("site-status-current");
  badge.dataset.status = status;
  badge.className = `badge ${status}`;
  badge.textContent = t(`status_${status}`);
  $("site-status-note-shown").textContent = note || "";
}

async function sendStatus(status, note) {
  const body = { status };
  if (note) body.note = note;
  const result = await api("POST", cfg.statusUrl, body);
  if (result.ok) {
    showSiteStatus(status, note);
    say(t("status_sent"), "ok");
    return true;
  }
  say(result.network ? t("needs_network") : (result.problem?.errors?.note?.join(" ") || result.problem?.detail || ""), "error");
  return false;
}

$("status-ready").addEventListener("click", () => {
  $("status-problem-form").hidden = true;
  sendStatus("online");
});
$("status-problem").addEventListener("click", () => {
  const form = $("status-problem-form");
  form.hidden = !form.hidden;
  if (!form.hidden) $("status-note").focus();
});
$("status-problem-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const note = $("status-note").value.normalize("NFC").trim();
  if (await sendStatus("issue", note)) {
    $("status-problem-form").hidden = true;
    $("status-note").value = "";
  }
});

// ------------------------------------------------------------------ camera
let scanner = null;
async function openScanner() {
  const box = $("scanner");
  if (scanner) {
    closeScanner();
    return;
  }
  if (!cameraAvailable()) {
    say(t("no_camera"), "error");
    return;
  }
  box.hidden = false;
  try {
    scanner = await startScanner({
      video: $("scan-video"), canvas: $("scan-canvas"), jsqrUrl: cfg.jsqrUrl,
      onCode: (code) => {
        input.value = code;
        submitQuery("camera");
      },
    });
    $("scan-button").setAttribute("aria-pressed", "true");
  } catch (_err) {
    box.hidden = true;
    scanner = null;
    say(t("no_camera"), "error");
  }
}
function closeScanner() {
  if (scanner) scanner.stop();
  scanner = null;
  $("scanner").hidden = true;
  $("scan-button").setAttribute("aria-pressed", "false");
  input.focus({ preventScroll: true });
}
$("scan-button").addEventListener("click", openScanner);
$("scan-close").addEventListener("click", closeScanner);

// ------------------------------------------------------------------ wiring
input.addEventListener("input", () => {
  say("");
  renderResults();
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    submitQuery("code");
  } else if (event.key === "Escape") {
    resetField();
    hideConfirm();
    say("");
  }
});
$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submitQuery("code");
});
$("undo-restore").addEventListener("click", restore);
window.addEventListener("pagehide", () => {
  commitUndo();
  if (saveTimer) saveRosterNow(); // the page may be opened again without a network
});
$("undo").addEventListener("click", () => {
  const c = state.confirm;
  const row = c && c.key ? state.byKey.get(c.key) : null;
  if (row) undo(row);
});
document.querySelectorAll("[data-filter]").forEach((button) => {
  button.addEventListener("click", () => {
    state.filter = button.dataset.filter;
    listEl.dataset.filter = state.filter;
    document.querySelectorAll("[data-filter]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  });
});
$("auth-login").addEventListener("click", () => {
  state.authLost = false;
});
window.addEventListener("online", () => {
  state.online = true;
  setNetwork();
  state.retryDelay = 0;
  flush();
  if (state.socket && !state.socket.connected) state.socket.connect();
});
window.addEventListener("offline", () => {
  state.online = false;
  setNetwork();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") flush();
});

function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || !cfg.swUrl || !window.isSecureContext) return;
  navigator.serviceWorker.register(cfg.swUrl, { scope: cfg.swScope }).then(
    () => { root.dataset.sw = "registered"; },
    () => { root.dataset.sw = "failed"; },
  );
  // Keep this page for offline use now, not only from its next load.
  navigator.serviceWorker.ready.then((registration) => {
    if (registration.active) registration.active.postMessage({ type: "keep-page", url: location.href });
    root.dataset.sw = "ready";
  }).catch(() => {});
}

async function start() {
  store = await openStore();
  root.dataset.storage = store.persistent ? "indexeddb" : "memory";
  state.queue = (await store.items(scope).catch(() => [])).map((item) => ({ ...item, live: false, tries: Math.max(1, item.tries || 0) }));
  const cached = await store.getRoster(scope).catch(() => null);
  if (cached && cached.rows) {
    state.rosterLoaded = true;
    setRoster(cached.rows);
    root.dataset.rosterSource = "device";
  } else {
    setRoster(rowsFromPage());
    root.dataset.rosterSource = "page";
  }
  renderPending();
  setNetwork();
  if (cfg.rollcallPending === "1") showRollcall();
  const loaded = await loadRoster();
  if (!loaded && !state.rosterLoaded) {
    $("roster-empty").hidden = false;
    say(t("roster_unavailable"), "error");
  }
  root.dataset.ready = "1";
  connect();
  flush();
  registerServiceWorker();
  input.focus({ preventScroll: true });
}

start();
