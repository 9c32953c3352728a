// Accent-insensitive search text, the same way as trainer.text.fold on the server:
// NFD, combining marks dropped, đ/Đ (and the look-alike ð/Ð) -> d, lower-case, spaces collapsed.
const MARKS = /\p{Mn}/gu;
const CONTROLS = /[\p{Cc}\p{Cf}]/gu;

export function fold(text) {
  return String(text ?? "")
    .normalize("NFD")
    .replace(MARKS, "")
    .replace(CONTROLS, (ch) => (/\s/.test(ch) ? " " : ""))
    .replace(/[đð]/g, "d")
    .replace(/[ĐÐ]/g, "D")
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");
}

// What a person types or a scanner sends, reduced to the stored code form
// (trainer.people.services.normalise_code): upper case, letters and digits only.
export function normaliseCode(text) {
  return String(text ?? "")
    .normalize("NFC")
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]/gu, "");
}
