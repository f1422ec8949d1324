"""Messages as CSV, for ``contact-admin export`` and the inbox's export: the same columns, and
every cell safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from typing import Any, TextIO

from handler.message import FIELD_NAMES, Message

# Every field but the keyed hash of the client address (of no use to a person) and the
# alert's bookkeeping (contact-admin show tells what became of the latest alert in one line).
FIELDS = tuple(
    name
    for name in FIELD_NAMES
    if name not in ("ip_hash", "notified_at", "last_error") and not name.startswith("alert_")
)


def record(message: Message) -> dict[str, Any]:
    """The exported fields of a message, by name."""
    return {name: value for name, value in dataclasses.asdict(message).items() if name in FIELDS}


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet will show as text: a visitor's ``=HYPERLINK(...)`` must not become a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(target: TextIO, records: Iterable[dict[str, Any]]) -> None:
    writer = csv.DictWriter(target, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows({name: spreadsheet_safe(value) for name, value in row.items()} for row in records)
