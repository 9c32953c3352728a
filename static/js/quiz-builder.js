// Quiz builder: filter the bank's questions by topic and text (accents ignored) without
// losing the ticks, and count what is picked. The form works without this script.

const list = document.getElementById("qz-pick-list");
const topic = document.getElementById("qz-pick-topic");
const search = document.getElementById("qz-pick-search");
const only = document.getElementById("qz-pick-only");
const count = document.getElementById("qz-picked-count");

function fold(s) {
  return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[đĐ]/g, "d").toLowerCase().replace(/\s+/g, " ").trim();
}

const rows = Array.prototype.slice.call(list.querySelectorAll("li[data-topic]")).map((li) => ({
  li: li, topic: li.getAttribute("data-topic"), text: fold(li.getAttribute("data-text")),
  box: li.querySelector("input[type=checkbox]"),
}));

function apply() {
  const t = topic.value;
  const words = fold(search.value).split(" ").filter(Boolean);
  let picked = 0;
  rows.forEach((r) => {
    if (r.box.checked) picked++;
    const visible = (!t || r.topic === t) && words.every((w) => r.text.indexOf(w) !== -1) &&
      (!only.checked || r.box.checked);
    r.li.hidden = !visible;
  });
  count.textContent = String(picked);
}

topic.addEventListener("change", apply);
search.addEventListener("input", apply);
only.addEventListener("change", apply);
list.addEventListener("change", apply);
apply();
