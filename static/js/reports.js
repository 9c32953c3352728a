// Report pages: the print button, and the quiz picker that reloads the report on change.
// No inline scripts (CSP script-src 'self').

for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}

for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form?.requestSubmit());
}
