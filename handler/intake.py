"""The contact form's optional intake questions: a fixed set, of which a practice turns on any.

Each question is typed data (``Question``): its name (the field a visitor
sends, and the message's attribute), the question as the form asks it, the
short label shown beside its answer (the alert, ``contact-admin``, the inbox),
and a closed list of choices. ``INTAKE_QUESTIONS`` (read in handler/config.py)
names the questions the form asks, in its order, each followed by ``!`` when
it must be answered: ``client_type!,state!,availability``.

An answer is stored as its choices' values: one value, or for a question of
several choices (availability) the values chosen, comma-separated, in the
order the question lists them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from handler.message import Message


@dataclass(frozen=True)
class Choice:
    value: str  # what a visitor sends, and what is stored
    label: str  # what a person reads


@dataclass(frozen=True)
class Question:
    name: str
    label: str  # the question, as the form asks it
    short_label: str  # beside its answer, once answered
    choices: tuple[Choice, ...]
    multiple: bool = False  # several choices may be ticked
    required: bool = False  # as the practice configured it

    def choice_label(self, value: str) -> str:
        """A value's label; a value no longer offered is shown as it was stored."""
        return next((choice.label for choice in self.choices if choice.value == value), value)

    def answer_text(self, stored: str) -> str:
        """A stored answer in words: ``Weekday evenings, Weekends``."""
        return ", ".join(self.choice_label(value) for value in stored.split(","))

    def clean(self, value: Any) -> tuple[str | None, str | None]:
        """(the answer as stored, or None when unanswered; the error code)."""
        chosen = value if isinstance(value, list) and self.multiple else [value]
        if not all(item is None or isinstance(item, str) for item in chosen):
            return None, "invalid_type"
        values = {item.strip() for item in chosen if item is not None and item.strip()}
        if not values:
            return None, "required" if self.required else None
        offered = [choice.value for choice in self.choices]
        if not values <= set(offered):
            return None, "invalid_choice"
        return ",".join(value for value in offered if value in values), None


def choices(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(value, label) for value, label in pairs)


# The states, the District of Columbia and the inhabited territories, by their USPS codes.
STATES = choices(
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"), ("CA", "California"),
    ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"), ("DC", "District of Columbia"),
    ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"),
    ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"), ("MD", "Maryland"),
    ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"), ("MS", "Mississippi"), ("MO", "Missouri"),
    ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"), ("NH", "New Hampshire"), ("NJ", "New Jersey"),
    ("NM", "New Mexico"), ("NY", "New York"), ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"),
    ("OK", "Oklahoma"), ("OR", "Oregon"), ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"),
    ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"),
    ("VA", "Virginia"), ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
    ("AS", "American Samoa"), ("GU", "Guam"), ("MP", "Northern Mariana Islands"), ("PR", "Puerto Rico"),
    ("VI", "U.S. Virgin Islands"),
)  # fmt: skip

# The fixed field preferred_contact's choices: the form and the alert name them alike.
PREFERRED = {"email": "Email", "phone": "Phone"}

# Every question a practice may ask, in the order the alert and contact-admin show their answers.
QUESTIONS = {
    question.name: question
    for question in (
        Question(
            "client_type",
            "Are you a new or a returning client?",
            "Client",
            choices(("new", "New client"), ("returning", "Returning client")),
        ),
        Question(
            "session_format",
            "Would you like sessions in person or online?",
            "Sessions",
            choices(("in_person", "In person"), ("online", "Online"), ("either", "Either")),
        ),
        Question("state", "Which state do you live in?", "State", STATES),
        Question(
            "payment",
            "How do you plan to pay?",
            "Payment",
            choices(("insurance", "Insurance"), ("self_pay", "Self-pay"), ("not_sure", "Not sure yet")),
        ),
        Question(
            "availability",
            "When are you usually free for sessions?",
            "Availability",
            choices(
                ("weekday_daytime", "Weekday daytime"), ("weekday_evening", "Weekday evenings"), ("weekend", "Weekends")
            ),
            multiple=True,
        ),
        Question(
            "voicemail_ok", "May we leave you a voicemail?", "Voicemail OK", choices(("yes", "Yes"), ("no", "No"))
        ),
    )
}
REQUIRED_MARK = "!"
STATE_NAMES = {choice.value: choice.label for choice in STATES}


class IntakeSettingError(ValueError):
    """What is wrong with a setting's value (config names the setting)."""


def parse_questions(text: str) -> tuple[Question, ...]:
    """The questions ``INTAKE_QUESTIONS`` turns on, in its order, each required when marked so."""
    chosen: dict[str, Question] = {}
    for item in text.split(","):
        name = item.strip()
        required = name.endswith(REQUIRED_MARK)
        name = name.removesuffix(REQUIRED_MARK).strip()
        if not name:
            continue
        if name not in QUESTIONS:
            raise IntakeSettingError(f"{name!r} is not a question; the questions are {', '.join(QUESTIONS)}")
        if name in chosen:
            raise IntakeSettingError(f"{name!r} is listed twice")
        chosen[name] = dataclasses.replace(QUESTIONS[name], required=required)
    return tuple(chosen.values())


def parse_states(text: str) -> frozenset[str]:
    """State codes, comma-separated, in any case."""
    codes = {item.strip().upper() for item in text.split(",") if item.strip()}
    unknown = sorted(codes - set(STATE_NAMES))
    if unknown:
        raise IntakeSettingError(f"{', '.join(map(repr, unknown))} is not a US state or territory code such as NY")
    return frozenset(codes)


def answers(message: Message) -> list[tuple[str, str]]:
    """Each answered question's short label and answer in words, in QUESTIONS' order:
    what the alert, ``contact-admin show`` and the inbox show of a message's answers."""
    found = []
    for name, question in QUESTIONS.items():
        stored = getattr(message, name)
        if stored:
            found.append((question.short_label, question.answer_text(stored)))
    return found


def referral(state: str) -> str:
    """The visitor's notice when they live where the practice is not licensed."""
    return (
        f"This practice may not be able to see clients in {STATE_NAMES.get(state, state)}: "
        "you will still get an answer, and perhaps the name of someone who can help."
    )
