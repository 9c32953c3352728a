"""A small province for check-in tests: a host, two bridge points taking part, one that does
not, an organiser, a coordinator per site, registered participants, a live session."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture
def world(app: Any, make_site: Any, make_user: Any, make_participant: Any, make_session: Any,
          register: Any) -> SimpleNamespace:
    host = make_site(code="VT", name="Thành phố Việt Trì", kind="host")
    a = make_site(code="CK", name="Huyện Cẩm Khê")
    b = make_site(code="DH", name="Huyện Đoan Hùng")
    outside = make_site(code="YL", name="Huyện Yên Lập")
    organiser = make_user("organiser", username="organiser")
    admin = make_user("admin", username="admin")
    coord_a = make_user("coordinator", sites=[a], username="coord_a")
    coord_b = make_user("coordinator", sites=[b], username="coord_b")
    coord_out = make_user("coordinator", sites=[outside], username="coord_out")
    ha = make_participant(a, "Nguyễn Thị Hà", "female", unit="Xã Sai Nga")
    binh = make_participant(a, "Trần Văn Bình", "male")
    minh = make_participant(a, "Lê Minh", "unspecified")
    lan = make_participant(b, "Phạm Thị Lan", "female")
    nam = make_participant(b, "Đỗ Văn Nam", "male")
    stranger = make_participant(a, "Hoàng Thị Xuân", "female")  # not registered
    session = make_session([host, a, b])
    register(session, [ha, binh, minh, lan, nam])
    return SimpleNamespace(host=host, a=a, b=b, outside=outside, organiser=organiser,
                           admin=admin, coord_a=coord_a, coord_b=coord_b, coord_out=coord_out,
                           ha=ha, binh=binh, minh=minh, lan=lan, nam=nam, stranger=stranger,
                           session=session)
