"""The emails: the therapist's alert, and the optional acknowledgement to the visitor.

Both come ``From`` the practice's verified SES identity; the alert's
``Reply-To`` is the visitor, so the therapist can simply hit reply. Never
``From`` the visitor: that fails DMARC and lands in spam.

The ``email`` package builds each email: its MIME frame, quoted-printable
bodies, Date and Message-ID. The headers that carry a name or the subject
(From, To, Reply-To, Subject) are encoded here, with the standard library's
RFC 2047 ``Header``, and handed over finished (``EncodedHeader``), because the
package's own header classes get them wrong, as these tests show (on Python
3.11.7):

- they read a visitor's ``=?utf-8?q?...?=`` as an encoded word and decode it,
  even writing the CR LF it decodes to, a Bcc header (test_hostile's
  ``inject-name-encoded-word``), or show the name as another
  (``inject-name-encoded-word-address``);
- they refuse a valid address whose local part looks like an encoded word: a
  500 after the message was stored (``inject-email-encoded-word``);
- they fold a long non-ASCII name or subject into encoded words that split
  words and drop the space between them (``uni-name-flags-and-tags``,
  test_contact's ``test_a_long_non_ascii_name_is_folded_in_every_header``, and
  test_contact_properties).

A header value with a line break is refused here too, before it is encoded
(RFC 2047 folds long names with CRLF), although validation already refuses
them, so that a name can never add a header.

Each email goes through the configuration set ``SES_CONFIGURATION_SET``
names (when set), tagged with its kind, its message's id and, for an alert,
the attempt it is: SES puts the tags on every event it publishes of the
email (``mail.tags``), so that ``handler/delivery_events.py`` finds the
message without an index, and tells the therapist's alert from a visitor's
acknowledgement.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import formataddr
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from handler import intake
from handler.config import AlertSettings
from handler.message import Message

# What fits one encoded word: "=?utf-8?b?" + base64 + "?=" in 75 characters.
ENCODED_WORD_BYTES = 45
# CRLF line ends, as SMTP wants. policy.SMTP alone folds quoted-printable
# lines at 78 characters, where RFC 2045 allows 76
# (test_the_email_on_the_wire_has_crlf_line_ends_and_short_lines).
POLICY = SMTP.clone(max_line_length=76)
FIRST_NAME = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")  # Zoë, O'Brien, Jean-Luc, J.
# What SES allows in a tag's name and value (MessageTag); a ULID and a count fit.
TAG_TEXT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class EmailKind(StrEnum):
    ALERT = "alert"  # to the therapist: its fate is recorded on the message
    ACKNOWLEDGEMENT = "acknowledgement"  # to a visitor: its fate is only counted
    DIGEST = "digest"  # to the therapist, how many messages were held: its fate is only counted


@dataclass(frozen=True)
class EmailTags:
    """Which email this is, as SES tags it and reports it back with each event."""

    kind: EmailKind
    message_id: str
    attempt: int | None = None  # an alert's: the notify_attempts number it is sent as

    def for_ses(self) -> list[dict[str, str]]:
        """``send_raw_email``'s Tags; a value SES would refuse (an id edited by hand) is left
        out rather than failing the send: the email matters more than its report."""
        tags = {"kind": self.kind.value, "message_id": self.message_id}
        if self.attempt is not None:
            tags["attempt"] = str(self.attempt)
        return [{"Name": name, "Value": value} for name, value in tags.items() if TAG_TEXT.match(value)]

    @classmethod
    def from_ses(cls, tags: Any) -> EmailTags | None:
        """The tags of an SES event's ``mail.tags`` (each a list of values); None when they are not ours."""
        if not isinstance(tags, dict):
            return None

        def first(name: str) -> str | None:
            values = tags.get(name)
            value = values[0] if isinstance(values, list) and values else None
            return value if isinstance(value, str) and TAG_TEXT.match(value) else None

        kind, message_id, attempt = first("kind"), first("message_id"), first("attempt")
        if kind not in {known.value for known in EmailKind} or message_id is None:
            return None
        return cls(EmailKind(kind), message_id, int(attempt) if attempt and attempt.isdigit() else None)


