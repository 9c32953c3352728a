// The trainee's quiz flow on a phone: code (typed or scanned) -> attempt -> answers saved as
// they are given -> submit -> score -> review once the organiser's setting reveals it.
//
// Written for old Android Chrome (ES2017: no ?. or ??), a slow or flaky network, and no
// account: the attempt id and its token live in localStorage, so a reload, a lost network or
// another phone (same code) resumes the same attempt. Everything the page knows about the
// questions comes from the attempt API; nothing here knows which option is right until the
// server sends the review.

const root = document.getElementById("quiz-app");
const T = JSON.parse(root.getAttribute("data-i18n") || "{}");
const QUIZ_ID = root.getAttribute("data-quiz-id");
const API = root.getAttribute("data-api") || "/api/v1";
const JSQR_URL = root.getAttribute("data-jsqr");
const STORE_KEY = "trainer.quiz." + QUIZ_ID;
const POLL_MS = 20000;
const SAVE_DEBOUNCE_MS = 500;
const MAX_BACKOFF_MS = 30000;
const REQUEST_TIMEOUT_MS = 20000;

const $ = (id) => document.getElementById(id);
const els = {
  start: $("qz-start"), startForm: $("qz-start-form"), code: $("qz-code"),
  startBtn: $("qz-start-btn"), startError: $("qz-start-error"), scanBtn: $("qz-scan"),
  scanner: $("qz-scanner"), video: $("qz-video"), scanStop: $("qz-scan-stop"),
  scanMsg: $("qz-scan-msg"),
  quiz: $("qz-quiz"), list: $("qz-questions"), timer: $("qz-timer"), save: $("qz-save"),
  progress: $("qz-progress"), submit: $("qz-submit"), submitMsg: $("qz-submit-msg"),
  confirm: $("qz-confirm"), confirmText: $("qz-confirm-text"),
  confirmYes: $("qz-confirm-yes"), confirmNo: $("qz-confirm-no"),
  result: $("qz-result"), score: $("qz-score"), percent: $("qz-percent"),
  verdict: $("qz-verdict"), review: $("qz-review"), reviewWait: $("qz-review-wait"),
  refresh: $("qz-refresh"), again: $("qz-again"), retry: $("qz-retry"),
};

function t(key, vars) {
  let s = T[key] || key;
  if (vars) Object.keys(vars).forEach((k) => { s = s.split("%(" + k + ")s").join(String(vars[k])); });
  return s;
}

// ---------------------------------------------------------------- storage (may be disabled)
function load(key) {
  try { const raw = window.localStorage.getItem(key); return raw ? JSON.parse(raw) : null; }
  catch (e) { return null; }
}
function store(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(value));
  } catch (e) { /* private mode: the page still works, it just cannot resume */ }
}
const pendingKey = (attemptId) => "trainer.attempt." + attemptId + ".answers";

// A random key this browser keeps: the phone that started an attempt may resume it with the
// code and this key (a start whose answer was lost), which a code alone cannot.
function deviceKey() {
  let key = load("trainer.device");
  if (!key) {
    const bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    key = Array.prototype.map.call(bytes, (b) => ("0" + b.toString(16)).slice(-2)).join("");
    store("trainer.device", key);
  }
  return key;
}

// ---------------------------------------------------------------- clock and HTTP
// offset = server clock - this phone's clock, from the Date header of the quickest answer.
let clockOffset = 0;
let bestRtt = Infinity;

function noteServerTime(response, sentAt, receivedAt) {
  const header = response.headers.get("Date");
  if (!header) return;
  const server = Date.parse(header);
  if (isNaN(server)) return;
  const rtt = receivedAt - sentAt;
  if (rtt <= bestRtt) {
    bestRtt = rtt;
    // The header has whole seconds: on average the true time is half a second later.
    clockOffset = server + 500 - (sentAt + receivedAt) / 2;
  }
}

