"""``contact-admin``: the therapist's command line for the contact messages.

Works on the deployed table with the therapist's own AWS credentials (the
usual AWS profile, region and ``--table``), or on the local stack with
``--local``. It reads and writes the same items as the function, through
``handler.storage``'s keys, and sends with ``handler.notification``.

    contact-admin list [--since DATE] [--status STATUS]   # STATUS: an alert's or its delivery's, or not-delivered
    contact-admin show ID
    contact-admin export --format csv|json [--since DATE] [--output FILE]
    contact-admin delete ID | --email ADDRESS [--yes]
    contact-admin resend ID
    contact-admin stats
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from handler import export, intake, notification
from handler.config import AlertSettings, ConfigError, alert_settings
from handler.message import AlertDelivery, Message, NotifyStatus, Shown
from handler.storage import MessageStore, StorageUnavailable, message_key
from handler.validation import check_email

# Every state of the latest alert that did not reach the therapist (bounced, complained, ...).
NOT_DELIVERED = "not-delivered"
# The inbox's states by the names its filters use (undelivered: "alert not delivered"), then the alert's.
SHOWN = {shown.name.lower(): shown for shown in Shown}
STATUSES = tuple(
    dict.fromkeys(
        [
            *SHOWN,
            *(status.value for status in NotifyStatus),
            *(delivery.value for delivery in AlertDelivery),
            NOT_DELIVERED,
        ]
    )
)
LOCAL_ENDPOINT = "http://127.0.0.1:3001"
LOCAL_TABLE = "contact-messages"


class AdminError(Exception):
    """A problem to tell the therapist in one line (exit status 1)."""


def parse_since(value: str) -> str:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date such as 2026-11-01") from None
    return day.isoformat()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-admin", description="The practice's contact messages.")
    parser.add_argument("--local", action="store_true", help=f"use the local stack (moto at {LOCAL_ENDPOINT})")
    parser.add_argument("--endpoint-url", help="AWS endpoint (with --local: where `make run` serves moto)")
    parser.add_argument("--table", help="the contact table (default: $CONTACT_TABLE_NAME)")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    parser.add_argument("--profile", help="AWS profile (default: your AWS configuration)")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="recent messages, newest first")
    listing.add_argument("--since", type=parse_since, help="only messages received on or after this date")
    listing.add_argument(
        "--status",
        choices=STATUSES,
        help=f"the alert's status, or what SES reported of its delivery; {NOT_DELIVERED}: every alert that did not arrive",
    )
    listing.add_argument("--limit", type=int, default=50)

    show = commands.add_parser("show", help="one message in full")
    show.add_argument("id")

    exporting = commands.add_parser("export", help="every message, as CSV or JSON")
    exporting.add_argument("--format", choices=("csv", "json"), required=True)
    exporting.add_argument("--since", type=parse_since)
    exporting.add_argument("--output", help="a file (default: standard output)")

    delete = commands.add_parser("delete", help="erase a message, or every message from an address")
    target = delete.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?")
    target.add_argument("--email")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    resend = commands.add_parser("resend", help="send a message's alert again")
    resend.add_argument("id")

    commands.add_parser("stats", help="messages per day and per status, spam included")
    return parser


def connect(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """DynamoDB and SES clients and the table name, or a clear AdminError."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    endpoint = args.endpoint_url or (LOCAL_ENDPOINT if args.local else None)
    table = args.table or os.environ.get("CONTACT_TABLE_NAME") or (LOCAL_TABLE if args.local else None)
    if not table:
        raise AdminError("no table: pass --table NAME or set CONTACT_TABLE_NAME (the stack's ContactTableName output)")
    try:
        if args.local:
            session = boto3.session.Session(
                aws_access_key_id="local", aws_secret_access_key="local", region_name=args.region or "us-east-1"
            )
        else:
            session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    except ProfileNotFound as error:
        raise AdminError(str(error)) from None
    if not session.region_name:
        raise AdminError("no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)")
    if not args.local and session.get_credentials() is None:
        raise AdminError("no AWS credentials: run `aws configure` or `aws sso login`, or set AWS_PROFILE")
    return session.client("dynamodb", endpoint_url=endpoint), session.client("ses", endpoint_url=endpoint), table


