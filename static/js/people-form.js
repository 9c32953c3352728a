// Participant form: the full name fills in the name parts (family, middle, given) and the
// parts, when corrected, rebuild the full name; the unit suggestions follow the chosen site.
const form = document.querySelector("[data-people-form]");

function words(text) {
  return text.normalize("NFC").trim().split(/\s+/).filter(Boolean);
}

if (form) {
  const full = form.querySelector("[data-full-name]");
  const family = form.querySelector("#f-family_name");
  const middle = form.querySelector("#f-middle_name");
  const given = form.querySelector("#f-given_name");
  const site = form.querySelector("[data-site-select]");
  const unit = form.querySelector("[data-unit-input]");

  if (full && family && middle && given) {
    full.addEventListener("input", () => {
      const w = words(full.value);
      if (w.length === 0) {
        family.value = middle.value = given.value = "";
      } else if (w.length === 1) {
        family.value = "";
        middle.value = "";
        given.value = w[0];
      } else {
        family.value = w[0];
        middle.value = w.slice(1, -1).join(" ");
        given.value = w[w.length - 1];
      }
    });
    for (const part of [family, middle, given]) {
      part.addEventListener("input", () => {
        full.value = [family.value, middle.value, given.value]
          .map((v) => words(v).join(" "))
          .filter(Boolean)
          .join(" ");
      });
    }
  }

  if (site && unit) {
    site.addEventListener("change", () => {
      unit.setAttribute("list", `units-${site.value}`);
    });
  }
}
