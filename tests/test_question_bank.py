"""Structural and content-rule checks for the quiz question bank.

The bank lives at trainer/quizzes/bank.json and holds Vietnamese questions for
the two training topics (centre management, gender equality).  These tests
only use the standard library (json, unicodedata) plus pytest.
"""

import datetime
import json
import pathlib
import re
import unicodedata

import pytest

BANK_PATH = pathlib.Path(__file__).parents[1] / "trainer/quizzes/bank.json"

EXPECTED_TOPICS = [
    {
        "key": "management",
        "name": "Quản lý, điều hành Trung tâm học tập cộng đồng",
        "name_en": "Managing a community learning centre",
    },
    {
        "key": "gender",
        "name": "Giới và bình đẳng giới",
        "name_en": "Gender and gender equality",
    },
]
TOPIC_KEYS = {t["key"] for t in EXPECTED_TOPICS}
KINDS = {"single", "multiple", "true_false"}
QUESTION_KEYS = {"topic", "kind", "text", "points", "options", "explanation", "source",
                 "valid_as_of"}
SOURCE_KEYS = {"article", "document"}
LAW = "Luật Bình đẳng giới số 73/2006/QH11"
#: Article 5 of the Law on Gender Equality 2006, as written (clauses 1-6).
ARTICLE_5 = {
    1: "Giới chỉ đặc điểm, vị trí, vai trò của nam và nữ trong tất cả các mối quan hệ xã hội",
    2: "Giới tính chỉ các đặc điểm sinh học của nam, nữ",
    3: "nam, nữ có vị trí, vai trò ngang nhau, được tạo điều kiện và cơ hội phát huy năng lực "
       "của mình cho sự phát triển của cộng đồng, của gia đình và thụ hưởng như nhau về thành "
       "quả của sự phát triển đó",
    4: "nhận thức, thái độ và đánh giá thiên lệch, tiêu cực về đặc điểm, vị trí, vai trò và "
       "năng lực của nam hoặc nữ",
    5: "việc hạn chế, loại trừ, không công nhận hoặc không coi trọng vai trò, vị trí của nam và "
       "nữ, gây bất bình đẳng giữa nam và nữ trong các lĩnh vực của đời sống xã hội và gia đình",
    6: "được thực hiện trong một thời gian nhất định và chấm dứt khi mục đích bình đẳng giới đã "
       "đạt được",
}
OPTION_KEYS = {"text", "correct"}
TRUE_FALSE_TEXTS = ["Đúng", "Sai"]

MIN_QUESTIONS_PER_TOPIC = 25
MIN_MULTIPLE_PER_TOPIC = 6
MIN_TRUE_FALSE_PER_TOPIC = 6
MIN_OPTIONS = 2
MAX_OPTIONS = 5


def _raw_text():
    return BANK_PATH.read_bytes().decode("utf-8")  # raises if not UTF-8


def _load():
    return json.loads(_raw_text())


BANK = _load() if BANK_PATH.is_file() else {"topics": [], "questions": []}
QUESTIONS = BANK.get("questions", [])


def _qid(index):
    q = QUESTIONS[index]
    return f"q{index}-{q.get('topic')}-{q.get('kind')}"


QUESTION_PARAMS = [
    pytest.param(i, id=_qid(i)) for i in range(len(QUESTIONS))
]
TRUE_FALSE_PARAMS = [
    pytest.param(i, id=_qid(i))
    for i, q in enumerate(QUESTIONS)
    if isinstance(q, dict) and q.get("kind") == "true_false"
]


def _all_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _all_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_strings(item)


def _norm(text):
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


# --------------------------------------------------------------------------
# File-level checks
# --------------------------------------------------------------------------


def test_file_exists():
    assert BANK_PATH.is_file(), f"missing {BANK_PATH}"


def test_file_is_utf8_without_bom_and_nfc():
    raw = BANK_PATH.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "file must not start with a BOM"
    text = raw.decode("utf-8")
    assert unicodedata.is_normalized("NFC", text), "file text is not NFC"


