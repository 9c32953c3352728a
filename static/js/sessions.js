// Small helpers for the scheduling pages (no inline scripts: CSP script-src 'self').
//  - form[data-confirm]: ask before submitting (status changes, deletions);
//  - input[data-check-all=NAME]: tick or untick every checkbox named NAME;
//  - the session form: moving the start moves the end by the same amount;
//  - [data-copy=SELECTOR]: copy a field's text; [data-select-on-focus]: select it.

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

for (const toggle of document.querySelectorAll("input[data-check-all]")) {
  const boxes = () => [...document.querySelectorAll(`input[type=checkbox][name="${toggle.dataset.checkAll}"]`)];
  const sync = () => { toggle.checked = boxes().length > 0 && boxes().every((b) => b.checked); };
  toggle.addEventListener("change", () => { for (const b of boxes()) b.checked = toggle.checked; });
  for (const b of boxes()) b.addEventListener("change", sync);
  sync();
}

const start = document.querySelector(".session-form input[name=starts_at]");
const end = document.querySelector(".session-form input[name=ends_at]");
if (start && end && start.type === "datetime-local") {
  let previous = start.value;
  start.addEventListener("change", () => {
    const before = Date.parse(previous);
    const after = Date.parse(start.value);
    const finish = Date.parse(end.value);
    if (!Number.isNaN(before) && !Number.isNaN(after) && !Number.isNaN(finish)) {
      const moved = new Date(finish + (after - before));
      const pad = (n) => String(n).padStart(2, "0");
      end.value = `${moved.getFullYear()}-${pad(moved.getMonth() + 1)}-${pad(moved.getDate())}` +
        `T${pad(moved.getHours())}:${pad(moved.getMinutes())}`;
    }
    previous = start.value;
  });
}

for (const field of document.querySelectorAll("[data-select-on-focus]")) {
  field.addEventListener("focus", () => field.select());
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.value || source.textContent);
      button.textContent = button.dataset.copied || button.textContent;
    } catch {
      source.focus();
      source.select?.();
    }
  });
}
