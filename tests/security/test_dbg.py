import re
from tests.security.test_permissions import send, TABLE
def test_dbg(frozen):
    r = next(r for r in TABLE if r.id == "POST /quizzes/bank/{question}/edit")
    with frozen.isolated():
        resp, path = send(frozen, r, "org")
        body = resp.get_data(as_text=True)
        print(re.findall(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>([^<]*)', body))
