// What a check-in page keeps on the device (IndexedDB), so it survives a reload offline:
//   "roster": the site's roster as last seen, key "<session>:<site>";
//   "queue":  check-ins, walk-ins and undos waiting to be sent, key client_id, kept in
//             creation order (`seq`); an item the server refused stays with state "attention"
//             until the coordinator dismisses it (never dropped silently).

const DB_NAME = "trainer-checkin";
const DB_VERSION = 1;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

// A stand-in when IndexedDB is missing (private windows of some browsers): memory only.
class MemoryStore {
  constructor() {
    this.roster = new Map();
    this.queue = new Map();
    this.persistent = false;
  }
  async getRoster(key) { return this.roster.get(key) || null; }
  async putRoster(key, value) { this.roster.set(key, value); }
  async items(scope) {
    return [...this.queue.values()].filter((i) => i.scope === scope).sort((a, b) => a.seq - b.seq);
  }
  async put(item) { this.queue.set(item.client_id, item); }
  async remove(clientId) { this.queue.delete(clientId); }
}

class IdbStore {
  constructor(db) {
    this.db = db;
    this.persistent = true;
  }
  async getRoster(key) {
    const tx = this.db.transaction("roster", "readonly");
    const value = await promised(tx.objectStore("roster").get(key));
    return value ? value.data : null;
  }
  async putRoster(key, data) {
    const tx = this.db.transaction("roster", "readwrite");
    tx.objectStore("roster").put({ key, data });
    await done(tx);
  }
  async items(scope) {
    const tx = this.db.transaction("queue", "readonly");
    const all = await promised(tx.objectStore("queue").index("scope").getAll(scope));
    return all.sort((a, b) => a.seq - b.seq);
  }
  async put(item) {
    const tx = this.db.transaction("queue", "readwrite");
    tx.objectStore("queue").put(item);
    await done(tx);
  }
  async remove(clientId) {
    const tx = this.db.transaction("queue", "readwrite");
    tx.objectStore("queue").delete(clientId);
    await done(tx);
  }
}

export async function openStore() {
  if (!("indexedDB" in window)) return new MemoryStore();
  try {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("roster")) db.createObjectStore("roster", { keyPath: "key" });
      if (!db.objectStoreNames.contains("queue")) {
        const queue = db.createObjectStore("queue", { keyPath: "client_id" });
        queue.createIndex("scope", "scope");
      }
    };
    const db = await promised(request);
    return new IdbStore(db);
  } catch (_err) {
    return new MemoryStore();
  }
}

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Older browsers on plain http: an RFC 4122 version 4 UUID from getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Device time as ISO 8601 with the device's offset, e.g. 2025-03-01T08:05:09.123+07:00.
export function isoNow(date = new Date()) {
  const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}
