// Camera scanning of participant QR codes: the browser's BarcodeDetector where it exists,
// else the vendored jsQR on video frames drawn into a canvas. Codes are reported to
// `onCode`; the same code is not reported again within `repeatMs`.

let jsqrLoading = null;

function loadJsQR(url) {
  if (typeof window.jsQR === "function") return Promise.resolve(window.jsQR);
  if (!jsqrLoading) {
    jsqrLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => (typeof window.jsQR === "function" ? resolve(window.jsQR) : reject(new Error("jsQR")));
      script.onerror = () => {
        jsqrLoading = null;
        reject(new Error("jsQR could not be loaded"));
      };
      document.head.appendChild(script);
    });
  }
  return jsqrLoading;
}

async function nativeDetector() {
  if (!("BarcodeDetector" in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) return null;
    return new window.BarcodeDetector({ formats: ["qr_code"] });
  } catch (_err) {
    return null;
  }
}

export function cameraAvailable() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

export async function startScanner({ video, canvas, jsqrUrl, onCode, repeatMs = 3000 }) {
  if (!cameraAvailable()) throw new Error("no-camera");
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  });
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  video.muted = true;
  await video.play().catch(() => {});

  const detector = await nativeDetector();
  const decode = detector ? null : await loadJsQR(jsqrUrl);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let running = true;
  let last = { code: "", at: 0 };
  let timer = 0;

  const report = (text) => {
    const code = String(text || "").trim();
    if (!code) return;
    const now = Date.now();
    if (code === last.code && now - last.at < repeatMs) return;
    last = { code, at: now };
    onCode(code);
  };

  const tick = async () => {
    if (!running) return;
    try {
      if (video.readyState >= 2 && video.videoWidth) {
        if (detector) {
          const found = await detector.detect(video);
          if (found.length) report(found[0].rawValue);
        } else {
          const scale = Math.min(1, 640 / video.videoWidth);
          const w = Math.round(video.videoWidth * scale);
          const h = Math.round(video.videoHeight * scale);
          canvas.width = w;
          canvas.height = h;
          ctx.drawImage(video, 0, 0, w, h);
          const image = ctx.getImageData(0, 0, w, h);
          const found = decode(image.data, w, h, { inversionAttempts: "dontInvert" });
          if (found) report(found.data);
        }
      }
    } catch (_err) {
      /* a frame that cannot be read: try the next one */
    }
    if (running) timer = setTimeout(tick, 150);
  };
  tick();

  return {
    native: !!detector,
    stop() {
      running = false;
      clearTimeout(timer);
      stream.getTracks().forEach((t) => t.stop());
      video.srcObject = null;
    },
  };
}