class HttpError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || ("HTTP " + status));
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body, token) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["X-Attempt-Token"] = token;
  const options = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) options.body = JSON.stringify(body);
  let timer = null;
  if (window.AbortController) {
    const ctl = new AbortController();
    options.signal = ctl.signal;
    timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  }
  const sentAt = Date.now();
  let response;
  try {
    response = await fetch(API + path, options);
  } finally {
    if (timer) clearTimeout(timer);
  }
  noteServerTime(response, sentAt, Date.now());
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.indexOf("json") !== -1) {
    try { data = await response.json(); } catch (e) { data = null; }
  }
  if (!response.ok) throw new HttpError(response.status, data);
  return { status: response.status, data: data };
}

const isNetworkError = (err) => !(err instanceof HttpError) || err.status >= 500 ||
  err.status === 408 || err.status === 429;

// ---------------------------------------------------------------- state
const state = {
  attemptId: null, token: null, code: null,
  questions: [], answers: {},        // question id -> [option ids]
  deadline: null,                    // ms on this phone's clock
  submitted: false, result: null, review: null,
  savePromise: null, saveTimer: null, backoff: 0, retryTimer: null, tickTimer: null,
  pollTimer: null, submitting: false, questionsShown: false,
};

function show(section) {
  [els.start, els.quiz, els.result].forEach((el) => { el.hidden = el !== section; });
  window.scrollTo(0, 0);
}

function setSave(kind) {
  const labels = { saved: t("saved"), saving: t("saving"), offline: t("offline"),
    pending: t("pending"), error: t("save_error") };
  els.save.textContent = labels[kind] || "";
  els.save.setAttribute("data-state", kind);
}

function remember() {
  store(STORE_KEY, { attempt_id: state.attemptId, token: state.token, code: state.code,
    submitted: state.submitted });
}

function forget(keepCode) {
  if (state.attemptId) store(pendingKey(state.attemptId), null);
  // The token stays with the code: it proves this phone holds the attempt, so the same code
  // can resume it, retry or read the result here (a code alone cannot, on another phone).
  store(STORE_KEY, keepCode && state.code ? { code: state.code, token: state.token } : null);
  state.attemptId = null;
  state.token = null;
  state.submitting = false;
  state.questions = [];
  state.answers = {};
}

// ---------------------------------------------------------------- attempt body
function firstDefined() {
  for (let i = 0; i < arguments.length; i++) {
    if (arguments[i] !== undefined && arguments[i] !== null) return arguments[i];
  }
  return null;
}

function normaliseAnswers(raw) {
  // {"12": [3, 4]} or [{question_id, option_ids}] -> {"12": [3, 4]}
  const out = {};
  if (!raw) return out;
  if (Array.isArray(raw)) {
    raw.forEach((a) => { out[String(a.question_id)] = (a.option_ids || []).map(Number); });
  } else {
    Object.keys(raw).forEach((k) => { out[String(k)] = (raw[k] || []).map(Number); });
  }
  return out;
}

function applyAttempt(body) {
  state.attemptId = firstDefined(body.attempt_id, body.id);
  if (body.token) state.token = body.token;
  if (Array.isArray(body.questions)) state.questions = body.questions;
  const server = normaliseAnswers(body.answers);
  const pending = load(pendingKey(state.attemptId)) || {};
  state.answers = Object.assign({}, server, pending);  // this phone's unsent answers are newer
  if (body.deadline) {
    state.deadline = Date.parse(body.deadline) - clockOffset;
  } else {
    const left = firstDefined(body.seconds_left, body.remaining_s);
    state.deadline = left === null ? null : Date.now() + left * 1000;
  }
  const submitted = !!(body.submitted_at || body.submitted || body.result ||
    (body.status && body.status !== "in_progress" && body.status !== "started"));
  state.submitted = submitted;
  state.result = firstDefined(body.result, body.score !== undefined && submitted ? body : null,
    state.result);
  state.review = firstDefined(body.review, null);
  state.canRetry = !!body.can_retry;
  const who = body.participant && body.participant.full_name;
  if (who) {
    const text = t("who", { name: who, code: state.code || "" }).replace(" ()", "");
    Array.prototype.forEach.call(document.querySelectorAll(".qz-who"), (el) => { el.textContent = text; });
  }
  remember();
}

