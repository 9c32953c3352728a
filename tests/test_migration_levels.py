"""Migration c15b00000001 on a database that holds data: nothing that points to a site, a
unit or a question is lost (a table copy on SQLite drops the old table, which cascades to
units and options and unlinks participants), and levels and officials' order are filled in
from the names; the downgrade keeps them too."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
from sqlalchemy import text

from trainer import create_app
from trainer.extensions import db

ROWS = [
    "INSERT INTO site (id, code, name, name_folded, kind, created_at) VALUES "
    "(1, 'CKH', 'Huyện Cẩm Khê', 'huyen cam khe', 'bridge', '2017-12-01 00:00:00'), "
    "(2, 'VTR', 'Thành phố Việt Trì', 'thanh pho viet tri', 'host', '2017-12-01 00:00:00')",
    "INSERT INTO unit (id, site_id, name, name_folded, sort_key, created_at) VALUES "
    "(1, 1, 'Thị trấn Sông Thao', 'thi tran song thao', 'x', '2017-12-01 00:00:00'), "
    "(2, 1, 'Xã Tuy Lộc', 'xa tuy loc', 'y', '2017-12-01 00:00:00')",
    "INSERT INTO participant (id, code, full_name, family_name, middle_name, given_name, "
    "name_folded, sort_key, sex, site_id, unit_id, created_at, updated_at) VALUES "
    "(1, 'AB12CD', 'Nguyễn Thị Hoa', 'Nguyễn', 'Thị', 'Hoa', 'nguyen thi hoa', 'k', 'female', "
    "1, 2, '2017-12-01 00:00:00', '2017-12-01 00:00:00')",
    "INSERT INTO question (id, kind, text, text_folded, points, retired, used, created_at, "
    "updated_at) VALUES (1, 'true_false', 'Giới tính là đặc điểm sinh học.', 'gioi tinh', 1, "
    "false, false, '2017-12-01 00:00:00', '2017-12-01 00:00:00')",
    "INSERT INTO question_option (id, question_id, text, correct, position) VALUES "
    "(1, 1, 'Đúng', true, 0), (2, 1, 'Sai', false, 1)",
]


def test_upgrade_keeps_units_and_options_and_fills_levels(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "migrations",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        try:
            flask_migrate.upgrade(revision="0572b486d052")
            with db.engine.begin() as conn:
                for statement in ROWS:
                    conn.execute(text(statement))
            flask_migrate.upgrade(revision="c15b00000001")
            with db.engine.connect() as conn:
                sites = conn.execute(text(
                    "SELECT name, level FROM site ORDER BY sort_key")).all()
                units = conn.execute(text("SELECT name, level FROM unit ORDER BY sort_key")).all()
                options = conn.execute(text("SELECT count(*) FROM question_option")).scalar()
                source = conn.execute(text("SELECT source_article FROM question")).scalar()
                unit_of = conn.execute(text("SELECT unit_id FROM participant")).scalar()
            assert sites == [("Thành phố Việt Trì", "district"), ("Huyện Cẩm Khê", "district")]
            assert units == [("Thị trấn Sông Thao", "town"), ("Xã Tuy Lộc", "commune")]
            assert options == 2 and source is None and unit_of == 2
            flask_migrate.downgrade(revision="0572b486d052")
            with db.engine.connect() as conn:
                kept = conn.execute(text(
                    "SELECT (SELECT count(*) FROM unit), (SELECT count(*) FROM question_option), "
                    "(SELECT unit_id FROM participant)")).one()
            assert tuple(kept) == (2, 2, 2)
        finally:
            db.session.remove()
            db.engine.dispose()
