// A participant of trainer's video room, on janus.js (static/vendor/janus-1.1.2.min.js, with
// webrtc-adapter): ask trainer for a join token, join the VideoRoom as a publisher, publish the
// camera and microphone (simulcast), subscribe to other publishers, and rejoin by itself with a
// fresh token after a network drop or a restart of the video server.
//
// Janus knows publishers by plain display ids ("host", "site-<id>"); names stay in trainer.

import { api } from "./api.js";

let janusReady = null;

function initJanus() {
  if (!janusReady) {
    janusReady = new Promise((resolve, reject) => {
      if (!window.Janus || !window.adapter) {
        reject(new Error("janus.js is missing"));
        return;
      }
      window.Janus.init({
        debug: false,
        dependencies: window.Janus.useDefaultDependencies({ adapter: window.adapter }),
        callback: resolve,
      });
    });
  }
  return janusReady;
}

// "host" or the site id of a publisher's display id; null for anything else.
export function feedOwner(display) {
  if (display === "host") return "host";
  const m = /^site-(\d+)$/.exec(String(display || ""));
  return m ? Number(m[1]) : null;
}

const RETRY_MS = [1000, 2000, 4000, 8000, 10000];

export class ConferenceClient {
  // options: joinUrl, body ({site_id, role}), video/audio (constraints or false), simulcast,
  // onStatus(kind, detail), onLocalTrack(track, on), onFeed({id, display, owner, streams}),
  // onFeedGone(id), onRoomEvent(msg), onScreen(sharing, error)
  constructor(options) {
    this.o = options;
    this.janus = null;
    this.publisher = null;
    this.feeds = new Map(); // publisher id -> feed
    this.subscriptions = new Map(); // publisher id -> Subscription
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    this.join = null;
    this.generation = 0;
  }

  status(kind, detail) {
    this.o.onStatus?.(kind, detail);
  }

  async start() {
    this.stopped = false;
    const generation = ++this.generation;
    this.status(this.attempt ? "reconnecting" : "connecting");
    const result = await api("POST", this.o.joinUrl, this.o.body);
    if (generation !== this.generation || this.stopped) return;
    if (!result.ok) {
      if (result.status === 409 && result.problem?.reason === "session-ended") {
        this.end();
        return;
      }
      if (result.status === 403 || result.status === 409 || result.status === 404) {
        this.status("refused", result.problem?.detail || "");
        return;
      }
      this.status(result.status === 503 ? "unavailable" : "reconnecting", result.problem?.detail || "");
      this.retry();
      return;
    }
    this.join = result.data;
    try {
      await initJanus();
    } catch (err) {
      this.status("unavailable", String(err));
      return;
    }
    await this.dropStaleSession();
    if (generation !== this.generation || this.stopped) return;
    this.connect(generation);
  }

  connect(generation) {
    const Janus = window.Janus;
    const j = this.join;
    this.janus = new Janus({
      server: j.server,
      token: j.token,
      iceServers: j.ice_servers || [],
      success: () => {
        if (generation !== this.generation) return;
        this.attachPublisher(generation);
      },
      error: (err) => {
        if (generation !== this.generation) return;
        this.lost(String(err || "error"));
      },
      destroyed: () => {},
    });
  }

  attachPublisher(generation) {
    const j = this.join;
    this.janus.attach({
      plugin: "janus.plugin.videoroom",
      opaqueId: j.display,
      success: (handle) => {
        this.publisher = handle;
        const body = { request: "join", room: j.room, ptype: "publisher", display: j.display };
        if (j.pin) body.pin = j.pin;
        if (j.publisher_id) body.id = j.publisher_id;
        handle.send({ message: body });
      },
      error: (err) => this.lost(String(err)),
      iceState: (state) => {
        if (state === "failed") this.lost("ice failed");
        if (state === "disconnected") {
          clearTimeout(this.iceTimer);
          this.iceTimer = setTimeout(() => {
            const pc = this.publisher?.webrtcStuff?.pc;
            if (generation === this.generation && pc && pc.iceConnectionState === "disconnected") this.lost("ice disconnected");
          }, 4000);
        }
      },
      webrtcState: (on) => {
        if (generation !== this.generation) return;
        if (on) {
          this.attempt = 0;
          this.status("live");
        } else {
          this.lost("webrtc down");
        }
      },
      onmessage: (msg, jsep) => this.onPublisherMessage(msg, jsep),
      onlocaltrack: (track, on) => this.o.onLocalTrack?.(track, on),
      onremotetrack: () => {},
      oncleanup: () => {},
    });
  }

