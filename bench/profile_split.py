"""Where a check-in's time goes, from a py-spy profile of the server under wrk:

    py-spy record -p <trainer serve pid> -d 10 -r 250 -f raw -o profile.txt
    .venv/bin/python -m bench.profile_split profile.txt [requests served meanwhile]

Each sample (one stack) goes to the first category that matches it:
SQL (in the database driver: execute, commit, BEGIN), SQLAlchemy (Core and ORM, in Python),
then, by what the stack is inside of: audit entry, live push, auth (bearer token, current
user, language), parsing and validation (webargs, marshmallow load), answer (marshmallow dump,
JSON), check-in rules (trainer.checkin), and the rest: HTTP and framework (gevent's pywsgi,
werkzeug, Flask). With the number of requests, the shares are also given in ms per request.
"""

from __future__ import annotations

import sys
from collections import Counter

CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("SQL (driver)", ("do_execute ", "do_commit ", "_sqlite_begin ", "do_rollback ",
                      "(psycopg/", "(sqlite3/")),
    ("SQLAlchemy Core/ORM", ("(sqlalchemy/",)),
    ("audit entry", ("(trainer/audit/",)),
    ("live push", ("(trainer/checkin/push.py", "(trainer/live.py", "(socketio/base_manager",
                   "(socketio/pubsub_manager", "(socketio/redis_manager", "send_packet ")),
    ("auth (token, user, language)", ("user_for_token ", "(flask_login/", "select_locale ",
                                      "load_user_from_request ")),
    ("parsing and validation", ("Parser.parse ", "Schema.load ", "Schema._do_load ")),
    ("answer (dump, JSON)", ("Schema.dump ", "(json/", "jsonify ", "Response.__init__ ")),
    ("check-in rules", ("(trainer/checkin/", "(trainer/validation", "(trainer/people/")),
]
OTHER = "HTTP and framework (pywsgi, werkzeug, Flask)"


def category(stack: str) -> str:
    for name, needles in CATEGORIES:
        if any(n in stack for n in needles):
            return name
    return OTHER


def main() -> None:
    path = sys.argv[1]
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    seconds_per_sample = float(sys.argv[3]) if len(sys.argv) > 3 else 1 / 250
    counts: Counter[str] = Counter()
    for line in open(path, encoding="utf-8"):  # noqa: SIM115
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if "Hub.run" in stack and stack.count(";") < 3:
            continue  # the event loop waiting
        counts[category(stack)] += int(n)
    total = sum(counts.values())
    print(f"{'category':<46} {'share':>6} {'ms/request':>11}")
    for name in [c for c, _ in CATEGORIES] + [OTHER]:
        share = counts[name] / total if total else 0
        per = counts[name] * seconds_per_sample * 1000 / requests if requests else float("nan")
        print(f"{name:<46} {share:>6.1%} {per:>11.3f}")


if __name__ == "__main__":
    main()