// ---------------------------------------------------------------- questions
function kindHint(kind) {
  if (kind === "multiple") return t("choose_all");
  if (kind === "true_false") return t("choose_tf");
  return t("choose_one");
}

function renderQuestions() {
  els.list.textContent = "";
  state.questions.forEach((q, index) => {
    const li = document.createElement("li");
    li.className = "qz-q card";
    li.setAttribute("data-question-id", String(q.id));
    li.setAttribute("data-testid", "question");
    li.id = "q-" + q.id;
    const fs = document.createElement("fieldset");
    const legend = document.createElement("legend");
    const num = document.createElement("span");
    num.className = "qz-num";
    num.textContent = t("question_n", { n: index + 1, total: state.questions.length });
    legend.appendChild(num);
    const text = document.createElement("span");
    text.className = "qz-text";
    text.textContent = q.text;
    legend.appendChild(text);
    fs.appendChild(legend);
    const hint = document.createElement("p");
    hint.className = "qz-hint";
    hint.textContent = kindHint(q.kind);
    fs.appendChild(hint);
    const chosen = state.answers[String(q.id)] || [];
    (q.options || []).forEach((o) => {
      const label = document.createElement("label");
      label.className = "qz-opt";
      const input = document.createElement("input");
      input.type = q.kind === "multiple" ? "checkbox" : "radio";
      input.name = "q-" + q.id;
      input.value = String(o.id);
      input.id = "opt-" + o.id;
      input.setAttribute("data-testid", "option-" + o.id);
      input.checked = chosen.indexOf(Number(o.id)) !== -1;
      input.addEventListener("change", () => onAnswer(q));
      const span = document.createElement("span");
      span.textContent = o.text;
      label.appendChild(input);
      label.appendChild(span);
      fs.appendChild(label);
    });
    li.appendChild(fs);
    els.list.appendChild(li);
  });
  state.questionsShown = true;
  updateProgress();
}

function answeredCount() {
  return state.questions.filter((q) => (state.answers[String(q.id)] || []).length > 0).length;
}

function updateProgress() {
  els.progress.textContent = t("answered", { n: answeredCount(), total: state.questions.length });
  state.questions.forEach((q) => {
    const li = document.getElementById("q-" + q.id);
    if (li) li.classList.toggle("answered", (state.answers[String(q.id)] || []).length > 0);
  });
}

function onAnswer(q) {
  if (state.submitted) return;
  const inputs = document.querySelectorAll('input[name="q-' + q.id + '"]');
  const ids = [];
  for (let i = 0; i < inputs.length; i++) if (inputs[i].checked) ids.push(Number(inputs[i].value));
  state.answers[String(q.id)] = ids;
  const pending = load(pendingKey(state.attemptId)) || {};
  pending[String(q.id)] = ids;
  store(pendingKey(state.attemptId), pending);
  updateProgress();
  setSave("pending");
  scheduleSave(SAVE_DEBOUNCE_MS);
}

// ---------------------------------------------------------------- saving
function scheduleSave(delay) {
  if (state.saveTimer) clearTimeout(state.saveTimer);
  state.saveTimer = setTimeout(() => { state.saveTimer = null; flush(); }, delay);
}

function hasPending() {
  const pending = load(pendingKey(state.attemptId));
  return !!pending && Object.keys(pending).length > 0;
}

// Sends the pending answers; resolves true when nothing is left unsent. Callers share one
// request in flight, so a submit always waits for the save before it.
function flush() {
  if (state.savePromise) return state.savePromise.then(() => flush());
  state.savePromise = sendPending().then((ok) => { state.savePromise = null; return ok; },
    () => { state.savePromise = null; return false; });
  return state.savePromise;
}

