"""One set of input rules for the API schemas, the forms and the services.

- `text()` is the rule for every free text: blank is "not given", NFC, whitespace collapsed
  (per line for multiline text), control characters refused, length bounded.
- Services raise `Invalid` with field errors (`field_text`, or `Errors` to collect them over
  a whole input); views show them again on the form with `form_errors`.
- marshmallow fields say their errors in the user's language through marshmallow's own
  `error_messages` and validators (`localise`, called for every field of a StrictSchema).
- The OpenAPI document states the same rules: `text_pattern()` is the JSON Schema pattern of
  what `text()` accepts, made from the same character test (`trainer.text.has_control_chars`).
"""

from __future__ import annotations

import functools
from typing import Any

from flask_babel import gettext, pgettext
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from trainer.errors import Conflict, DomainError, Invalid
from trainer.text import has_control_chars, nfc


class Rejected(ValueError):
    """A value that breaks a rule; `message` says why, in the user's language."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def text(value: Any, limit: int, *, required: bool = False,
         multiline: bool = False) -> str | None:
    """The cleaned text, or None when nothing was given (blank). Numbers are read as their
    digits (a spreadsheet cell); anything else that is not text is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Rejected(gettext("This field is required."))
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise Rejected(gettext("Not a valid text."))
    if has_control_chars(value):
        raise Rejected(gettext("Control characters are not allowed."))
    if multiline:
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        out = "\n".join(nfc(line) for line in lines).strip("\n")
    else:
        out = nfc(value)
    if len(out) > limit:
        raise Rejected(gettext("At most %(n)s characters.", n=limit))
    return out or None


def field_text(name: str, value: Any, limit: int, *, required: bool = False,
               multiline: bool = False) -> str | None:
    """`text()` for a service: Invalid with the field's error."""
    try:
        return text(value, limit, required=required, multiline=multiline)
    except Rejected as exc:
        raise Invalid.field(name, exc.message) from None


