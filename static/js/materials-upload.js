// Upload page: one API request per file, sent one after another, each with a progress bar.
// Without JavaScript the form posts all files to the page itself.

const form = document.getElementById("upload-form");
const list = document.getElementById("upload-list");
const input = document.getElementById("f-files");
const button = document.getElementById("upload-button");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const maxBytes = Number(form.dataset.maxBytes || 0);

function commonFields() {
  const out = {};
  for (const name of ["topic", "language", "description"]) {
    const el = form.elements.namedItem(name);
    if (el && el.value.trim() !== "") out[name] = el.value;
  }
  const visibility = form.querySelector('input[name="visibility"]:checked');
  if (visibility) out.visibility = visibility.value;
  const attach = form.elements.namedItem("attach")?.value || "";
  const [kind, id] = attach.split(":");
  const field = { training: "training_id", session: "session_id", agenda: "agenda_item_id" }[kind];
  if (field && id) out[field] = id;
  return out;
}

function problemText(body) {
  if (!body || typeof body !== "object") return "";
  const parts = [];
  if (body.errors && typeof body.errors === "object") {
    for (const messages of Object.values(body.errors)) {
      if (Array.isArray(messages)) parts.push(...messages);
    }
  }
  if (!parts.length && body.detail) parts.push(body.detail);
  return parts.join(" ");
}

function makeRow(file) {
  const li = document.createElement("li");
  const name = document.createElement("span");
  name.className = "upload-name";
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  const status = document.createElement("span");
  status.className = "upload-status";
  status.textContent = "0 %";
  li.append(name, bar, status);
  list.append(li);
  return {
    progress(fraction) {
      bar.value = Math.round(fraction * 100);
      status.textContent = `${bar.value}%`;
    },
    done(body) {
      bar.value = 100;
      li.classList.add("ok");
      status.textContent = "";
      const link = document.createElement("a");
      link.href = body?.page_url || "#";
      link.textContent = `${form.dataset.msgDone}: ${body?.title || file.name}`;
      status.append(link);
    },
    fail(message) {
      li.classList.add("failed");
      bar.remove();
      status.textContent = `${form.dataset.msgFailed}: ${message}`;
      status.setAttribute("role", "alert");
    },
  };
}

function uploadOne(file, row, fields) {
  return new Promise((resolve) => {
    if (maxBytes && file.size > maxBytes) {
      row.fail(form.dataset.msgTooLarge);
      resolve(false);
      return;
    }
    const data = new FormData();
    data.append("file", file, file.name);
    for (const [key, value] of Object.entries(fields)) data.append(key, value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.api);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) row.progress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201) {
        row.done(body);
        resolve(true);
      } else {
        row.fail(problemText(body) || `${xhr.status} ${xhr.statusText}`);
        resolve(false);
      }
    });
    xhr.addEventListener("error", () => {
      row.fail(form.dataset.msgNetwork);
      resolve(false);
    });
    xhr.addEventListener("abort", () => {
      row.fail(form.dataset.msgNetwork);
      resolve(false);
    });
    xhr.send(data);
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const files = Array.from(input.files || []);
  if (!files.length) {
    input.setCustomValidity(form.dataset.msgNone);
    input.reportValidity();
    return;
  }
  const topic = form.elements.namedItem("topic");
  if (topic && !topic.reportValidity()) return;
  const fields = commonFields();
  button.disabled = true;
  list.replaceChildren();
  const rows = files.map(makeRow);
  let ok = 0;
  for (const [i, file] of files.entries()) {
    if (await uploadOne(file, rows[i], fields)) ok += 1;
  }
  button.disabled = false;
  if (ok === files.length) {
    input.value = "";
    const note = document.createElement("li");
    note.className = "ok";
    note.textContent = form.dataset.msgAllDone;
    list.append(note);
  }
});

input.addEventListener("change", () => input.setCustomValidity(""));