async function sendPending() {
  for (let round = 0; round < 5; round++) {
    if (!state.attemptId || state.submitted) return true;
    const pending = load(pendingKey(state.attemptId)) || {};
    // Without localStorage, every answer given on this page counts as pending.
    const sending = Object.keys(pending).length ? pending : (hasStorage() ? {} : state.answers);
    if (!Object.keys(sending).length) { setSave("saved"); return true; }
    setSave("saving");
    try {
      await call("PUT", "/attempts/" + state.attemptId + "/answers", { answers: sending }, state.token);
    } catch (err) {
      if (isNetworkError(err)) {
        setSave("offline");
        retryLater();
        return false;
      }
      return onAttemptRefused(err);
    }
    state.backoff = 0;
    // Keep only what changed while this request was on its way, and send that too.
    const now = load(pendingKey(state.attemptId)) || {};
    Object.keys(sending).forEach((k) => {
      if (now[k] && sameIds(now[k], sending[k])) delete now[k];
    });
    store(pendingKey(state.attemptId), Object.keys(now).length ? now : null);
    if (!Object.keys(now).length || !hasStorage()) { setSave("saved"); return true; }
  }
  return false;
}

function hasStorage() {
  try { window.localStorage.setItem("trainer.probe", "1"); window.localStorage.removeItem("trainer.probe"); return true; }
  catch (e) { return false; }
}

function sameIds(a, b) {
  return a.length === b.length && a.every((x, i) => Number(x) === Number(b[i]));
}

function retryLater() {
  state.backoff = Math.min(MAX_BACKOFF_MS, state.backoff ? state.backoff * 2 : 1000);
  if (state.retryTimer) clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(() => {
    state.retryTimer = null;
    if (state.submitting) doSubmit(); else flush();
  }, state.backoff);
}

// The server refused an answer or a submit (closed, deadline passed, another phone...).
async function onAttemptRefused(err) {
  if (err.status === 401 || err.status === 404) {
    // The token is no longer valid here (e.g. the attempt continued on another phone).
    forget(true);
    stopTimers();
    showStart(t("resume_again"));
    return false;
  }
  if (err.status === 422) {
    // An answer the server cannot take: drop it rather than retry forever.
    store(pendingKey(state.attemptId), null);
    setSave("error");
    els.submitMsg.textContent = err.message;
    return true;
  }
  // 403 / 409: submitted already, deadline passed or quiz closed: show what the server holds.
  store(pendingKey(state.attemptId), null);
  await reloadAttempt(err.message);
  return true;
}

// ---------------------------------------------------------------- timer
function stopTimers() {
  [state.tickTimer, state.pollTimer, state.retryTimer, state.saveTimer].forEach((x) => {
    if (x) { clearTimeout(x); clearInterval(x); }
  });
  state.tickTimer = state.pollTimer = state.retryTimer = state.saveTimer = null;
}

function pad(n) { return n < 10 ? "0" + n : String(n); }

function tick() {
  if (state.deadline === null) { els.timer.hidden = true; return; }
  els.timer.hidden = false;
  const left = Math.max(0, Math.round((state.deadline - Date.now()) / 1000));
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  els.timer.textContent = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
  els.timer.setAttribute("data-seconds-left", String(left));
  els.timer.classList.toggle("low", left <= 60);
  if (left === 0 && !state.submitted && !state.submitting) {
    els.submitMsg.textContent = t("time_up");
    doSubmit();
  }
}

// ---------------------------------------------------------------- submit
function askSubmit() {
  const missing = state.questions.length - answeredCount();
  if (missing > 0) {
    els.confirmText.textContent = t("unanswered", { n: missing });
    els.confirm.hidden = false;
    els.confirmYes.focus();
    return;
  }
  doSubmit();
}

