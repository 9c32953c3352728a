// The video panel of a session's page: each site's media state follows Janus's events live
// (conference_status on /live), as the wall's tiles do.

import { connectLive, emitAck } from "./live.js";

const panel = document.querySelector("[data-testid=conference-panel]");
const sessionId = Number(panel?.dataset.sessionId);
const labels = {};
panel?.querySelectorAll("#conference-media-labels [data-k]").forEach((el) => {
  labels[el.dataset.k] = el.textContent;
});

if (panel && sessionId) {
  const socket = connectLive({ onConnect: (s) => emitAck(s, "watch", { session_id: sessionId }) });
  socket?.on("conference_status", (p) => {
    if (Number(p.session_id) !== sessionId) return;
    const field = panel.querySelector(`[data-testid=conference-site][data-site-id="${Number(p.site_id)}"] [data-field=media]`);
    if (!field || !labels[p.media]) return;
    field.dataset.media = p.media;
    field.querySelector(".media-dot").dataset.media = p.media;
    field.lastChild.textContent = labels[p.media];
  });
}
