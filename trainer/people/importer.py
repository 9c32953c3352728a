"""Roster import: a CSV or XLSX list of participants -> created and updated participants.

Reading: XLSX (checked by content: a zip holding a workbook) through openpyxl in read-only
mode; anything else must be text: UTF-8 (with or without BOM), UTF-16 with BOM, or
Windows-1258 as Excel in Vietnam saves it, with ",", ";" or tab between columns.

Columns are found by header, in English or Vietnamese, ignoring case, accents and
punctuation; the header row may sit below a title (the first of the first 20 rows that
names the full name, or the given name, and one more known column).

Rows: a row whose code names a stored participant updates that participant; so does a row
with the same name (ignoring accents), site and birth year or phone as a stored one;
anything else creates a participant. Blank cells never erase stored values. Each row is
checked completely before anything is written, and written by one statement (inside a
savepoint when a batch has to be retried row by row), so a row is saved whole or not at
all; bad rows are reported by spreadsheet row number and never stop the good ones.

Speed: everything a row needs (sites, units, codes, stored people of the sites in the file)
is loaded once into dictionaries, and rows are written with executemany in batches.
Check-ins must not wait behind an import, and SQLite holds its write lock for a whole
transaction (this app begins every transaction IMMEDIATE): no transaction is open while the
file is parsed or rows are checked, and reading and writing go in short slices, each its
own transaction, with pauses between (see SLICE_S)."""

from trainer.people.import_files import (  # noqa: F401
    TEMPLATE_EXAMPLE,
    discard_upload,
    load_upload,
    purge_stale_uploads,
    stash_upload,
    template_csv,
    template_xlsx,
)
from trainer.people.import_lookups import (  # noqa: F401
    Lookups,
    SiteInfo,
    Slicer,
)
from trainer.people.import_reading import (  # noqa: F401
    ALIASES,
    BATCH,
    CODE_CHUNK,
    DEFAULT_MAX_ROWS,
    FETCH_CHUNK,
    FIELDS,
    HEADERS,
    LABELS,
    MAX_BLANK_RUN,
    MAX_HEADER_SCAN,
    PAUSE_S,
    PREVIEW_ROWS,
    REPORT_ROWS,
    SITE_PREFIXES,
    SLICE_S,
    STASH_MAX_AGE_S,
    TEMPLATE_HEADERS,
    Header,
    decode_text,
    file_kind,
    find_header,
    header_key,
    max_rows,
    parse_csv,
    parse_xlsx,
    read_rows,
    read_upload,
    size_mb,
)
from trainer.people.import_rows import (  # noqa: F401
    NAME_PARTS,
    PERSON_FIELDS,
    Actor,
    Report,
    RowError,
    import_roster,
)

__all__ = [
    "ALIASES",
    "Actor",
    "BATCH",
    "CODE_CHUNK",
    "DEFAULT_MAX_ROWS",
    "FETCH_CHUNK",
    "FIELDS",
    "HEADERS",
    "Header",
    "LABELS",
    "Lookups",
    "MAX_BLANK_RUN",
    "MAX_HEADER_SCAN",
    "NAME_PARTS",
    "PAUSE_S",
    "PERSON_FIELDS",
    "PREVIEW_ROWS",
    "REPORT_ROWS",
    "Report",
    "RowError",
    "SITE_PREFIXES",
    "SLICE_S",
    "STASH_MAX_AGE_S",
    "SiteInfo",
    "Slicer",
    "TEMPLATE_EXAMPLE",
    "TEMPLATE_HEADERS",
    "decode_text",
    "discard_upload",
    "file_kind",
    "find_header",
    "header_key",
    "import_roster",
    "load_upload",
    "max_rows",
    "parse_csv",
    "parse_xlsx",
    "purge_stale_uploads",
    "read_rows",
    "read_upload",
    "size_mb",
    "stash_upload",
    "template_csv",
    "template_xlsx",
]
