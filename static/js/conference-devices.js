// The check before joining a call: choose the camera, microphone and speaker, see yourself,
// watch the microphone level, hear a test sound, and read what to do when a device is missing
// or permission is refused. Used by the room computer and the host's control room.
//
// Markup (in templates/conference/_prejoin.html): #cam, #mic, #spk selects, #preview video,
// #mic-level meter, #test-sound button, #guidance list, #join button.

const $ = (id) => document.getElementById(id);

// getUserMedia's error -> a key of the page's guidance messages.
export function problemOf(err) {
  const name = err?.name || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return "missing";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "busy";
  return "failed";
}

export class DeviceCheck {
  constructor({ t, onChange } = {}) {
    this.t = t;
    this.onChange = onChange;
    this.stream = null;
    this.problems = { video: null, audio: null };
    this.audioContext = null;
    this.meterTimer = null;
  }

  get videoId() {
    return $("cam")?.value || null;
  }

  get audioId() {
    return $("mic")?.value || null;
  }

  get speakerId() {
    return $("spk")?.value || null;
  }

  // Constraints for janus.js: false when the device cannot be used. The height comes from the
  // quality chosen (720, 360 or 180 lines, 16:9).
  videoConstraints() {
    if (this.problems.video) return false;
    const height = Number($("quality")?.value) || 720;
    const c = { width: { ideal: Math.round((height * 16) / 9) }, height: { ideal: height } };
    if (this.videoId) c.deviceId = { exact: this.videoId };
    return c;
  }

  audioConstraints() {
    if (this.problems.audio) return false;
    const c = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (this.audioId) c.deviceId = { exact: this.audioId };
    return c;
  }

  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.problems = { video: "insecure", audio: "insecure" };
      this.render();
      return;
    }
    await this.open();
    await this.fillLists();
    for (const id of ["cam", "mic"]) $(id)?.addEventListener("change", () => this.open());
    $("spk")?.addEventListener("change", () => this.onChange?.());
    $("test-sound")?.addEventListener("click", () => this.testSound());
    navigator.mediaDevices.addEventListener?.("devicechange", () => this.fillLists());
  }

  // Camera and microphone are asked for separately, so one missing device does not hide the
  // other and the guidance names the right one.
  async open() {
    this.release();
    const tracks = [];
    for (const kind of ["video", "audio"]) {
      const id = kind === "video" ? this.videoId : this.audioId;
      try {
        const s = await navigator.mediaDevices.getUserMedia({ [kind]: id ? { deviceId: { exact: id } } : true });
        tracks.push(...s.getTracks());
        this.problems[kind] = null;
      } catch (err) {
        this.problems[kind] = problemOf(err);
      }
    }
    this.stream = new MediaStream(tracks);
    const preview = $("preview");
    if (preview) {
      preview.srcObject = this.stream.getVideoTracks().length ? this.stream : null;
      preview.play?.().catch(() => {});
    }
    this.meter();
    this.render();
    this.onChange?.();
  }

  async fillLists() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch (_err) {
      devices = [];
    }
    const current = {
      cam: this.stream?.getVideoTracks()[0]?.getSettings().deviceId,
      mic: this.stream?.getAudioTracks()[0]?.getSettings().deviceId,
    };
    const fill = (id, kind, label) => {
      const select = $(id);
      if (!select) return;
      const chosen = select.value || current[id];
      select.replaceChildren();
      devices.filter((d) => d.kind === kind).forEach((d, i) => {
        const option = document.createElement("option");
        option.value = d.deviceId;
        option.textContent = d.label || `${label} ${i + 1}`;
        if (d.deviceId === chosen) option.selected = true;
        select.append(option);
      });
      select.disabled = select.options.length === 0;
    };
    fill("cam", "videoinput", this.t("camera"));
    fill("mic", "audioinput", this.t("microphone"));
    fill("spk", "audiooutput", this.t("speaker"));
    this.render();
  }

  meter() {
    clearInterval(this.meterTimer);
    const bar = $("mic-level");
    const track = this.stream?.getAudioTracks()[0];
    if (!bar || !track) {
      if (bar) bar.value = 0;
      return;
    }
    this.audioContext = this.audioContext || new AudioContext();
    const source = this.audioContext.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.audioContext.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    this.meterTimer = setInterval(() => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
      bar.value = Math.min(100, Math.round((peak / 128) * 200));
    }, 100);
  }

  // A one-second 440 Hz tone through the chosen speaker.
  async testSound() {
    const context = new AudioContext();
    const destination = context.createMediaStreamDestination();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    gain.gain.value = 0.2;
    oscillator.frequency.value = 440;
    oscillator.connect(gain).connect(destination);
    const audio = new Audio();
    audio.srcObject = destination.stream;
    if (this.speakerId && audio.setSinkId) {
      try {
        await audio.setSinkId(this.speakerId);
      } catch (_err) {
        /* the default output plays it */
      }
    }
    oscillator.start();
    const status = $("test-sound-state");
    if (status) status.textContent = this.t("sound_playing");
    await audio.play().catch(() => {});
    setTimeout(() => {
      oscillator.stop();
      audio.srcObject = null;
      context.close();
      if (status) status.textContent = this.t("sound_heard");
    }, 1000);
  }

  render() {
    const list = $("guidance");
    if (!list) return;
    list.replaceChildren();
    const add = (key, kind) => {
      const li = document.createElement("li");
      li.dataset.problem = `${kind}-${key}`;
      li.textContent = this.t(`${kind}_${key}`);
      list.append(li);
    };
    if (this.problems.video && this.problems.video === this.problems.audio) add(this.problems.video, "both");
    else {
      if (this.problems.video) add(this.problems.video, "video");
      if (this.problems.audio) add(this.problems.audio, "audio");
    }
    list.hidden = list.children.length === 0;
    const join = $("join");
    if (join) join.disabled = !!(this.problems.video === "insecure");
  }

  // Let janus.js open the devices itself: stop the preview's tracks and meters.
  release() {
    clearInterval(this.meterTimer);
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
  }
}
