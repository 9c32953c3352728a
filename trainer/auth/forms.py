from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=256)])
    role = SelectField(_l("Role"), choices=[SelectChoice("organiser", _l("Organiser")),
                                            SelectChoice("coordinator", _l("Coordinator")),
                                            SelectChoice("admin", _l("Administrator"))])
    site_ids = SelectMultipleField(_l("Sites (coordinators)"), coerce=int, choices=[])
    active = BooleanField(_l("Active"), default=True)