NOT_SAVED = "This message could not be saved in the database: this email is its only copy."
MAYBE_NOT_SAVED = "The database did not answer: this message may not have been saved. Keep this email."
# In the body only: a subject saying "spam" could send it to a spam folder unread.
SUSPECTED_SPAM = (
    "Suspected spam: the form's hidden field, which people do not see, was filled in, as bots do "
    "(a browser filling in forms by itself can do it too)."
)


class NotificationFailed(Exception):
    """SES did not accept the email; ``code`` says why (no personal data)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def local_time(received_at: str, time_zone: str) -> str:
    moment = dt.datetime.fromisoformat(received_at).astimezone(ZoneInfo(time_zone))
    return moment.strftime("%A %d %B %Y, %H:%M %Z")


def single_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("a header value may not contain a line break")
    return value


def needs_encoding(value: str) -> bool:
    # Text that already looks like an encoded word is encoded again, so that a
    # visitor cannot make a mail reader decode their name into something else.
    return not value.isascii() or "=?" in value


def header_text(value: str) -> str:
    """A header's value in ASCII: RFC 2047 words (75 characters at most) where needed, folded with CRLF."""
    if not needs_encoding(value):
        return value
    # One encoded word per run of whole words, each ending in its space: a
    # reader that (against RFC 2047) keeps the folding white space then shows
    # a space too many, never a name split inside a word.
    return "\r\n ".join(Header(piece, "utf-8").encode(linesep="\r\n") for piece in word_runs(value))


def word_runs(value: str, most_bytes: int = ENCODED_WORD_BYTES) -> list[str]:
    """``value`` cut after spaces into runs of at most ``most_bytes`` of UTF-8 (a longer word stays whole)."""
    runs = [""]
    for word in re.split(r"(?<= )", value):
        if runs[-1] and len((runs[-1] + word).encode("utf-8")) > most_bytes:
            runs.append(word)
        else:
            runs[-1] += word
    return runs


def address(name: str, addr_spec: str) -> str:
    single_line(addr_spec)
    if needs_encoding(single_line(name)):
        return f"{header_text(name)} <{addr_spec}>"
    return formataddr((name, addr_spec))


@dataclass(frozen=True)
class EncodedHeader:
    """A header whose value is already ASCII, encoded and folded here.

    ``EmailMessage`` keeps a value whose ``name`` matches its header's as it
    is, and writes it with its ``fold`` (``email.policy.EmailPolicy``).
    """

    name: str
    value: str

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self.value}{policy.linesep}"


def new_email(
    settings: AlertSettings, to: Sequence[str], subject: str, text: str, body_html: str, reply_to: str | None = None
) -> bytes:
    """A multipart/alternative message, plain text first, both parts quoted-printable.

    ``to`` and ``reply_to`` are NOTIFY_EMAIL's addresses (checked by config),
    or ones from ``address()`` (checked before encoding; a long name is
    folded after).
    """
    email = EmailMessage(policy=POLICY)
    headers = {
        "From": address(settings.sender_name, settings.sender_email),
        "To": ", ".join(to),
        "Reply-To": reply_to,
        "Subject": header_text(single_line(subject)),
    }
    for name, value in headers.items():
        if value is not None:
            email[name] = EncodedHeader(name, value)
    email["Date"] = dt.datetime.now(dt.UTC)
    # From the OS's randomness, not the random module's (as make_msgid and
    # the package's boundaries use): after a SnapStart restore every instance
    # would share the snapshot's generator state.
    token = secrets.token_hex(16)
    email["Message-ID"] = f"<{token}@{settings.sender_email.rsplit('@', 1)[1]}>"
    # Quoted-printable, not base64: mostly-ASCII text in base64 is what spam filters score as disguised.
    email.set_content(text, cte="quoted-printable")
    email.add_alternative(body_html, subtype="html", cte="quoted-printable")
    email.set_boundary("=_" + token)  # "=_" never occurs in quoted-printable text
    return email.as_bytes()


