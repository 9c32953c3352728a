"""One message, one meaning: a word that means two things on two screens gets a context each.

"Start" was the home page's title ("Trang chủ") and the quiz's start button, so the button read
"Trang chủ". Such words now come with a `pgettext` context everywhere they are used. These
checks extract the messages the way `make messages` does (babel.cfg) and fail when:
- a message that carries a context somewhere is also used without one (a new, second meaning
  of a word that had to be told apart once already);
- a word known to mean different things here is used without a context;
- a message with a context has no Vietnamese translation.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale, pgettext

ROOT = Path(__file__).resolve().parent.parent
VI_PO = ROOT / "trainer" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None,
            "lazy_pgettext": ((1, "c"), 2)}

# Words that mean two things in this product: every use names its meaning.
AMBIGUOUS = {
    "Start": {"home page", "quiz"},
    "Open": {"quiz status", "quiz action"},
    "Uploaded": {"upload date", "upload status"},
    "(and %(n)d more)": {"more errors", "more people"},
    "Live": {"session status", "live updates"},
    "Offline": {"site status", "network"},
    "pts": {"percentage points"},
    "Restore": {"check-in", "question"},
}

Uses = dict[str, dict[str | None, list[str]]]


def extract(root: Path, config: Path) -> Uses:
    """msgid -> context (None: none) -> where it is used."""
    with config.open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    uses: Uses = defaultdict(lambda: defaultdict(list))
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        uses[msgid][context].append(f"{filename}:{lineno}")
    return uses


def collisions(uses: Uses, ambiguous: dict[str, set[str]]) -> list[str]:
    found = []
    for msgid, by_context in sorted(uses.items()):
        contexts = set(by_context) - {None}
        if contexts and None in by_context:
            found.append(f"{msgid!r} is used with a context ({', '.join(sorted(contexts))}) "
                         f"and without one at {', '.join(by_context[None])}")
        elif msgid in ambiguous and None in by_context:
            found.append(f"{msgid!r} means several things here; give it a context at "
                         f"{', '.join(by_context[None])}")
    return found


@pytest.fixture(scope="module")
def uses() -> Uses:
    return extract(ROOT, ROOT / "babel.cfg")


def test_no_message_is_used_with_two_meanings(uses: Uses) -> None:
    assert collisions(uses, AMBIGUOUS) == []


def test_every_meaning_of_the_ambiguous_words_is_in_use(uses: Uses) -> None:
    unused = {msgid: contexts - set(uses.get(msgid, {}))
              for msgid, contexts in AMBIGUOUS.items()}
    assert {k: v for k, v in unused.items() if v} == {}


def test_every_message_with_a_context_has_a_vietnamese_translation(uses: Uses) -> None:
    with VI_PO.open("rb") as f:
        vi = read_po(f)
    missing = []
    for msgid, by_context in uses.items():
        for context in by_context:
            if context is None:
                continue
            entry = vi.get(msgid, context=context)
            if entry is None or not entry.string:
                missing.append((context, msgid))
    assert missing == []


@pytest.mark.parametrize("source, expected", [
    ('{{ _("Start") }} {{ pgettext("quiz", "Start") }}', 1),      # a new bare use
    ('{{ _("Open") }}', 1),                                        # a known two-meaning word
    ('{{ pgettext("a", "Save") }} {{ pgettext("b", "Save") }}', 0),
    ('{{ _("Save") }} {{ _("Save") }}', 0),
])
def test_the_check_catches_a_new_collision(tmp_path: Path, source: str, expected: int) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(source)
    (tmp_path / "babel.cfg").write_text("[jinja2: templates/**.html]\n")
    found = collisions(extract(tmp_path, tmp_path / "babel.cfg"), AMBIGUOUS)
    assert len(found) == expected, found


@pytest.mark.parametrize("context, msgid, vi", [
    ("quiz", "Start", "Bắt đầu làm bài"),
    ("home page", "Start", "Trang chủ"),
    ("quiz status", "Open", "Đang mở"),
    ("upload status", "Uploaded", "Đã tải lên"),
])
def test_each_meaning_reads_its_own_way_in_vietnamese(app: Any, context: str, msgid: str,
                                                      vi: str) -> None:
    with app.test_request_context(), force_locale("vi"):
        assert pgettext(context, msgid) == vi

