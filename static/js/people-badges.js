// Badge sheet: the Print button opens the browser's print dialog (A4, see people.css).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
