"""The emails: the therapist's alert, and the optional acknowledgement to the visitor.

Both come ``From`` the practice's verified SES identity; the alert's
``Reply-To`` is the visitor, so the therapist can simply hit reply. Never
``From`` the visitor: that fails DMARC and lands in spam. Headers are built by
the standard library's ``email`` package, which encodes non-ASCII text per
RFC 2047 and refuses line breaks in a header, so a name cannot add headers.
"""

from __future__ import annotations

import datetime as dt
import html
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

PREFERRED = {"email": "Email", "phone": "Phone"}


class NotificationFailed(Exception):
    """SES did not accept the email; ``code`` says why (no personal data)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def local_time(received_at: str, time_zone: str) -> str:
    moment = dt.datetime.fromisoformat(received_at.replace("Z", "+00:00")).astimezone(ZoneInfo(time_zone))
    return moment.strftime("%A %d %B %Y, %H:%M %Z")


def sender(settings: dict[str, Any]) -> Address:
    return Address(display_name=settings["SENDER_NAME"], addr_spec=settings["SENDER_EMAIL"])


def new_email(settings: dict[str, Any], to: list[str], subject: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender(settings)
    email["To"] = ", ".join(to)
    email["Subject"] = subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = make_msgid(domain=settings["SENDER_EMAIL"].rsplit("@", 1)[1])
    return email


def notification(message: dict[str, Any], settings: dict[str, Any], *, full: bool | None = None) -> EmailMessage:
    """The therapist's alert. ``full`` overrides NOTIFY_DETAIL (the fallback when storage failed)."""
    full = settings["NOTIFY_DETAIL"] == "full" if full is None else full
    received = local_time(message["received_at"], settings["PRACTICE_TIMEZONE"])
    rows = [("Name", message["name"])]
    if full:
        rows.append(("Email", message["email"]))
        if message.get("phone"):
            rows.append(("Phone", message["phone"]))
    rows += [
        ("Prefers", PREFERRED[message["preferred_contact"]]),
        ("Received", received),
        ("Message id", message["id"]),
    ]
    if message.get("unstored"):
        rows.append(("Note", "This message could not be saved in the database: this email is its only copy."))
    text_lines = [f"{label}: {value}" for label, value in rows]
    if full:
        text_lines += ["", message["message"]]
    else:
        text_lines += ["", "The message is kept in the practice's records (NOTIFY_DETAIL=minimal)."]
    text_lines += ["", "Reply to this email to answer the sender."]

    table = "".join(
        f"<tr><th align='left' style='padding-right:1em'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in rows
    )
    body_html = (
        f"<p style='white-space:pre-wrap'>{html.escape(message['message'])}</p>"
        if full
        else "<p>The message is kept in the practice's records.</p>"
    )
    email = new_email(settings, settings["NOTIFY_EMAILS"], f"New enquiry from {message['name']}")
    email["Reply-To"] = Address(display_name=message["name"], addr_spec=message["email"])
    email.set_content("\n".join(text_lines) + "\n", cte="quoted-printable")
    email.add_alternative(
        f"<!doctype html><html><body><table>{table}</table>{body_html}"
        "<p>Reply to this email to answer the sender.</p></body></html>",
        subtype="html",
        cte="quoted-printable",
    )
    return email


def acknowledgement(message: dict[str, Any], settings: dict[str, Any]) -> EmailMessage:
    """The visitor's receipt: never repeats their message, always carries the crisis notice."""
    notice = settings["CRISIS_NOTICE"]
    text = (
        f"Hello {message['name']},\n\n"
        "Thank you for getting in touch. Your message has been received, and you will hear back soon.\n\n"
        f"{notice}\n\nReference: {message['id']}\n"
    )
    visitor = str(Address(display_name=message["name"], addr_spec=message["email"]))
    email = new_email(settings, [visitor], "We received your message")
    email.set_content(text, cte="quoted-printable")
    email.add_alternative(
        f"<!doctype html><html><body><p>Hello {html.escape(message['name'])},</p>"
        "<p>Thank you for getting in touch. Your message has been received, and you will hear back soon.</p>"
        f"<p><strong>{html.escape(notice)}</strong></p><p>Reference: {html.escape(message['id'])}</p></body></html>",
        subtype="html",
        cte="quoted-printable",
    )
    return email


def send(ses: Any, email: EmailMessage, settings: dict[str, Any]) -> str:
    """Send through SES; return SES's message id, or raise NotificationFailed."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = ses.send_raw_email(
            Source=settings["SENDER_EMAIL"],
            Destinations=[address.addr_spec for address in email["To"].addresses],
            RawMessage={"Data": email.as_bytes(policy=SMTP)},
        )
    except ClientError as error:
        raise NotificationFailed(error.response["Error"].get("Code", "ClientError")) from error
    except BotoCoreError as error:
        raise NotificationFailed(type(error).__name__) from error
    return response["MessageId"]
