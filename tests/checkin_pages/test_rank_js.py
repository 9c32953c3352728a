"""static/js/rank.js, the check-in page's name ranking, run in Node (skipped without it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node")

ROSTER = ["Nguyễn Thị Thu Ly", "Nguyễn Thị Thu", "Nguyễn Thị Thuý", "Trần Thu Nguyễn Thị",
          "Lê Nguyễn Thị Thu Hà", "Nguyễn Thị Thu", "Phạm Văn Đức"]


def run(script: str) -> object:
    module = (ROOT / "static" / "js" / "rank.js").as_uri()
    program = f'import * as rank from "{module}";\nconst out = {script};\n' \
              "process.stdout.write(JSON.stringify(out));"
    result = subprocess.run([NODE, "--input-type=module", "-e", program],  # noqa: S603
                            capture_output=True, text=True, timeout=30, check=True)
    return json.loads(result.stdout)


def ranked(query: str) -> list[str]:
    rows = json.dumps([{"full_name": n} for n in ROSTER], ensure_ascii=False)
    return run(f"rank.rankByName({rows}, {json.dumps(query)}).map((r) => r.full_name)")


def test_the_exact_full_name_comes_first_then_names_starting_with_it() -> None:
    assert ranked("nguyen thi thu") == [
        "Nguyễn Thị Thu", "Nguyễn Thị Thu",            # exact, in roster order
        "Nguyễn Thị Thu Ly", "Nguyễn Thị Thuý",        # starting with it
        "Trần Thu Nguyễn Thị", "Lê Nguyễn Thị Thu Hà",  # every word somewhere
    ]


def test_diacritics_and_case_do_not_matter() -> None:
    assert ranked("NGUYỄN thị THU")[:2] == ["Nguyễn Thị Thu", "Nguyễn Thị Thu"]
    assert ranked("duc") == ["Phạm Văn Đức"]
    assert ranked("xyz") == []


def test_names_that_several_people_share_are_found() -> None:
    rows = json.dumps([{"full_name": n} for n in ROSTER], ensure_ascii=False)
    assert run(f"[...rank.sharedNames({rows})]") == ["nguyen thi thu"]