  onPublisherMessage(msg, jsep) {
    const event = msg.videoroom;
    if (msg.error) {
      // 436: this publisher id is already in the room: the site is open in another window, or,
      // when rejoining, Janus has not yet let our old session go (try again).
      if (msg.error_code === 436 && !this.rejoining) {
        this.status("duplicate", msg.error);
        return;
      }
      this.lost(msg.error);
      return;
    }
    if (event === "joined") {
      this.rejoining = false;
      this.myId = msg.id;
      this.privateId = msg.private_id;
      this.publish();
      this.addPublishers(msg.publishers || []);
    } else if (event === "event") {
      if (msg.publishers) this.addPublishers(msg.publishers);
      const gone = msg.leaving ?? msg.unpublished;
      if (gone !== undefined && gone !== "ok") this.removeFeed(gone);
      if (msg.kicked === this.myId || msg.leaving === "ok") this.lost("kicked");
    } else if (event === "destroyed") {
      this.lost("room destroyed");
    }
    if (event) this.o.onRoomEvent?.(msg);
    if (jsep) this.publisher.handleRemoteJsep({ jsep });
  }

  publish() {
    const tracks = [];
    if (this.o.audio !== false) tracks.push({ type: "audio", capture: this.o.audio || true, recv: false });
    if (this.o.video !== false) {
      tracks.push({ type: "video", capture: this.o.video || true, recv: false, simulcast: this.o.simulcast !== false });
    }
    if (!tracks.length) return;
    this.publisher.createOffer({
      tracks,
      success: (jsep) => {
        this.publisher.send({ message: { request: "configure", audio: this.o.audio !== false, video: this.o.video !== false }, jsep });
      },
      error: (err) => this.status("media-error", err?.name || String(err)),
    });
  }

  addPublishers(list) {
    for (const p of list) {
      if (p.dummy) continue;
      const feed = { id: p.id, display: p.display, owner: feedOwner(p.display), streams: (p.streams || []).filter((s) => !s.disabled) };
      const before = this.feeds.get(p.id);
      this.feeds.set(p.id, feed);
      // Streams added or removed (the host shares its screen, or stops): receive them anew.
      const sub = this.subscriptions.get(p.id);
      if (before && sub && streamKeys(before) !== streamKeys(feed)) sub.close(true);
      this.o.onFeed?.(feed);
    }
  }

