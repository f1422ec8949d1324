"""The contact form's fields: what a visitor may send, and the code for each thing wrong.

Every bad field is reported at once, as ``{field: code}``. Single-line fields
(those that can reach a mail header) refuse every control character, line
breaks included, and the invisible controls of text direction; the message
keeps its line breaks.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # config reads its one-line rule from here
    from handler.config import FormSettings

FIELDS = ("name", "email", "phone", "preferred_contact", "message", "consent", "website")
TURNSTILE_FIELD = "cf-turnstile-response"  # the name Cloudflare's widget gives its hidden input
# Always known: with Turnstile off it is ignored, so that a page still showing
# the widget (the site switched Turnstile off, or its cache did not yet notice) is answered.
KNOWN_FIELDS = frozenset({*FIELDS, TURNSTILE_FIELD})
TURNSTILE_TOKEN_MAX = 2048
NAME_MAX = 100
PHONE_MAX = 30
EMAIL_MAX = 254
PHONE_PATTERN = re.compile(r"^[0-9 +().\-]+$")
TRUE_WORDS = {"true", "on", "yes", "1"}
# Unicode's control characters (category Cc), the line and paragraph
# separators, which act as line breaks in some mail and log readers, and lone
# surrogates (JSON can spell them, "\ud800", but they are not text: they
# cannot be encoded as UTF-8 to be stored, hashed or mailed).
CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
# The invisible characters that set the direction of the text around them:
# embeddings, overrides and isolates, and the three direction marks. In a name
# they can make a mail reader show the Subject or Reply-To in another order
# than it is (a fake address, say). A name in Arabic or Hebrew needs none:
# its letters carry their own direction.
DIRECTION_CHARACTERS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
DIRECTION_CONTROLS = re.compile(f"[{DIRECTION_CHARACTERS}]")
# The one-line rule, for every field that can reach a mail header (and SENDER_NAME).
SINGLE_LINE_FORBIDDEN = re.compile(f"[{CONTROL_CHARACTERS}{DIRECTION_CHARACTERS}]")
MULTILINE_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # keeps tab and line feed
# A field made only of spaces and invisible characters is as good as empty:
# what str.strip keeps of them, such as zero-width spaces and joiners, direction
# marks, fillers, variation selectors, tag characters and the blank Braille
# pattern. (Not every format character: U+0600 to U+0605 are visible.)
VISIBLE = re.compile(
    r"[^\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U00013430-\U0001343f"
    r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


def text_field(value: Any, maximum: int, *, multiline: bool = False) -> tuple[str | None, str | None]:
    """(cleaned value, error code)."""
    if not isinstance(value, str):
        return None, "invalid_type"
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    forbidden = (MULTILINE_FORBIDDEN if multiline else SINGLE_LINE_FORBIDDEN).search(value)
    if forbidden:
        return None, "direction_controls" if DIRECTION_CONTROLS.match(forbidden.group()) else "control_characters"
    value = value.strip()
    if not value or not VISIBLE.search(value):
        return None, "required"
    if len(value) > maximum:
        return None, "too_long"
    return value, None


def check_email(value: Any) -> tuple[str | None, str | None]:
    cleaned, error = text_field(value, EMAIL_MAX)
    if cleaned is None:
        return None, error
    from email_validator import EmailNotValidError, validate_email  # imported on the first message only

    try:
        # No SMTPUTF8: the address goes into Reply-To, and SES cannot relay
        # internationalised local parts. IDN domains are fine (sent as punycode).
        result = validate_email(cleaned, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None, "invalid_email"
    return result.ascii_email or result.normalized, None


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in TRUE_WORDS)


def validate(data: dict[str, Any], form: FormSettings) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean the submitted fields; return (fields, errors by field), the intake questions'
    answers in ``fields["answers"]``. An answer to a question the form does not ask is an
    unknown field. The Turnstile token is never an unknown field, and is left for the
    caller to check when Turnstile is on."""
    errors: dict[str, str] = {}
    asked = {question.name for question in form.questions}
    for name in data:
        if name not in KNOWN_FIELDS and name not in asked:
            # Named in the answer, so made safe to encode: no lone surrogates, at most 64 characters.
            errors[SINGLE_LINE_FORBIDDEN.sub("?", name[:64])] = "unknown_field"
    fields: dict[str, Any] = {}

    fields["name"], error = text_field(data.get("name"), NAME_MAX) if "name" in data else (None, "required")
    if error:
        errors["name"] = error
    fields["email"], error = check_email(data["email"]) if "email" in data else (None, "required")
    if error:
        errors["email"] = error
    fields["message"], error = (
        text_field(data["message"], form.message_max_length, multiline=True)
        if "message" in data
        else (None, "required")
    )
    if error:
        errors["message"] = error

    phone = data.get("phone")
    fields["phone"] = None
    if phone is not None and phone != "":
        cleaned, error = text_field(phone, PHONE_MAX)
        if error:
            errors["phone"] = error
        elif cleaned is None or not PHONE_PATTERN.match(cleaned) or not any(char.isdigit() for char in cleaned):
            errors["phone"] = "invalid_phone"
        else:
            fields["phone"] = cleaned

    preferred = data.get("preferred_contact")
    if preferred is None or preferred == "":
        fields["preferred_contact"] = "email"
    elif preferred in ("email", "phone"):
        fields["preferred_contact"] = preferred
    else:
        errors["preferred_contact"] = "invalid_choice"
    if fields.get("preferred_contact") == "phone" and fields["phone"] is None and "phone" not in errors:
        errors["phone"] = "required_for_phone_contact"

    fields["answers"] = {}
    for question in form.questions:
        fields["answers"][question.name], error = question.clean(data.get(question.name))
        if error:
            errors[question.name] = error

    if not is_true(data.get("consent")):
        errors["consent"] = "required"

    honeypot = data.get("website")
    if honeypot is not None and not isinstance(honeypot, str):
        errors["website"] = "invalid_type"
    fields["honeypot_filled"] = bool(isinstance(honeypot, str) and honeypot.strip())
    return fields, errors
