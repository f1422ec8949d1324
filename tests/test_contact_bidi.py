"""Text direction in the one-line fields, judged by what a mail reader displays.

A mail reader lays out a header with Unicode's bidirectional algorithm
(UAX #9); python-bidi runs the same algorithm, so ``shown`` is the order in
which the characters appear on screen, left to right, in a left-to-right
interface (it leaves brackets unmirrored, so the checks read the order of
letters). A name is safe when the reader shows it, and the address after it,
each as it would show them alone: an invisible override or isolate can break
that (and show an address nobody typed), so the one-line fields refuse them;
names in right-to-left scripts need none and keep that property.
"""

from __future__ import annotations

import re

import pytest
from apigw import json_body
from bidi import get_display
from contact_helpers import VALID, attribute, post_form, post_json

EMAIL = VALID["email"]
DIRECTION_CHARACTERS = [
    "\u061c",  # ARABIC LETTER MARK
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",  # RIGHT-TO-LEFT EMBEDDING
    "\u202c",  # POP DIRECTIONAL FORMATTING
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
]
INVISIBLE = re.compile(f"[{''.join(DIRECTION_CHARACTERS)}]")


def shown(text: str) -> str:
    """What a left-to-right mail reader displays, left to right (the invisible controls left out)."""
    return INVISIBLE.sub("", get_display(text, base_dir="L"))


def reply_to_line(name: str, address: str) -> str:
    return f"{name} <{address}>"


@pytest.fixture
def contact(aws, make_handler):
    return make_handler()


# Names, and two pieces of what a reader shows on their Reply-To line, the first shown before the
# second, though the line is typed the other way round (or not at all).
SPOOFS = [
    pytest.param("Alex \u202e", "Alex", "gro.elpmaxe@xela", id="an-override-reverses-the-real-address"),
    pytest.param(
        "\u202egro.ecitcarp@tsipareht", "gro.elpmaxe@xela", "therapist@practice.org", id="an-override-fakes-one"
    ),
    pytest.param("\u2067\u05d3\u05e0\u05d4", EMAIL, "\u05d4\u05e0\u05d3", id="an-isolate-puts-the-address-first"),
]


@pytest.mark.parametrize(("name", "first", "then"), SPOOFS)
def test_a_name_that_reorders_the_reply_to_line_is_refused(aws, contact, name: str, first: str, then: str) -> None:
    # Why: the reader would not show the name and then the address, each as it shows alone.
    line = shown(reply_to_line(name, EMAIL))
    assert line != shown(name) + f" <{EMAIL}>"
    assert -1 < line.index(first) < line.index(then), line
    result = post_json(contact, {**VALID, "name": name})
    assert result["statusCode"] == 422
    assert json_body(result)["fields"] == {"name": "direction_controls"}
    assert aws.items() == [] and aws.emails() == []


def test_a_name_that_rewrites_the_subject_is_refused(aws, contact) -> None:
    name = "Alex\u202e :tnemyap eudrevo"
    assert shown(f"New enquiry from {name}") == "New enquiry from Alexoverdue payment: "
    result = post_json(contact, {**VALID, "name": name})
    assert result["statusCode"] == 422
    assert aws.emails() == []


@pytest.mark.parametrize("character", DIRECTION_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["name", "email", "phone"])
def test_every_direction_control_is_refused_in_every_one_line_field(aws, contact, field: str, character: str) -> None:
    value = {"name": "Alex Example", "email": "alex@example.org", "phone": "555 0100"}[field]
    result = post_json(contact, {**VALID, field: value[:3] + character + value[3:]})
    assert result["statusCode"] == 422
    assert json_body(result)["fields"] == {field: "direction_controls"}
    assert aws.items() == []


def test_a_plain_form_post_is_refused_alike(aws, contact) -> None:
    result = post_form(contact, {**VALID, "name": "Alex \u202e"})
    assert result["statusCode"] == 422
    assert "Please type your name again: it holds invisible characters" in result["body"]
    assert aws.items() == []


RIGHT_TO_LEFT_NAMES = [
    pytest.param("محمد عبد الله", id="arabic"),
    pytest.param("דנה כהן", id="hebrew"),
    pytest.param("فاطمه\u200cزهرا رضایی", id="persian-with-zero-width-non-joiner"),
    pytest.param("Dana דנה כהן", id="mixed-latin-and-hebrew"),
    pytest.param("محمد (Mo) 2", id="arabic-with-brackets-and-digits"),
]


@pytest.mark.parametrize("name", RIGHT_TO_LEFT_NAMES)
def test_a_right_to_left_name_reaches_the_email_intact_and_displays_in_place(aws, contact, name: str) -> None:
    result = post_json(contact, {**VALID, "name": name})
    assert result["statusCode"] == 201, result["body"]
    assert attribute(aws.messages()[0], "name") == name
    (alert,) = aws.emails()
    assert alert["Subject"] == f"New enquiry from {name}"
    (reply_to,) = alert["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == (name, EMAIL)
    # What the reader shows: the name as it shows alone, then the real address.
    assert shown(reply_to_line(reply_to.display_name, reply_to.addr_spec)) == shown(name) + f" <{EMAIL}>"
    assert shown(alert["Subject"]) == "New enquiry from " + shown(name)


def test_a_sender_name_with_a_direction_control_stops_start_up(make_handler) -> None:
    from handler.config import ConfigError

    with pytest.raises(ConfigError, match="SENDER_NAME"):
        make_handler(SENDER_NAME="The Practice \u202e")