def notification(message: Message, settings: AlertSettings, *, saved: bool | None = True) -> bytes:
    """The therapist's alert. ``saved`` False: the message could not be stored; None: whether
    it was is not known. Either way the alert carries all of it, whatever NOTIFY_DETAIL says
    (the fallback); otherwise NOTIFY_DETAIL=minimal sends only a link to the inbox."""
    if settings.notify_detail == "minimal" and saved is True:
        return minimal_notification(message, settings)
    received = local_time(message.received_at, settings.practice_timezone)
    rows = [("Note", note) for note in notes(message, saved)]
    rows += [("Name", message.name), ("Email", message.email)]
    if message.phone:
        rows.append(("Phone", message.phone))
    rows.append(("Prefers", intake.PREFERRED[message.preferred_contact]))
    rows += intake.answers(message)  # the intake questions' labels are ours too
    rows += [("Received", received), ("Message id", message.id)]
    text_lines = [f"{label}: {value}" for label, value in rows]
    text_lines += ["", message.message, "", "Reply to this email to answer the sender."]
    table = "".join(
        f"<tr><th align='left' style='padding-right:1em'>{label}</th><td>{html.escape(value)}</td></tr>"  # labels are ours
        for label, value in rows
    )
    return new_email(
        settings,
        settings.notify_email,
        f"New enquiry from {message.name}",
        "\n".join(text_lines) + "\n",
        f"<!doctype html><html><body><table>{table}</table>"
        f"<p style='white-space:pre-wrap'>{html.escape(message.message)}</p>"
        "<p>Reply to this email to answer the sender.</p></body></html>",
        reply_to=address(message.name, message.email),
    )


def minimal_notification(message: Message, settings: AlertSettings) -> bytes:
    """NOTIFY_DETAIL=minimal: the visitor's first name and a link to the message in the inbox
    (which asks to sign in), nothing else: no message, email, phone or preference, and no Reply-To."""
    words = message.name.split()
    # Only a word of letters: a name such as "evil.tk/login Smith" must not put a link in the alert.
    first_name = words[0] if words and FIRST_NAME.fullmatch(words[0]) else "a visitor"
    line = f"A new enquiry from {first_name}: read it in your inbox"
    if settings.inbox_url is None:  # contact-admin without INBOX_URL: the id finds it
        text = f"{line} (message {message.id}).\n"
        body_html = f"<p>{html.escape(line)} (message {message.id}).</p>"
    else:
        link = f"{settings.inbox_url}/inbox/messages/{message.id}"
        text = f"{line}:\n{link}\n"
        body_html = f'<p>{html.escape(line)}:</p><p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    return new_email(
        settings,
        settings.notify_email,
        f"New enquiry from {first_name}",
        text,
        f"<!doctype html><html><body>{body_html}</body></html>",
    )


def notes(message: Message, saved: bool | None) -> list[str]:
    """What the therapist must know before reading the message."""
    found = []
    if saved is False:
        found.append(NOT_SAVED)
    elif saved is None:
        found.append(MAYBE_NOT_SAVED)
    if message.spam:
        found.append(SUSPECTED_SPAM)
    return found


def acknowledgement(message: Message, settings: AlertSettings) -> bytes:
    """The visitor's receipt: never repeats their message, always carries the crisis notice."""
    notice = settings.crisis_notice
    text = (
        f"Hello {message.name},\n\n"
        "Thank you for getting in touch. Your message has been received, and you will hear back soon.\n\n"
        f"{notice}\n\nReference: {message.id}\n"
    )
    return new_email(
        settings,
        [address(message.name, message.email)],
        "We received your message",
        text,
        f"<!doctype html><html><body><p>Hello {html.escape(message.name)},</p>"
        "<p>Thank you for getting in touch. Your message has been received, and you will hear back soon.</p>"
        f"<p><strong>{html.escape(notice)}</strong></p><p>Reference: {html.escape(message.id)}</p></body></html>",
    )


def send(
    ses: Any, email: bytes, recipients: Sequence[str], settings: AlertSettings, tags: EmailTags | None = None
) -> str:
    """Send through SES (through the configuration set, if any, and tagged); return SES's
    message id, or raise NotificationFailed."""
    from botocore.exceptions import BotoCoreError, ClientError

    reported: dict[str, Any] = {}
    if settings.ses_configuration_set:
        reported["ConfigurationSetName"] = settings.ses_configuration_set
    if tags is not None:
        reported["Tags"] = tags.for_ses()
    try:
        response = ses.send_raw_email(
            Source=settings.sender_email, Destinations=list(recipients), RawMessage={"Data": email}, **reported
        )
    except ClientError as error:
        raise NotificationFailed(error.response["Error"].get("Code", "ClientError")) from error
    except BotoCoreError as error:
        raise NotificationFailed(type(error).__name__) from error
    message_id: str = response["MessageId"]
    return message_id