def messages(dynamodb: Any, table: str, since: str | None = None, status: str | None = None) -> Iterator[Message]:
    """Messages newest first, from the ``recent`` index, every page; ``status``: a state the inbox
    shows (new, replied, closed, spam, undelivered), an alert's status (pending, retrying, ...)
    or what SES reported of it (delivered, bounced, ..., not-delivered)."""
    store = MessageStore(dynamodb, table)
    if status in SHOWN:
        found = store.recent(since=since, shown=SHOWN[status])
    elif status in {notify.value for notify in NotifyStatus}:
        found = store.recent(since=since, notify_status=NotifyStatus(status))
    else:
        found = store.recent(since=since)
    return (message for message in found if delivery_matches(message, status))


def delivery_matches(message: Message, status: str | None) -> bool:
    """Whether the message's latest alert is in the delivery state ``status`` asks for (any, if it names none)."""
    if status == NOT_DELIVERED:
        return message.alert_not_delivered
    if status in {delivery.value for delivery in AlertDelivery}:
        return message.alert_fate == status
    return True


def delivery_summary(message: Message) -> str:
    """What became of the latest alert, in one line: the therapist's own addresses included."""
    fate = message.alert_fate
    if fate is None:
        return "not reported" if message.notify_status == NotifyStatus.SENT else "-"
    summary = fate.value
    if message.alert_bounce_type:
        summary += f" ({'/'.join(filter(None, (message.alert_bounce_type, message.alert_bounce_subtype)))})"
    if message.alert_recipients:
        summary += f", {message.alert_recipients}"
    return f"{summary}, at {message.alert_delivery_at}"


def shown(name: str, value: Any) -> Any:
    """A field's value as ``show`` prints it: an intake question's answer in words."""
    question = intake.QUESTIONS.get(name)
    return question.answer_text(value) if question else value


def one_line(text: Any, width: int) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def table_text(rows: list[Message]) -> str:
    columns = [
        ("id", 26),
        ("received_at", 24),
        ("state", 19),
        ("delivery", 16),
        ("name", 24),
        ("email", 30),
        ("message", 40),
    ]
    lines = ["  ".join(name.ljust(width) for name, width in columns)]
    for row in rows:
        record = dataclasses.asdict(row) | {"state": row.shown.value, "delivery": row.alert_fate}
        lines.append("  ".join(one_line(record[name], width).ljust(width) for name, width in columns))
    return "\n".join(line.rstrip() for line in lines)


def get_message(dynamodb: Any, table: str, message_id: str) -> Message:
    message = MessageStore(dynamodb, table).get(message_id)
    if message is None:
        raise AdminError(f"no message has the id {message_id}")
    return message


def confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise AdminError("refusing to delete without confirmation: pass --yes")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def notify_settings() -> AlertSettings:
    """What an alert needs, read from the same variables, by the same rules, as the function."""
    try:
        return alert_settings(os.environ)
    except ConfigError as error:
        raise AdminError(f"resend needs the stack's alert settings: {error}") from None


def resend(dynamodb: Any, ses: Any, table: str, message_id: str, out: TextIO) -> None:
    """The alert again, as the next attempt: tagged as such, so that SES's reports of it replace the last one's."""
    message = get_message(dynamodb, table, message_id)
    settings = notify_settings()
    attempt = message.notify_attempts + 1
    tags = notification.EmailTags(notification.EmailKind.ALERT, message.id, attempt)
    try:
        notification.send(ses, notification.notification(message, settings), settings.notify_email, settings, tags)
    except notification.NotificationFailed as error:
        raise AdminError(f"SES did not send it: {error.code}") from None
    MessageStore(dynamodb, table).mark_sent(message_id, attempt)
    print(f"sent the alert for {message_id} again", file=out)
    if message.alert_fate in (AlertDelivery.BOUNCED, AlertDelivery.COMPLAINED):
        # SES keeps a bounced or complaining address on the account's suppression list, and
        # then drops every email to it (reporting a bounce) until it is taken off.
        print(
            "its last alert bounced or was reported as spam: if SES put the address on the account's "
            "suppression list, take it off (aws sesv2 delete-suppressed-destination --email-address ADDRESS)",
            file=out,
        )
    if settings.ses_configuration_set is None:
        print("SES_CONFIGURATION_SET is not set: SES will not report what becomes of this alert", file=out)


