"""Pages: the participant list (Vietnamese order, accent-insensitive search), the QR code."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from trainer.apiutil import page_of
from trainer.people import services
from trainer.sites.services import all_sites

bp = Blueprint("people", __name__, url_prefix="/participants")

PER_PAGE = 100


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.get("")
@login_required
def index() -> Any:
    q = request.args.get("q", "")[:200]
    site_id = _int_arg("site_id")
    page = max(1, _int_arg("page") or 1)
    stmt = services.search(current_user, q=q, site_id=site_id)
    result = page_of(stmt, page, PER_PAGE)
    visible = [s for s in all_sites() if current_user.is_staff or s.id in current_user.site_ids]

    def args(**kw: Any) -> str:
        base = {"q": q, "site_id": site_id or "", "page": page}
        base.update(kw)
        return urlencode({k: v for k, v in base.items() if v not in ("", None)})

    return render_template("people/index.html", result=result, q=q, site_id=site_id,
                           sites=visible, page=page, per_page=PER_PAGE, args=args,
                           sites_by_id={s.id: s for s in visible})


@bp.get("/<int:participant_id>/qr.svg")
@login_required
def qr(participant_id: int) -> Response:
    participant = services.get(current_user, participant_id)
    svg = segno.make(participant.code, error="m").svg_inline(scale=4, border=2)
    return Response(svg, mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})
