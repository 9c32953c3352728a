"""The one XLSX cell writer (reports, quiz results): text never becomes a formula.

A text cell starting with =, +, -, @, tab or CR is stored as text with Excel's quote prefix
(CSV exports prefix it with a single quote: `safe_text`). Dates are written in local time;
a missing figure is "–" in rate columns and empty elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trainer.i18n import to_local

DASH = "–"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INT, PCT, DEC1, TEXT, DATE, WHEN, NUMBER = "int", "pct", "dec1", "text", "date", "when", "number"
FORMATS = {INT: "#,##0", PCT: "0.0%", DEC1: "0.0", DATE: "dd/mm/yyyy"}


def safe_text(value: str) -> str:
    """A CSV cell that no spreadsheet will run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def kind_of(value: Any) -> str:
    """TEXT for text, NUMBER (no format) for anything else."""
    return TEXT if isinstance(value, str) else NUMBER


def put(ws: Any, row: int, col: int, value: Any, kind: str = TEXT) -> Any:
    """Write one cell; text never becomes a formula, missing figures become "–"."""
    from openpyxl.styles import Alignment

    cell = ws.cell(row=row, column=col)
    if value is None and kind in (PCT, DEC1):
        cell.value = DASH
        cell.alignment = Alignment(horizontal="right")
        return cell
    if value is None:
        return cell
    if isinstance(value, datetime):
        cell.value = to_local(value).replace(tzinfo=None)
        cell.number_format = "dd/mm/yyyy hh:mm" if kind != DATE else FORMATS[DATE]
        return cell
    if isinstance(value, str) or kind == TEXT:
        text = str(value)
        cell.value = text
        if text.startswith(FORMULA_START):
            cell.data_type = "s"  # text, never a formula
            cell.quotePrefix = True
        return cell
    cell.value = value / 100.0 if kind == PCT else value
    if kind in FORMATS:
        cell.number_format = FORMATS[kind]
    return cell