async function doSubmit() {
  if (state.submitted) return;
  els.confirm.hidden = true;
  state.submitting = true;
  els.submit.disabled = true;
  els.submitMsg.textContent = t("submitting");
  const flushed = await flush();
  if (!flushed && state.retryTimer) {
    els.submitMsg.textContent = t("submit_offline");
    return;  // retryLater() calls doSubmit again
  }
  if (!state.attemptId) return;
  try {
    const res = await call("POST", "/attempts/" + state.attemptId + "/submit", {}, state.token);
    state.submitting = false;
    state.submitted = true;
    state.result = res.data;
    store(pendingKey(state.attemptId), null);
    remember();
    showResult();
    await reloadAttempt();
  } catch (err) {
    if (isNetworkError(err)) {
      els.submitMsg.textContent = t("submit_offline");
      retryLater();
      return;
    }
    state.submitting = false;
    els.submit.disabled = false;
    await onAttemptRefused(err);
  }
}

// ---------------------------------------------------------------- result and review
function showResult() {
  stopTimers();
  const r = state.result || {};
  show(els.result);
  const score = firstDefined(r.score, null);
  const max = firstDefined(r.max_score, null);
  els.score.textContent = score === null ? "–" : fmt(score) + " / " + fmt(max);
  els.percent.textContent = r.percent === undefined || r.percent === null ? "" : fmt(r.percent) + "%";
  els.verdict.textContent = r.passed ? t("passed") : t("failed");
  els.verdict.className = "qz-verdict " + (r.passed ? "ok" : "bad");
  els.verdict.setAttribute("data-passed", r.passed ? "true" : "false");
  els.retry.hidden = !(state.canRetry && state.code);
  if (state.review) {
    renderReview();
  } else {
    els.review.hidden = true;
    els.reviewWait.hidden = false;
    state.pollTimer = setInterval(() => { if (!document.hidden) reloadAttempt(); }, POLL_MS);
  }
}

function fmt(x) {
  const n = Number(x);
  if (isNaN(n)) return String(x);
  return (Math.round(n * 10) / 10).toLocaleString(document.documentElement.lang || "vi");
}

function reviewFor(qid) {
  const r = state.review;
  if (!r) return null;
  const items = Array.isArray(r) ? r : (r.questions || r.items || null);
  if (items) {
    for (let i = 0; i < items.length; i++) {
      if (String(firstDefined(items[i].question_id, items[i].id)) === String(qid)) return items[i];
    }
    return null;
  }
  return r[String(qid)] || null;
}

function renderReview() {
  els.reviewWait.hidden = true;
  els.review.hidden = false;
  els.review.textContent = "";
  const h = document.createElement("h2");
  h.textContent = t("review");
  els.review.appendChild(h);
  const ol = document.createElement("ol");
  ol.className = "qz-list";
  state.questions.forEach((q, index) => {
    const info = reviewFor(q.id) || {};
    const correct = (firstDefined(info.correct_option_ids, info.correct, []) || []).map(Number);
    const chosen = (firstDefined(info.chosen_option_ids, state.answers[String(q.id)], []) || [])
      .map(Number);
    const li = document.createElement("li");
    li.className = "qz-q card";
    li.setAttribute("data-testid", "review-question");
    li.setAttribute("data-question-id", String(q.id));
    const head = document.createElement("p");
    head.className = "qz-legend";
    const num = document.createElement("span");
    num.className = "qz-num";
    num.textContent = t("question_n", { n: index + 1, total: state.questions.length });
    head.appendChild(num);
    const text = document.createElement("span");
    text.className = "qz-text";
    text.textContent = q.text;
    head.appendChild(text);
    li.appendChild(head);
    const earned = firstDefined(info.earned, info.score, info.points_earned);
    const points = firstDefined(info.points, info.max_points, q.points);
    if (earned !== null) {
      const p = document.createElement("p");
      p.className = "qz-earned";
      p.textContent = t("points", { earned: fmt(earned), points: fmt(points === null ? 1 : points) });
      li.appendChild(p);
    }
    const ul = document.createElement("ul");
    ul.className = "qz-review-opts";
    (q.options || []).forEach((o) => {
      const item = document.createElement("li");
      const isCorrect = correct.indexOf(Number(o.id)) !== -1;
      const isChosen = chosen.indexOf(Number(o.id)) !== -1;
      item.className = (isCorrect ? "is-correct" : "") + (isChosen ? " is-chosen" : "") +
        (isChosen && !isCorrect ? " is-wrong" : "");
      item.setAttribute("data-testid", "review-option-" + o.id);
      const mark = document.createElement("b");
      mark.className = "mark";
      mark.textContent = isCorrect ? "✓" : (isChosen ? "✗" : "");
      mark.setAttribute("aria-hidden", "true");
      item.appendChild(mark);
      const span = document.createElement("span");
      span.textContent = o.text;
      item.appendChild(span);
      const tags = [];
      if (isChosen) tags.push(t("your_answer"));
      if (isCorrect) tags.push(t("right_answer"));
      if (tags.length) {
        const tag = document.createElement("small");
        tag.textContent = " (" + tags.join(", ") + ")";
        span.appendChild(tag);
      }
      ul.appendChild(item);
    });
    li.appendChild(ul);
    if (info.explanation) {
      const ex = document.createElement("p");
      ex.className = "qz-expl";
      ex.setAttribute("data-testid", "review-explanation");
      ex.textContent = info.explanation;
      li.appendChild(ex);
    }
    ol.appendChild(li);
  });
  els.review.appendChild(ol);
}

