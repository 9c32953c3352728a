// Socket.IO connection to the namespace /live (the browser's session cookie authenticates).
// The vendored client (static/vendor/socket.io-4.8.1.min.js) defines the global `io`.

export function connectLive({ onConnect, onDisconnect } = {}) {
  if (typeof window.io !== "function") return null;
  const socket = window.io("/live", {
    withCredentials: true,
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
    timeout: 10000,
  });
  socket.on("connect", () => onConnect && onConnect(socket));
  socket.on("disconnect", (reason) => onDisconnect && onDisconnect(reason));
  socket.on("connect_error", () => onDisconnect && onDisconnect("connect_error"));
  return socket;
}

// Emit with an acknowledgement that resolves to null after `ms` without an answer.
export function emitAck(socket, event, payload, ms = 8000) {
  return new Promise((resolve) => {
    if (!socket || !socket.connected) {
      resolve(null);
      return;
    }
    socket.timeout(ms).emit(event, payload, (err, answer) => resolve(err ? null : answer));
  });
}