class Errors:
    """Field errors collected over a whole input, raised together by `check()`."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def take(self, exc: Invalid) -> None:
        for name, messages in (exc.errors or {"input": [exc.detail]}).items():
            for m in messages:
                self.add(name, m)

    def text(self, name: str, value: Any, limit: int, *, required: bool = False,
             multiline: bool = False) -> str | None:
        """`text()`, its error recorded under `name` (then None)."""
        try:
            return text(value, limit, required=required, multiline=multiline)
        except Rejected as exc:
            self.add(name, exc.message)
            return None

    def check(self, *, conflict: bool = False) -> None:
        if not self.errors:
            return
        messages = [m for ms in self.errors.values() for m in ms]
        detail = " ".join(messages[:5])
        if len(messages) > 5:
            detail += " " + pgettext("more errors", "(and %(n)d more)", n=len(messages) - 5)
        cls = Conflict if conflict else Invalid
        raise cls(detail, errors=self.errors)


def form_errors(exc: DomainError) -> dict[str, list[str]]:
    """A refusal's errors for a form to show again: the field errors, and under "_" the
    message when it says more than they do. Whatever the request changed is undone."""
    from trainer.extensions import db

    db.session.rollback()
    errors = {k: [str(m) for m in v] for k, v in (exc.errors or {}).items()}
    detail = str(exc.detail) if exc.detail is not None else ""
    messages = [m for ms in errors.values() for m in ms]
    if detail and detail not in messages and not detail.startswith(" ".join(messages[:5])
                                                                   or "\0"):
        errors = {"_": [detail], **errors}
    return errors


# --------------------------------------------------------------------------- OpenAPI

#: The patterns name the characters of the Basic Multilingual Plane only: a lone surrogate
#: (U+D800..U+DFFF) has no place in an ECMA-262 pattern as validators run them (Unicode mode),
#: and a character beyond U+FFFF in a class is not read alike by every tool (schemathesis
#: writes it back as a Python escape). The few format characters there (U+110BD, U+110CD,
#: U+13430..U+13438, U+1BCA0..U+1BCA3, U+1D173..U+1D17A, U+E0001, U+E0020..U+E007F in
#: Unicode 14) are refused all the same; TEXT_RULES says so.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _class(codes: list[int]) -> str:
    """The inside of a character class naming `codes` (sorted, all below U+D800 or
    U+E000..U+FFFF), as ranges of four-hex-digit \\u escapes such as \\u00e9 (read alike by ECMA-262 and Python)."""
    runs: list[list[int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs)


@functools.cache
def _refused_and_blank() -> tuple[str, str]:
    """(the characters `text()` refuses, the characters it reads as blank), as classes."""
    every = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x10000)))
    refused: list[int] = []
    for i in range(0, len(every), 1024):
        block = every[i:i + 1024]
        if has_control_chars(block):
            refused += [ord(ch) for ch in block if has_control_chars(ch)]
    # blank: what str.strip() and nfc() take away
    blank = [ord(ch) for ch in every if ch.isspace() and not has_control_chars(ch)]
    return _class(refused), _class(blank)


def text_pattern(*, blank: bool = False) -> str:
    """The JSON Schema pattern of the texts `text()` accepts: no control or format character
    (tab and line breaks aside), and, unless `blank`, at least one that is not a space."""
    refused, spaces = _refused_and_blank()
    if blank:
        return f"^[^{refused}]*$"
    return f"^[{spaces}]*[^{refused}{spaces}][^{refused}]*$"


def web_address_pattern(*, named_host: bool = False, blank: bool = False) -> str:
    """The JSON Schema pattern of a web address as the services read one (a text as above, no
    space inside, http or https, a host): a material's link (`materials.library.check_url`),
    or with `named_host` a conference link, whose host is a name with a dot
    (`sessions.rules.clean_conference_url`; the pattern names ASCII host names only).
    `blank`: an empty or blank text too (no address)."""
    refused, spaces = _refused_and_blank()
    other = f"{refused}{spaces}"
    if named_host:
        host = "[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+)+\\.?(?::[0-9]{1,5})?"
        rest = f"(?:[/?#][^{other}]*)?"
    else:
        host, rest = f"[^/?#@\\[\\]{other}]+", f"(?:[/?#][^{other}]*)?"
    address = f"[Hh][Tt][Tt][Pp][Ss]?://{host}{rest}[{spaces}]*"
    return f"^[{spaces}]*(?:{address})?$" if blank else f"^[{spaces}]*{address}$"


TEXT_RULES = ("Texts: no control or format characters (tab and line breaks aside; also "
              "none beyond U+FFFF, such as the tag characters U+E0001..U+E007F, which the "
              "patterns do not list). Stored NFC-normalised with runs of spaces collapsed; "
              "the length is counted after that.")


# --------------------------------------------------------------------------- marshmallow

SCHEMA_MESSAGES: dict[str, Any] = {
    "unknown": _l("Unknown field."),
    "type": _l("Wrong type of value."),
}

_COMMON: dict[str, Any] = {
    "required": _l("This field is required."),
    "null": _l("This field may not be empty."),
    "validator_failed": _l("Invalid value."),
    "too_large": _l("This number is out of range."),
    "type": _l("Wrong type of value."),
    "invalid_uuid": _l("Not a valid UUID."),
}

# (field class, its "invalid" message), most specific first
_INVALID: tuple[tuple[type[fields.Field], Any], ...] = (
    (fields.Url, _l("Not a valid web address.")),
    (fields.String, _l("Not a valid text.")),
    (fields.Integer, _l("Not a valid whole number.")),
    (fields.Number, _l("Not a valid number.")),
    (fields.Boolean, _l("Not a valid yes/no value.")),
    (fields.Date, _l("Not a valid date.")),
    (fields.Time, _l("Not a valid time.")),
    (fields.DateTime, _l("Not a valid date and time.")),
    (fields.List, _l("Not a valid list.")),
    (fields.Mapping, _l("Not a valid object.")),
)


class Length(validate.Length):
    """marshmallow's Length, saying its refusal in the user's language."""

    def __init__(self, *args: Any, items: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items

    def __call__(self, value: Any) -> Any:
        n = len(value)
        if self.equal is None and self.min is not None and n < self.min:
            raise ValidationError(gettext("This field may not be empty.") if self.min == 1
                                  else gettext("At least %(n)s characters.", n=self.min))
        if self.equal is None and self.max is not None and n > self.max:
            raise ValidationError(gettext("At most %(n)s items.", n=self.max) if self.items
                                  else gettext("At most %(n)s characters.", n=self.max))
        return super().__call__(value)


class OneOf(validate.OneOf):
    """marshmallow's OneOf, saying its refusal in the user's language."""

    def __call__(self, value: Any) -> Any:
        try:
            return super().__call__(value)
        except ValidationError:
            raise ValidationError(gettext("Must be one of: %(values)s",
                                          values=self.choices_text)) from None


def localise(field: fields.Field) -> None:
    """Give a field (and the field inside a List) its messages in the user's language: its
    `error_messages`, and Length/OneOf validators that translate their refusals."""
    if isinstance(field, fields.List) and field.inner is not None:
        localise(field.inner)
    messages = field.error_messages
    for key, message in _COMMON.items():
        if key in messages:
            messages[key] = message
    if "invalid" in messages:
        for cls, message in _INVALID:
            if isinstance(field, cls):
                messages["invalid"] = message
                break
    for i, v in enumerate(field.validators):
        if type(v) is validate.Length:
            field.validators[i] = Length(v.min, v.max, equal=v.equal,
                                         items=not isinstance(field, fields.String))
        elif type(v) is validate.OneOf:
            field.validators[i] = OneOf(v.choices, v.labels)