// ---------------------------------------------------------------- start / resume
async function reloadAttempt(message) {
  if (!state.attemptId) return;
  try {
    const res = await call("GET", "/attempts/" + state.attemptId, undefined, state.token);
    const wasReview = !!state.review;
    applyAttempt(res.data);
    enter();
    if (message && !state.submitted) els.submitMsg.textContent = message;
    if (state.review && !wasReview && state.pollTimer) { clearInterval(state.pollTimer); state.pollTimer = null; }
  } catch (err) {
    if (isNetworkError(err)) {
      if (!state.submitted) setSave("offline");
      return;
    }
    if (err.status === 401 || err.status === 403 || err.status === 404) {
      forget(true);
      stopTimers();
      showStart(t("resume_again"));
    }
  }
}

function enter() {
  if (state.submitted) {
    if (state.pollTimer && !state.review) return;  // already showing, still waiting
    showResult();
    return;
  }
  if (els.quiz.hidden) show(els.quiz);
  if (!state.questionsShown) renderQuestions();
  els.submit.disabled = false;
  if (!state.tickTimer) { tick(); state.tickTimer = setInterval(tick, 1000); }
  if (hasPending()) { setSave("pending"); scheduleSave(0); } else setSave("saved");
}

function showStart(message) {
  show(els.start);
  state.questionsShown = false;
  const saved = load(STORE_KEY);
  if (saved && saved.code && !els.code.value) els.code.value = saved.code;
  els.startError.textContent = message || "";
  els.startBtn.disabled = false;
}

function cleanCode(raw) {
  let code = String(raw || "").trim();
  if (code.indexOf("/") !== -1) code = code.split("/").filter(Boolean).pop() || "";
  return code.replace(/\s+/g, "").toUpperCase();
}

async function start(event) {
  if (event) event.preventDefault();
  const code = cleanCode(els.code.value);
  els.code.value = code;
  if (!code) { els.startError.textContent = t("need_code"); els.code.focus(); return; }
  els.startBtn.disabled = true;
  els.startError.textContent = t("starting");
  try {
    const saved = load(STORE_KEY);
    const held = state.token || (saved && saved.code === code ? saved.token : null);
    const res = await call("POST", "/quizzes/" + QUIZ_ID + "/attempts",
      { participant_code: code, device: deviceKey() }, held);
    state.code = code;
    state.questionsShown = false;
    applyAttempt(res.data);
    els.startError.textContent = "";
    enter();
  } catch (err) {
    els.startBtn.disabled = false;
    els.startError.textContent = isNetworkError(err) && !(err instanceof HttpError)
      ? t("network") : err.message;
  }
}

// ---------------------------------------------------------------- camera
let scanning = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    if (window.jsQR) { resolve(); return; }
    const s = document.createElement("script");
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error("script"));
    document.head.appendChild(s);
  });
}

