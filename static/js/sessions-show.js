// The session page: follow `session_status` pushes (Socket.IO namespace /live) and show the
// new status at once, with a note to reload for the buttons that go with it.
const page = document.querySelector(".session-page[data-session-id]");
const badge = document.getElementById("session-status");
const note = document.getElementById("status-note");

function showStatus(status) {
  if (!badge || !status || badge.dataset.status === status) return;
  badge.className = `badge ${status}`;
  badge.dataset.status = status;
  badge.textContent = page.dataset[`label${status[0].toUpperCase()}${status.slice(1)}`] || status;
  if (note) {
    note.textContent = page.dataset.changed;
    note.hidden = false;
  }
}

if (page && typeof window.io === "function") {
  const sessionId = Number(page.dataset.sessionId);
  const socket = window.io("/live", { transports: ["websocket", "polling"] });
  socket.on("connect", () => socket.emit("watch", { session_id: sessionId }, () => {}));
  socket.on("session_status", (message) => {
    if (message && Number(message.session_id) === sessionId) showStatus(message.status);
  });
}