def test_every_string_value_is_nfc():
    bad = [s for s in _all_strings(BANK) if not unicodedata.is_normalized("NFC", s)]
    assert not bad, f"non-NFC strings: {bad[:5]}"


def test_top_level_shape():
    assert isinstance(BANK, dict)
    assert set(BANK) == {"topics", "questions"}
    assert isinstance(BANK["topics"], list)
    assert isinstance(BANK["questions"], list)


def test_topics_exact():
    assert BANK["topics"] == EXPECTED_TOPICS


# --------------------------------------------------------------------------
# Per-question checks
# --------------------------------------------------------------------------


@pytest.mark.parametrize("index", QUESTION_PARAMS)
def test_question_fields(index):
    q = QUESTIONS[index]
    assert isinstance(q, dict)
    assert set(q) == QUESTION_KEYS
    assert q["topic"] in TOPIC_KEYS
    assert q["kind"] in KINDS
    assert isinstance(q["points"], int) and not isinstance(q["points"], bool)
    assert q["points"] == 1
    for field in ("text", "explanation"):
        value = q[field]
        assert isinstance(value, str), field
        assert value.strip(), f"empty {field}"
        assert value == value.strip(), f"{field} has surrounding whitespace"


@pytest.mark.parametrize("index", QUESTION_PARAMS)
def test_question_options(index):
    q = QUESTIONS[index]
    options = q["options"]
    assert isinstance(options, list)
    assert MIN_OPTIONS <= len(options) <= MAX_OPTIONS
    for opt in options:
        assert isinstance(opt, dict)
        assert set(opt) == OPTION_KEYS
        assert isinstance(opt["text"], str) and opt["text"].strip()
        assert opt["text"] == opt["text"].strip()
        assert isinstance(opt["correct"], bool)
    texts = [_norm(o["text"]) for o in options]
    assert len(texts) == len(set(texts)), "duplicate option texts"


@pytest.mark.parametrize("index", QUESTION_PARAMS)
def test_correct_counts_per_kind(index):
    q = QUESTIONS[index]
    n_correct = sum(1 for o in q["options"] if o["correct"] is True)
    if q["kind"] == "single":
        assert n_correct == 1, "single must have exactly one correct option"
    elif q["kind"] == "multiple":
        assert n_correct >= 2, "multiple must have at least two correct options"
    else:  # true_false
        assert n_correct == 1, "true_false must have exactly one correct option"


@pytest.mark.parametrize("index", TRUE_FALSE_PARAMS)
def test_true_false_options(index):
    q = QUESTIONS[index]
    texts = [o["text"] for o in q["options"]]
    assert len(texts) == 2
    assert sorted(texts) == sorted(TRUE_FALSE_TEXTS)


# --------------------------------------------------------------------------
# Bank-level checks
# --------------------------------------------------------------------------


def test_question_texts_unique():
    seen = {}
    dupes = []
    for i, q in enumerate(QUESTIONS):
        key = _norm(q["text"])
        if key in seen:
            dupes.append((seen[key], i, q["text"]))
        seen[key] = i
    assert not dupes, f"duplicate question texts: {dupes}"


@pytest.mark.parametrize("topic", sorted(TOPIC_KEYS))
def test_counts_per_topic(topic):
    qs = [q for q in QUESTIONS if q["topic"] == topic]
    kinds = {kind: 0 for kind in KINDS}
    for q in qs:
        kinds[q["kind"]] += 1
    assert len(qs) >= MIN_QUESTIONS_PER_TOPIC, f"{topic}: {len(qs)} questions"
    assert kinds["multiple"] >= MIN_MULTIPLE_PER_TOPIC, f"{topic}: {kinds}"
    assert kinds["true_false"] >= MIN_TRUE_FALSE_PER_TOPIC, f"{topic}: {kinds}"
    assert kinds["single"] >= 1, f"{topic}: {kinds}"