async function startScan() {
  els.scanMsg.textContent = "";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    els.scanMsg.textContent = t("no_camera");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (e) {
    els.scanMsg.textContent = t("no_camera");
    return;
  }
  els.scanner.hidden = false;
  els.video.srcObject = stream;
  try { await els.video.play(); } catch (e) { /* autoplay rules: muted + playsinline */ }
  let detector = null;
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.indexOf("qr_code") !== -1) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (e) { detector = null; }
  }
  if (!detector) {
    try { await loadScript(JSQR_URL); } catch (e) { els.scanMsg.textContent = t("no_camera"); stopScan(); return; }
  }
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  scanning = { stream: stream, timer: null };
  const loop = async () => {
    if (!scanning) return;
    let text = null;
    try {
      if (els.video.readyState >= 2) {
        if (detector) {
          const codes = await detector.detect(els.video);
          if (codes.length) text = codes[0].rawValue;
        } else {
          const scale = Math.min(1, 480 / Math.max(els.video.videoWidth, els.video.videoHeight));
          canvas.width = Math.round(els.video.videoWidth * scale);
          canvas.height = Math.round(els.video.videoHeight * scale);
          ctx.drawImage(els.video, 0, 0, canvas.width, canvas.height);
          const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
          const found = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
          if (found) text = found.data;
        }
      }
    } catch (e) { text = null; }
    if (text && cleanCode(text)) {
      stopScan();
      els.code.value = cleanCode(text);
      start();
      return;
    }
    if (scanning) scanning.timer = setTimeout(loop, 250);
  };
  loop();
}

function stopScan() {
  if (!scanning) { els.scanner.hidden = true; return; }
  if (scanning.timer) clearTimeout(scanning.timer);
  scanning.stream.getTracks().forEach((track) => track.stop());
  scanning = null;
  els.video.srcObject = null;
  els.scanner.hidden = true;
}

// ---------------------------------------------------------------- wiring
els.startForm.addEventListener("submit", start);
els.scanBtn.addEventListener("click", startScan);
els.scanStop.addEventListener("click", stopScan);
els.submit.addEventListener("click", askSubmit);
els.confirmYes.addEventListener("click", doSubmit);
els.confirmNo.addEventListener("click", () => {
  els.confirm.hidden = true;
  const first = state.questions.filter((q) => !(state.answers[String(q.id)] || []).length)[0];
  const li = first && document.getElementById("q-" + first.id);
  if (li) { li.scrollIntoView(); const input = li.querySelector("input"); if (input) input.focus(); }
});
els.refresh.addEventListener("click", () => reloadAttempt());
els.retry.addEventListener("click", () => {
  // Another attempt (the quiz allows more than one): the same code starts the next one.
  const code = state.code;
  forget(true);
  stopTimers();
  state.submitted = false;
  state.result = state.review = null;
  els.code.value = code || "";
  showStart("");
  if (code) start();
});
els.again.addEventListener("click", () => {
  // "Not me / another participant": forget this phone's attempt (the server keeps it).
  forget(false);
  stopTimers();
  state.submitted = false;
  state.result = state.review = null;
  els.code.value = "";
  showStart("");
});
window.addEventListener("online", () => {
  if (state.submitting) doSubmit(); else if (state.attemptId && !state.submitted) flush();
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  if (state.attemptId && !state.submitted) { tick(); if (hasPending()) flush(); }
  if (state.submitted && !state.review) reloadAttempt();
});

(function boot() {
  const saved = load(STORE_KEY);
  if (saved && saved.attempt_id && saved.token) {
    state.attemptId = saved.attempt_id;
    state.token = saved.token;
    state.code = saved.code || null;
    state.submitted = !!saved.submitted;
    els.startError.textContent = t("resuming");
    reloadAttempt().then(() => {
      if (!state.questions.length && els.quiz.hidden && els.result.hidden) {
        // Offline at load: show the start form; the code is prefilled.
        showStart(t("network"));
      }
    });
    return;
  }
  showStart("");
})();
