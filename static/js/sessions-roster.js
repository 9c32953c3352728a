// A site's roster page: while typing in "One person", suggest participants of this site
// (name with or without accents, or code) from /api/v1/participants.
const form = document.querySelector("form[data-participant-search]");
const input = form?.querySelector("input[name=code]");
const list = document.getElementById("participant-suggestions");

if (form && input && list) {
  const siteId = form.dataset.participantSearch;
  let timer = 0;
  let controller = null;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return;
    timer = window.setTimeout(async () => {
      controller?.abort();
      controller = new AbortController();
      const params = new URLSearchParams({ q, site_id: siteId, per_page: "20" });
      try {
        const response = await fetch(`/api/v1/participants?${params}`, {
          credentials: "same-origin", signal: controller.signal,
          headers: { Accept: "application/json" },
        });
        if (!response.ok) return;
        const body = await response.json();
        list.replaceChildren(...body.items.map((p) => {
          const option = document.createElement("option");
          option.value = p.code;
          option.label = `${p.full_name}${p.unit ? ` · ${p.unit}` : ""}`;
          option.textContent = option.label;
          return option;
        }));
      } catch {
        // offline or aborted: the code can still be typed by hand
      }
    }, 250);
  });
}
