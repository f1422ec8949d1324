"""The contact form's field errors in a visitor's words, for the page that answers a plain form post.

The JSON answers keep the codes of validation.py; the website words them itself
beside each field (examples/practice.js, in these same sentences).
"""

from __future__ import annotations

from handler.validation import EMAIL_MAX, FIELDS, MESSAGE_MAX, NAME_MAX, PHONE_MAX, TURNSTILE_FIELD

LABELS = {
    "name": "your name",
    "email": "your email address",
    "phone": "your phone number",
    "preferred_contact": "how you would like to be answered",
    "message": "your message",
    "consent": "the box",
    "website": "the form",
    TURNSTILE_FIELD: "the check that you are not a robot",
}
LIMITS = {"name": NAME_MAX, "email": EMAIL_MAX, "phone": PHONE_MAX, "message": MESSAGE_MAX}
SENTENCES = {
    "required": "Please fill in {label}.",
    "too_long": "Please shorten {label} to {limit} characters or fewer.",
    "invalid_email": "Please enter a valid email address.",
    "invalid_phone": "Please write your phone number with digits, spaces and + ( ) - . only.",
    "required_for_phone_contact": "Please add a phone number, or choose to be answered by email.",
    "control_characters": "Please remove the special characters from {label}.",
    "direction_controls": (
        "Please type {label} again: it holds invisible characters that change the direction of text,"
        " often copied along with it."
    ),
    "invalid_choice": "Please choose how you would like to be answered.",
    "failed": "The check that you are not a robot did not pass: please try again.",
}
# Where a field needs its own words for a code.
OWN_SENTENCES = {
    ("consent", "required"): "Please tick the box to confirm that you understand this form is not for emergencies.",
    (TURNSTILE_FIELD, "required"): "Please complete the check that you are not a robot.",
}
UNKNOWN_FIELD = "This form does not take a field called “{name}”: please send your message from the website's form."
OTHER = "Please check {label}."


def sentence(name: str, code: str) -> str:
    if code == "unknown_field" or name not in LABELS:
        return UNKNOWN_FIELD.format(name=name)
    template = OWN_SENTENCES.get((name, code)) or SENTENCES.get(code, OTHER)
    return template.format(label=LABELS[name], limit=LIMITS.get(name))


def sentences(fields: dict[str, str]) -> list[str]:
    """One sentence per refused field, in the form's order."""

    def form_order(name: str) -> int:
        return FIELDS.index(name) if name in FIELDS else len(FIELDS)

    return [sentence(name, fields[name]) for name in sorted(fields, key=form_order)]
