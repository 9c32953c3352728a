"""`PATCH` with nothing to change, and whole numbers sent with a fraction: both used to answer
200 (the empty change did nothing, `site_id: 1.5` was read as 1); both are 422 now."""

from __future__ import annotations

from typing import Any

from trainer.extensions import db
from trainer.sites.models import Site


def test_an_empty_patch_is_422(api_as: Any, make_user: Any, make_site: Any) -> None:
    api = api_as(make_user("organiser"))
    site = make_site(name="Huyện Cẩm Khê")
    for kwargs in ({"json": {}}, {}, {"data": "", "content_type": "application/json"}):
        response = api.patch(f"/api/v1/sites/{site.id}", **kwargs)
        assert response.status_code == 422, kwargs
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"]
    assert api.patch(f"/api/v1/sites/{site.id}", json={"name": "Huyện Cẩm Khê mới"}
                     ).status_code == 200


def test_a_fraction_where_a_whole_number_is_expected_is_422(api_as: Any, make_user: Any,
                                                             make_site: Any) -> None:
    api = api_as(make_user("organiser"))
    first = make_site()
    make_site()
    body = {"full_name": "Nguyễn Thị Hà", "sex": "female", "site_id": first.id + 0.5}
    response = api.post("/api/v1/participants", json=body)
    assert response.status_code == 422
    assert "site_id" in response.get_json()["errors"]
    # a whole number written with .0 is the number itself
    ok = api.post("/api/v1/participants", json={**body, "site_id": float(first.id)})
    assert ok.status_code == 201 and ok.get_json()["site_id"] == first.id
    # and in lists
    sessions = api.post("/api/v1/users", json={"username": "dieu_phoi", "password": "x" * 12,
                                               "role": "coordinator", "site_ids": [1.5]})
    assert sessions.status_code in (403, 422)
    assert db.session.get(Site, first.id) is not None