  // ------------------------------------------------------------ sharing the screen (slides)
  // The screen goes out as one more video stream of this publisher (Janus multistream), with
  // the description "screen" so that the others know it from the camera.
  shareScreen() {
    if (!this.publisher || this.screenTrack) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.publisher.createOffer({
        tracks: [{ type: "screen", capture: true, recv: false, add: true }],
        success: (jsep) => {
          const pc = this.publisher.webrtcStuff.pc;
          const sender = pc.getSenders().find((x) => x.track && x.track.getSettings?.().displaySurface);
          const mid = pc.getTransceivers().find((tr) => tr.sender === sender)?.mid;
          this.screenTrack = sender?.track || null;
          this.screenMid = mid;
          if (this.screenTrack) this.screenTrack.addEventListener("ended", () => this.stopScreen());
          const message = { request: "configure" };
          if (mid !== undefined) message.descriptions = [{ mid, description: "screen" }];
          this.publisher.send({ message, jsep });
          this.o.onScreen?.(true);
          resolve(true);
        },
        error: (err) => {
          this.o.onScreen?.(false, err?.name || String(err));
          resolve(false);
        },
      });
    });
  }

  stopScreen() {
    if (!this.publisher || !this.screenTrack) return;
    const mid = this.screenMid;
    this.screenTrack = null;
    this.screenMid = undefined;
    this.publisher.createOffer({
      tracks: [{ type: "screen", mid, remove: true }],
      success: (jsep) => this.publisher.send({ message: { request: "configure" }, jsep }),
      error: () => {},
    });
    this.o.onScreen?.(false);
  }

  removeFeed(id) {
    const feed = this.feeds.get(id);
    this.feeds.delete(id);
    const sub = this.subscriptions.get(id);
    if (sub) sub.close();
    if (feed) this.o.onFeedGone?.(feed);
  }

  feedOf(owner) {
    for (const feed of this.feeds.values()) if (feed.owner === owner) return feed;
    return null;
  }

  // Receive one publisher's streams; `substream` 0 is the low simulcast layer (a tile).
  subscribe(feed, { substream = 2, onTrack, onGone } = {}) {
    const existing = this.subscriptions.get(feed.id);
    if (existing) return existing;
    const sub = new Subscription(this, feed, { substream, onTrack, onGone });
    this.subscriptions.set(feed.id, sub);
    return sub;
  }

  muteOwnAudio(muted) {
    if (!this.publisher) return;
    if (muted) this.publisher.muteAudio();
    else this.publisher.unmuteAudio();
  }

  lost(reason) {
    if (this.stopped) return;
    this.rejoining = true;
    this.teardown();
    this.status("reconnecting", reason);
    this.retry();
  }

  retry() {
    clearTimeout(this.timer);
    const wait = RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
    this.attempt += 1;
    this.timer = setTimeout(() => this.start(), wait);
  }

  // After a network drop Janus still holds our old session (and our publisher id in the room)
  // until its session timeout: end it now, so that joining again is not refused as a duplicate.
  async dropStaleSession() {
    const stale = this.stale;
    this.stale = null;
    if (!stale) return;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    try {
      await fetch(`${stale.server}/${stale.id}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ janus: "destroy", transaction: window.Janus.randomString(12), token: stale.token }),
        signal: controller.signal,
      });
    } catch (_err) {
      /* gone already, or Janus restarted */
    } finally {
      clearTimeout(timer);
    }
  }

  teardown() {
    this.generation += 1;
    clearTimeout(this.iceTimer);
    if (this.screenTrack) {
      // the connection that carried it is gone: sharing starts again from the button
      this.screenTrack.stop();
      this.screenTrack = null;
      this.o.onScreen?.(false);
    }
    for (const sub of this.subscriptions.values()) sub.close(true);
    this.subscriptions.clear();
    for (const feed of this.feeds.values()) this.o.onFeedGone?.(feed);
    this.feeds.clear();
    const janus = this.janus;
    this.janus = null;
    this.publisher = null;
    const id = janus?.getSessionId?.();
    if (id && this.join) this.stale = { server: this.join.server, id, token: this.join.token };
    if (janus) {
      try {
        janus.destroy({ cleanupHandles: true, notifyDestroyed: false, unload: false });
      } catch (_err) {
        /* the server is gone already */
      }
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.teardown();
    this.status("left");
  }

  // The session ended: trainer closed the room for everyone, there is nothing to rejoin.
  end() {
    this.stop();
    this.status("ended");
  }
}

class Subscription {
  constructor(client, feed, { substream, onTrack, onGone }) {
    this.client = client;
    this.feed = feed;
    this.substream = substream;
    this.onTrack = onTrack;
    this.onGone = onGone;
    this.handle = null;
    this.closed = false;
    const j = client.join;
    client.janus.attach({
      plugin: "janus.plugin.videoroom",
      opaqueId: j.display,
      success: (handle) => {
        if (this.closed) {
          handle.detach();
          return;
        }
        this.handle = handle;
        const streams = (feed.streams.length ? feed.streams : [{}]).map((s) => {
          const item = { feed: feed.id };
          if (s.mid !== undefined) item.mid = s.mid;
          if (s.type === "video") item.substream = substream;
          return item;
        });
        const body = { request: "join", room: j.room, ptype: "subscriber", streams, private_id: client.privateId };
        if (j.pin) body.pin = j.pin;
        handle.send({ message: body });
      },
      error: () => this.close(),
      onmessage: (msg, jsep) => {
        if (msg.error) return;
        if (jsep) {
          this.handle.createAnswer({
            jsep,
            tracks: [{ type: "data" }],
            success: (answer) => this.handle.send({ message: { request: "start", room: j.room }, jsep: answer }),
            error: () => this.close(),
          });
        }
      },
      onremotetrack: (track, mid, on) => this.onTrack?.(track, mid, on),
      oncleanup: () => {},
    });
  }

  setSubstream(substream) {
    if (!this.handle || substream === this.substream) return;
    this.substream = substream;
    const streams = this.feed.streams.filter((s) => s.type === "video").map((s) => ({ mid: s.mid, substream }));
    this.handle.send({ message: { request: "configure", streams } });
  }

  // Receive-side figures of the last period: kbit/s, % lost, round-trip ms, frames decoded,
  // audio level (0..1).
  async stats() {
    const pc = this.handle?.webrtcStuff?.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    const now = { bytes: 0, lost: 0, received: 0, frames: 0, level: 0, rtt: null, time: performance.now() };
    report.forEach((s) => {
      if (s.type === "inbound-rtp") {
        now.bytes += s.bytesReceived || 0;
        now.lost += Math.max(0, s.packetsLost || 0);
        now.received += s.packetsReceived || 0;
        if (s.kind === "video") now.frames += s.framesDecoded || 0;
        if (s.kind === "audio" && typeof s.audioLevel === "number") now.level = Math.max(now.level, s.audioLevel);
      } else if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && typeof s.currentRoundTripTime === "number") {
        now.rtt = Math.round(s.currentRoundTripTime * 1000);
      }
    });
    const before = this.last;
    this.last = now;
    if (!before) return { kbps: 0, loss: 0, rtt: now.rtt, frames: now.frames, level: now.level };
    const seconds = Math.max(0.001, (now.time - before.time) / 1000);
    const packets = now.received - before.received + (now.lost - before.lost);
    return {
      kbps: Math.round(((now.bytes - before.bytes) * 8) / 1000 / seconds),
      loss: packets > 0 ? Math.round((1000 * (now.lost - before.lost)) / packets) / 10 : 0,
      rtt: now.rtt,
      frames: now.frames,
      level: now.level,
    };
  }

  close(quiet = false) {
    if (this.closed) return;
    this.closed = true;
    this.client.subscriptions.delete(this.feed.id);
    try {
      this.handle?.detach();
    } catch (_err) {
      /* gone */
    }
    if (!quiet) this.onGone?.();
  }
}

function streamKeys(feed) {
  return feed.streams.map((s) => `${s.mid}:${s.type}:${s.description || ""}`).join(",");
}

// The mid of a feed's shared screen (its video stream described "screen"), or null.
export function screenMid(feed) {
  const screen = (feed?.streams || []).find((s) => s.type === "video" && s.description === "screen");
  return screen ? String(screen.mid) : null;
}

// Attach a remote or local track to a media element (one MediaStream per element).
export function attachTrack(element, track) {
  if (!element) return;
  const stream = element.srcObject instanceof MediaStream ? element.srcObject : new MediaStream();
  for (const old of stream.getTracks()) if (old.kind === track.kind) stream.removeTrack(old);
  stream.addTrack(track);
  if (element.srcObject !== stream) element.srcObject = stream;
  element.play?.().catch(() => {});
}

export function detachTrack(element, track) {
  const stream = element?.srcObject;
  if (stream instanceof MediaStream && track) stream.removeTrack(track);
}

// The "mute my microphone" button of both pages: toggles the page's own audio track.
export function selfMuteButton(button, client, t) {
  let muted = false;
  button.textContent = t("mute");
  button.addEventListener("click", () => {
    muted = !muted;
    client.muteOwnAudio(muted);
    button.textContent = t(muted ? "unmute" : "mute");
    button.setAttribute("aria-pressed", String(muted));
  });
}

// "Recording" on every page of the call while the host records: participants must know.
export function showRecording(indicator, on, t, key = "recording") {
  indicator.hidden = !on;
  indicator.textContent = on ? t(key) : "";
  document.body.classList.toggle("recorded", !!on);
}

// The page's translated texts, from the hidden list the template renders (#conf-i18n, one
// element per key); `{name}` in a text is replaced by params.name.
export function pageTexts(selector = "#conf-i18n [data-k]") {
  const texts = {};
  document.querySelectorAll(selector).forEach((el) => {
    texts[el.dataset.k] = el.textContent;
  });
  return (key, params = {}) => {
    let text = texts[key] ?? key;
    for (const [name, value] of Object.entries(params)) text = text.split(`{${name}}`).join(String(value));
    return text;
  };
}
