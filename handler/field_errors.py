"""The contact form's field errors in a visitor's words, for the page that answers a plain form post.

The JSON answers keep the codes of validation.py; the website words them itself
beside each field (examples/practice.js, in these same sentences).
"""

from __future__ import annotations

from handler.config import FormSettings
from handler.validation import EMAIL_MAX, FIELDS, NAME_MAX, PHONE_MAX, TURNSTILE_FIELD

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
LIMITS = {"name": NAME_MAX, "email": EMAIL_MAX, "phone": PHONE_MAX}  # and the message's, FormSettings'
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
    "failed": "The check that you are not a robot did not pass: please try again.",
}
# Where a field needs its own words for a code.
OWN_SENTENCES = {
    ("consent", "required"): "Please tick the box to confirm that you understand this form is not for emergencies.",
    (TURNSTILE_FIELD, "required"): "Please complete the check that you are not a robot.",
    ("preferred_contact", "invalid_choice"): "Please choose how you would like to be answered.",
}
# An intake question's (handler/intake.py), named by the question the form asks.
QUESTION_SENTENCES = {"required": "Please answer the question: {question}"}
QUESTION_OTHER = "Please choose one of the answers offered to the question: {question}"
UNKNOWN_FIELD = "This form does not take a field called “{name}”: please send your message from the website's form."
OTHER = "Please check {label}."


def sentence(name: str, code: str, form: FormSettings) -> str:
    question = next((question for question in form.questions if question.name == name), None)
    if question is not None:
        return QUESTION_SENTENCES.get(code, QUESTION_OTHER).format(question=question.label)
    if code == "unknown_field" or name not in LABELS:
        return UNKNOWN_FIELD.format(name=name)
    template = OWN_SENTENCES.get((name, code)) or SENTENCES.get(code, OTHER)
    limit = form.message_max_length if name == "message" else LIMITS.get(name)
    return template.format(label=LABELS[name], limit=limit)


def form_order(form: FormSettings) -> list[str]:
    """The form's fields in the order it shows them: its intake questions before the message."""
    at = FIELDS.index("message")
    return [*FIELDS[:at], *(question.name for question in form.questions), *FIELDS[at:]]


def sentences(fields: dict[str, str], form: FormSettings) -> list[str]:
    """One sentence per refused field, in the form's order."""
    order = form_order(form)

    def position(name: str) -> int:
        return order.index(name) if name in order else len(order)

    return [sentence(name, fields[name], form) for name in sorted(fields, key=position)]
