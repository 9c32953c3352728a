// The quiz's live statistics (score histogram, right answers per question) on the results page
// and the room screen: the server renders them; while the quiz is open this puts a fresh copy
// in place after each progress push the page's live script relays ("quiz-progress"), at most
// once every `data-every-s` seconds (with a little jitter so a room of screens does not ask at
// once), and polls as well in case a push is missed.

const box = document.getElementById("quiz-stats");
if (box) {
  const url = box.dataset.statsUrl;
  const everyMs = 1000 * Number(box.dataset.everyS || 10);
  let status = box.dataset.status;
  let last = 0;
  let timer = 0;

  const refresh = async () => {
    timer = 0;
    last = Date.now();
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } });
      if (response.ok) {
        // a fragment the server rendered (escaped by its templates); parsed, never run
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        box.replaceChildren(...doc.body.childNodes);
        box.dataset.refreshed = String(Number(box.dataset.refreshed || 0) + 1);
      }
    } catch (_err) { /* offline: keep what is shown */ }
  };

  const soon = () => {
    if (timer) return;
    const wait = Math.max(0, everyMs - (Date.now() - last)) + Math.random() * 1000;
    timer = setTimeout(refresh, wait);
  };

  document.addEventListener("quiz-progress", soon);
  document.addEventListener("quiz-status", (event) => {
    status = event.detail?.status || status;
    soon();
  });
  setInterval(() => {
    if (status === "open" && Date.now() - last >= everyMs) soon();
  }, everyMs);
}
