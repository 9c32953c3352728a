// Live quiz status and progress per site for the quiz page and the room screen.
// Socket.IO /live (session cookie): `watch` {session_id}, then `quiz_status` and
// `quiz_progress`; a fresh snapshot (live.json) on every (re)connect, and polling while the
// socket is down, so a missed push never leaves the screen wrong for long.

const root = document.getElementById("quiz-live");
const QUIZ_ID = Number(root.getAttribute("data-quiz-id"));
const SESSION_ID = Number(root.getAttribute("data-session-id"));
const LIVE_URL = root.getAttribute("data-live-url");
const LABELS = JSON.parse(root.getAttribute("data-labels") || "{}");
const BADGE = { draft: "warn", open: "ok", closed: "ended" };
const POLL_MS = 15000;
let status = root.getAttribute("data-status");
let pollTimer = null;

function live(name) { return root.querySelectorAll('[data-live="' + name + '"]'); }
function each(list, fn) { Array.prototype.forEach.call(list, fn); }
function fmt(n) { return Number(n || 0).toLocaleString(document.documentElement.lang || "vi"); }

function setStatus(next) {
  if (!next || next === status) return;
  const hadButtons = root.querySelector("[data-testid=open-quiz], [data-testid=close-quiz]");
  status = next;
  root.setAttribute("data-status", next);
  each(live("status"), (el) => {
    el.textContent = LABELS[next] || next;
    el.className = "badge " + (BADGE[next] || "");
  });
  each(live("qr"), (el) => { el.hidden = next === "closed"; });
  each(live("link"), (el) => { el.hidden = next === "closed"; });
  each(live("open-text"), (el) => { el.hidden = next === "closed"; });
  each(live("closed-text"), (el) => { el.hidden = next !== "closed"; });
  each(live("draft-text"), (el) => { el.hidden = next !== "draft"; });
  if (hadButtons) window.location.reload();  // the open/close buttons are stale
}

// Each count and its split by sex (women, men, not recorded).
const KEYS = ["started", "submitted", "passed"].flatMap(
  (k) => [k, k + "_female", k + "_male", k + "_unspecified"]);

function setProgress(sites) {
  (sites || []).forEach((s) => {
    const row = root.querySelector('[data-site-id="' + s.site_id + '"]');
    if (!row) return;
    KEYS.forEach((k) => {
      const cell = row.querySelector('[data-k="' + k + '"]');
      if (cell && s[k] !== undefined) cell.textContent = fmt(s[k]);
    });
  });
  const total = root.querySelector("[data-total]");
  if (total) {
    KEYS.forEach((k) => {
      let sum = 0;
      each(root.querySelectorAll('[data-site-id] [data-k="' + k + '"]'), (c) => {
        sum += Number(c.textContent.replace(/[^\d]/g, "")) || 0;
      });
      const cell = total.querySelector('[data-k="' + k + '"]');
      if (cell) cell.textContent = fmt(sum);
    });
  }
}

async function snapshot() {
  try {
    const res = await fetch(LIVE_URL, { credentials: "same-origin", cache: "no-store",
      headers: { "Accept": "application/json" } });
    if (!res.ok) return;
    const body = await res.json();
    setProgress(body.sites);
    setStatus(body.status);
  } catch (e) { /* offline: keep what is shown */ }
}

function poll(on) {
  if (on && !pollTimer) pollTimer = setInterval(snapshot, POLL_MS);
  if (!on && pollTimer) { clearInterval(pollTimer); pollTimer = null; }
}

function connection(ok) {
  each(live("connection"), (el) => { el.classList.toggle("on", ok); });
}

if (window.io) {
  const socket = window.io("/live");
  socket.on("connect", () => {
    connection(true);
    poll(false);
    socket.emit("watch", { session_id: SESSION_ID }, () => snapshot());
  });
  socket.on("disconnect", () => { connection(false); poll(true); });
  socket.on("connect_error", () => { connection(false); poll(true); });
  socket.on("quiz_progress", (msg) => {
    if (msg && Number(msg.quiz_id) === QUIZ_ID) {
      setProgress(msg.sites);
      document.dispatchEvent(new CustomEvent("quiz-progress", { detail: msg }));
    }
  });
  socket.on("quiz_status", (msg) => {
    if (msg && Number(msg.quiz_id) === QUIZ_ID) {
      setStatus(msg.status);
      document.dispatchEvent(new CustomEvent("quiz-status", { detail: msg }));
    }
  });
} else {
  poll(true);
}