@pytest.mark.parametrize("topic", sorted(TOPIC_KEYS))
def test_correct_position_varies(topic):
    positions = set()
    for q in QUESTIONS:
        if q["topic"] == topic and q["kind"] == "single":
            positions.add(next(i for i, o in enumerate(q["options"]) if o["correct"]))
    assert len(positions) >= 3, f"{topic}: correct option always at {positions}"
    tf_answers = {
        next(o["text"] for o in q["options"] if o["correct"])
        for q in QUESTIONS
        if q["topic"] == topic and q["kind"] == "true_false"
    }
    assert tf_answers == set(TRUE_FALSE_TEXTS), f"{topic}: true_false answers {tf_answers}"


# --------------------------------------------------------------------------
# Sources, legal wording, content rules
# --------------------------------------------------------------------------


@pytest.mark.parametrize("index", QUESTION_PARAMS)
def test_question_names_its_source_and_date(index):
    q = QUESTIONS[index]
    assert isinstance(q["source"], dict) and set(q["source"]) == SOURCE_KEYS
    for key in SOURCE_KEYS:
        value = q["source"][key]
        assert isinstance(value, str) and value.strip() == value and value, key
    assert len(q["source"]["article"]) <= 200 and len(q["source"]["document"]) <= 300
    checked = datetime.date.fromisoformat(q["valid_as_of"])
    assert datetime.date(2006, 11, 29) <= checked <= datetime.date.today()


def _stem(text):
    """A question's stem for duplicate detection: folded, without punctuation or the
    "(Chọn tất cả đáp án đúng)" hint."""
    text = _norm(text).replace("(chọn tất cả đáp án đúng)", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def test_no_duplicate_stems():
    stems = [_stem(q["text"]) for q in QUESTIONS]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    assert not dupes, dupes


def _law_questions(clause):
    article = f"Điều 5 khoản {clause}"
    return [q for q in QUESTIONS
            if q["source"]["article"].startswith(article) and LAW in q["source"]["document"]]


@pytest.mark.parametrize("clause", sorted(ARTICLE_5))
def test_article_5_definitions_are_quoted_as_written(clause):
    """Every question sourced to a clause of Article 5 carries the clause's own words in its
    right answer or its explanation (a training handout's additions are marked as such)."""
    questions = _law_questions(clause)
    assert questions, f"no question on Article 5 clause {clause}"
    wording = _norm(ARTICLE_5[clause])
    for q in questions:
        right = " ".join(_norm(o["text"]) for o in q["options"] if o["correct"])
        assert wording in right or wording in _norm(q["explanation"]), q["text"]
        if "học hỏi mà có" in q["explanation"]:
            assert "tài liệu tập huấn" in q["explanation"], q["text"]


def test_handout_additions_are_marked():
    for q in QUESTIONS:
        said = _norm(q["text"] + " " + q["explanation"])
        if "có thể thay đổi" in said and "giới" in said:
            assert "tài liệu tập huấn" in said, q["text"]


def test_at_most_two_province_trivia_and_no_rating_level_names():
    trivia = [q["text"] for q in QUESTIONS if "Phú Thọ" in q["text"]]
    assert len(trivia) <= 2, trivia
    levels = ("xuất sắc", "xếp loại tốt", "xếp loại khá", "xếp loại trung bình", "chưa đạt")
    for q in QUESTIONS:
        said = _norm(" ".join([q["text"], *[o["text"] for o in q["options"]]]))
        assert not any(level in said for level in levels), q["text"]


def test_applied_questions_cover_the_centres_work():
    """At least 20 questions on putting gender equality and the rules to work in a centre."""
    themes = ("Điều 14", "Điều 18", "Điều 19", "bạo lực gia đình", "Luật Giáo dục",
              "tài chính", "gia đình học tập", "Tổ chức chính quyền địa phương")
    applied = [q for q in QUESTIONS
               if any(t in q["source"]["article"] + q["source"]["document"] + q["text"]
                      for t in themes)
               or q["source"]["article"].endswith("(cách làm: tài liệu tập huấn)")]
    assert len(applied) >= 20, len(applied)
