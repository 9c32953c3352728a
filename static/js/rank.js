// Which roster rows a typed name finds, best first: the exact full name, then full names that
// start with what was typed, then names whose words start with the typed words (in any order),
// then names that contain it. Ties keep the roster's order (the Vietnamese name order).
// Rows may carry `_fold` (the folded full name) and `_words`; they are computed otherwise.

import { fold } from "./fold.js";

export const EXACT = 0;
export const PREFIX = 1;
export const WORDS = 2;
export const CONTAINS = 3;

export function nameRank(row, query) {
  const name = row._fold ?? fold(row.full_name);
  if (!query) return null;
  if (name === query) return EXACT;
  if (name.startsWith(query)) return PREFIX;
  const words = row._words ?? name.split(" ");
  const terms = query.split(" ");
  if (terms.every((term) => words.some((w) => w.startsWith(term)))) return WORDS;
  if (name.includes(query)) return CONTAINS;
  return null;
}

export function rankByName(rows, typed, limit = 30) {
  const query = fold(typed);
  if (!query) return [];
  const found = [];
  rows.forEach((row, index) => {
    const rank = nameRank(row, query);
    if (rank !== null) found.push({ rank, index, row });
  });
  found.sort((a, b) => a.rank - b.rank || a.index - b.index);
  return found.slice(0, limit).map((f) => f.row);
}

// The folded full names that more than one row carries: such people are told apart by their
// birth year and unit.
export function sharedNames(rows) {
  const seen = new Set();
  const shared = new Set();
  for (const row of rows) {
    const name = row._fold ?? fold(row.full_name);
    if (seen.has(name)) shared.add(name);
    seen.add(name);
  }
  return shared;
}