def run(args: argparse.Namespace, out: TextIO) -> None:
    dynamodb, ses, table = connect(args)
    if args.command == "list":
        rows = []
        for row in messages(dynamodb, table, args.since, args.status):
            rows.append(row)
            if len(rows) >= args.limit:
                break
        print(table_text(rows) if rows else "no messages", file=out)
    elif args.command == "show":
        message = get_message(dynamodb, table, args.id)
        record = dataclasses.asdict(message)
        for name in export.FIELDS:
            if record[name] is not None and name != "message":
                print(f"{name}: {shown(name, record[name])}", file=out)
        print(f"delivery: {delivery_summary(message)}", file=out)
        print(f"\n{message.message}", file=out)
    elif args.command == "export":
        records = [export.record(row) for row in messages(dynamodb, table, args.since)]
        with (
            open(args.output, "w", encoding="utf-8", newline="") if args.output else contextlib.nullcontext(out)
        ) as target:
            if args.format == "json":
                json.dump(records, target, ensure_ascii=False, indent=2)
                target.write("\n")
            else:
                export.write_csv(target, records)
        if args.output:
            print(f"exported {len(records)} message(s) to {args.output}", file=out)
    elif args.command == "delete":
        # As the function stored it: normalised, an IDN domain as punycode.
        wanted = (check_email(args.email)[0] or args.email).lower() if args.email else None
        ids = [args.id] if args.id else [row.id for row in messages(dynamodb, table) if row.email.lower() == wanted]
        if args.id:
            get_message(dynamodb, table, args.id)
        if not ids:
            print(f"no messages from {args.email}", file=out)
            return
        if not confirm(f"Erase {len(ids)} message(s) for good?", args.yes):
            print("nothing deleted", file=out)
            return
        for message_id in ids:
            dynamodb.delete_item(TableName=table, Key=message_key(message_id))
        print(f"deleted {len(ids)} message(s)", file=out)
    elif args.command == "resend":
        resend(dynamodb, ses, table, args.id, out)
    elif args.command == "stats":
        per_day: collections.Counter[str] = collections.Counter()
        per_status: collections.Counter[str] = collections.Counter()
        for row in messages(dynamodb, table):
            per_day[row.received_at[:10]] += 1
            per_status[row.notify_status] += 1
        print("per day:", file=out)
        for day in sorted(per_day):
            print(f"  {day}  {per_day[day]}", file=out)
        print("per status:", file=out)
        for status in sorted(per_status):
            print(f"  {status:<9} {per_status[status]}", file=out)


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = build_parser().parse_args(argv)
    try:
        run(args, sys.stdout)
    except AdminError as error:
        print(f"contact-admin: {error}", file=sys.stderr)
        return 1
    except (StorageUnavailable, BotoCoreError, ClientError) as error:
        # The store's own calls chain what AWS said.
        cause = error.__cause__ if isinstance(error, StorageUnavailable) else error
        print(f"contact-admin: {aws_problem(args, cause)}", file=sys.stderr)
        return 1
    return 0


def aws_problem(args: argparse.Namespace, error: BaseException | None) -> str:
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: run `aws configure` or set AWS_PROFILE"
    if isinstance(error, ClientError):
        code = error.response["Error"].get("Code", "")
        if code == "ResourceNotFoundException":
            table = args.table or os.environ.get("CONTACT_TABLE_NAME") or LOCAL_TABLE
            return f"no table {table!r} in this account and region"
        return f"AWS refused: {code}: {error.response['Error'].get('Message', '')}"
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
