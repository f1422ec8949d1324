"""A load run against the whole local stack, then a check that nothing was lost or doubled.

Usage: ``python -m infra.load [--clients 20] [--seconds 30] [--contact-share 0.2]``.

Starts the local stack (``infra.local_stack``: moto's AWS and the function
behind the stand-in for API Gateway, both on 127.0.0.1, free ports) with the
articles compiled afresh into a temporary folder, then drives it with N
client threads, each on its own keep-alive connection, for S seconds (and at
most ``--max-requests`` requests in all). Each client mixes content reads
(``GET /articles``, an article, ``/feed.json``, ``/health``, and conditional
``If-None-Match`` reads that must get 304) with contact messages: unique ones
(so that duplicate detection never applies), and a few deliberate duplicates,
sent twice with the same ``Idempotency-Key``, sometimes by two clients at
once, which must give the same id.

At the end it checks, through moto's server (the table) and ``/dev/outbox``
(the emails), that there was no 5xx or transport error, that every 201 id is
exactly one stored message and exactly one email, and that the duplicates
added no item and no email. It prints requests per second overall and per
kind, latency percentiles per kind and the checks, and exits 1 if any check
fails.

All clients share 127.0.0.1, so the rate limit is raised for the run. The
clients, the API and moto all run in this one Python process: on a small
machine they share its cores and its GIL, so the numbers are a floor, useful
to compare runs, not a forecast of Lambda's throughput.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import json
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SLUG = "what-is-psychodynamic-therapy"
MAX_REQUESTS = 100_000
REQUEST_TIMEOUT_SECONDS = 30
# Of the contact posts after each client's first (which always is one), the share sent twice with one key.
DUPLICATE_SHARE = 0.05
# Of the duplicates, the share offered to the other clients (a resend that may race the original).
SHARED_DUPLICATE_SHARE = 0.5
# Of the content reads of a resource whose ETag the client knows, the share sent with If-None-Match.
CONDITIONAL_SHARE = 0.25
# What the stack reads from the environment, cleared before it starts and restored after it stops.
STACK_VARIABLES = (
    "CONTACT_TABLE_NAME", "SENDER_EMAIL", "SENDER_NAME", "NOTIFY_EMAIL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE", "CONTENT_DIR", "SITE_URL", "ALLOWED_ORIGINS", "IP_HASH_SECRET_ARN",
    "RATE_LIMIT_COUNT", "RATE_LIMIT_WINDOW_SECONDS", "NOTIFY_DETAIL", "SEND_ACKNOWLEDGEMENT", "TURNSTILE_SECRET_ARN",
    "THANK_YOU_URL",
)  # fmt: skip
STACK_ENVIRONMENT = {
    "RATE_LIMIT_COUNT": "0",  # no limit: every client is 127.0.0.1
    "NOTIFY_DETAIL": "full",  # the alert carries the message, so each can be found by its text
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}
ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
READS = [
    # kind, path, weight, conditional (has an ETag)
    ("articles", "/articles", 3, True),
    ("article", f"/articles/{SLUG}", 4, True),
    ("feed.json", "/feed.json", 2, True),
    ("health", "/health", 1, False),
]
KIND_ORDER = ["articles", "article", "feed.json", "health", "revalidate", "contact", "contact (same key)"]


@dataclass
class Contact:
    """One POST /contact as sent and answered."""

    token: str  # unique to the message (its text carries it), shared by a duplicate's two posts
    key: str | None  # the Idempotency-Key, for the deliberate duplicates
    status: int | None  # None: no answer (a transport error)
    message_id: str | None


@dataclass
class ClientResult:
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    contacts: list[Contact] = field(default_factory=list)
    connections: int = 0
    raced: int = 0  # resends of another client's duplicate


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Report:
    clients: int
    seconds: float  # asked for
    elapsed: float  # from the first request to the last answer
    samples: dict[str, list[tuple[float, float]]]  # per kind: (seconds into the run, latency in seconds)
    statuses: collections.Counter[tuple[str, int]]
    errors: collections.Counter[str]
    checks: list[Check]
    stored_messages: int = 0
    emails: int = 0
    duplicates: int = 0
    raced_duplicates: int = 0
    connections: int = 0
    aws_serialized: bool = True

    @property
    def ok(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def total(self) -> int:
        return sum(len(values) for values in self.samples.values()) + sum(self.errors.values())

    def format(self) -> str:
        lines = [
            (
                f"{self.clients} clients, {self.seconds:g} s asked, {self.elapsed:.1f} s run: "
                f"{self.total} requests, {self.total / self.elapsed if self.elapsed else 0:.1f} req/s"
            ),
            "",
            f"{'kind':<20}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses",
        ]
        kinds = [kind for kind in KIND_ORDER if kind in self.samples] + sorted(set(self.samples) - set(KIND_ORDER))
        for kind in kinds:
            values = sorted(latency for _, latency in self.samples[kind])
            statuses = ", ".join(
                f"{status}: {count}" for (name, status), count in sorted(self.statuses.items()) if name == kind
            )
            lines.append(
                f"{kind:<20}{len(values):>9}{len(values) / self.elapsed if self.elapsed else 0:>9.1f}"
                + "".join(f"{1000 * percentile(values, p):>9.1f}" for p in (50, 90, 99))
                + f"{1000 * values[-1]:>9.1f}  {statuses}"
            )
        if self.errors:
            lines.append(
                "transport errors: " + ", ".join(f"{name}: {count}" for name, count in sorted(self.errors.items()))
            )
        lines.append("")
        for kind in ("contact", "revalidate"):
            early, late = self.trend(kind)
            if early is not None and late is not None:
                lines.append(
                    f"{kind} p50 in the first fifth of the run {1000 * early:.1f} ms, in the last fifth {1000 * late:.1f} ms"
                )
        lines += [
            (
                f"stored messages {self.stored_messages}, emails {self.emails}, deliberate duplicates {self.duplicates} "
                f"({self.raced_duplicates} resent by another client), TCP connections opened {self.connections}"
            ),
            "moto: requests "
            + ("serialized (its DynamoDB is not thread-safe)" if self.aws_serialized else "NOT serialized"),
            "",
        ]
        for check in self.checks:
            lines.append(
                f"{'PASS' if check.passed else 'FAIL'}  {check.name}" + (f": {check.detail}" if check.detail else "")
            )
        lines.append("all checks passed" if self.ok else "SOME CHECKS FAILED")
        return "\n".join(lines)

    def trend(self, kind: str) -> tuple[float | None, float | None]:
        """The median latency of ``kind`` in the first and in the last fifth of the run."""
        samples = self.samples.get(kind, [])
        early = sorted(latency for at, latency in samples if at < self.elapsed / 5)
        late = sorted(latency for at, latency in samples if at >= self.elapsed * 4 / 5)
        return (percentile(early, 50) if early else None, percentile(late, 50) if late else None)


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile of a sorted, non-empty list."""
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


class Shared:
    """What the client threads share: the clock, the request budget, the duplicates on offer."""

    def __init__(
        self, host: str, port: int, seconds: float, max_requests: int, contact_share: float, seed: int
    ) -> None:
        self.host, self.port = host, port
        self.contact_share = contact_share
        self.seed = seed
        self.run_id = secrets.token_hex(4)
        self.budget = itertools.count()  # next() is atomic in CPython
        self.max_requests = max_requests
        self.start = time.monotonic()
        self.start_perf = time.perf_counter()
        self.deadline = self.start + seconds
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.offered: collections.deque[tuple[str, str, bytes]] = collections.deque()  # (token, key, body)

    def may_send(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.deadline and next(self.budget) < self.max_requests

    def take_offered(self) -> tuple[str, str, bytes] | None:
        with self.lock:
            return self.offered.popleft() if self.offered else None

    def withdraw(self, offer: tuple[str, str, bytes]) -> bool:
        """True if the offer was still there (no other client took it)."""
        with self.lock:
            try:
                self.offered.remove(offer)
            except ValueError:
                return False
            return True


class Client:
    def __init__(self, number: int, shared: Shared) -> None:
        self.number = number
        self.shared = shared
        self.random = random.Random(shared.seed * 1000 + number)
        self.connection: http.client.HTTPConnection | None = None
        self.etags: dict[str, str] = {}
        self.sent = 0
        self.result = ClientResult()

    def run(self) -> None:
        try:
            while True:
                offer = self.shared.take_offered()
                if offer is not None:
                    if not self.shared.may_send():
                        break
                    self.result.raced += 1
                    self.post_contact(*offer, kind="contact (same key)")
                    continue
                if not self.shared.may_send():
                    break
                if self.random.random() < self.shared.contact_share:
                    self.contact()
                else:
                    self.read()
        finally:
            if self.connection is not None:
                self.connection.close()

    def request(self, kind: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                retry: bool = False) -> tuple[int, dict[str, str], bytes] | None:  # fmt: skip
        """One request; None on a transport error (counted).

        The connection is kept for the next request while the server keeps it
        open (werkzeug's development server closes it after every answer).
        """
        for attempt in range(2 if retry else 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.shared.host, self.shared.port, timeout=REQUEST_TIMEOUT_SECONDS
                )
                self.result.connections += 1
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.connection = None
                # A keep-alive connection the server dropped between two requests: a read can go again.
                if (
                    retry
                    and attempt == 0
                    and isinstance(error, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
                ):
                    continue
                self.result.errors[f"{kind}: {type(error).__name__}"] += 1
                return None
            elapsed = time.perf_counter() - started
            if response.will_close:  # werkzeug's server closes every connection after one answer
                self.connection.close()
                self.connection = None
            self.result.samples[kind].append((started - self.shared.start_perf, elapsed))
            self.result.statuses[(kind, response.status)] += 1
            return response.status, {name.lower(): value for name, value in response.getheaders()}, data
        return None

    def read(self) -> None:
        kind, path, _, conditional = self.random.choices(READS, weights=[weight for _, _, weight, _ in READS])[0]
        if conditional and path in self.etags and self.random.random() < CONDITIONAL_SHARE:
            self.request("revalidate", "GET", path, headers={"If-None-Match": self.etags[path]}, retry=True)
            return
        answer = self.request(kind, "GET", path, retry=True)
        if answer is not None and answer[0] == 200 and "etag" in answer[1]:
            self.etags[path] = answer[1]["etag"]

    def contact(self) -> None:
        self.sent += 1
        token = f"load-{self.shared.run_id}-{self.number}-{self.sent}"
        fields = {
            "name": f"Load Client {self.number}",
            "email": f"load.{self.number}.{self.sent}@example.org",
            "message": f"Hello, this is a load test message ({token}).\nDo you have evening slots?",
            "consent": True,
        }
        body = json.dumps(fields).encode()
        duplicate = self.sent == 1 or self.random.random() < DUPLICATE_SHARE
        if not duplicate:
            self.post_contact(token, None, body, kind="contact")
            return
        key = f"{token}-key"
        offer = (token, key, body)
        shared = self.random.random() < SHARED_DUPLICATE_SHARE
        if shared:
            # Offered before the original is sent: another client may send it at the same moment.
            with self.shared.lock:
                self.shared.offered.append(offer)
        self.post_contact(token, key, body, kind="contact")
        if not shared or self.shared.withdraw(offer):
            # Nobody took it: this client sends it again itself, as a retry would (within the budget, a
            # moment past the deadline at worst).
            if next(self.shared.budget) >= self.shared.max_requests:
                return
            self.post_contact(token, key, body, kind="contact (same key)")

    def post_contact(self, token: str, key: str | None, body: bytes, kind: str) -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        answer = self.request(kind, "POST", "/contact", body=body, headers=headers)
        message_id = None
        if answer is not None and answer[0] in (201, 202):
            try:
                message_id = json.loads(answer[2])["id"]
            except (ValueError, KeyError, TypeError):
                self.result.errors[f"{kind}: unreadable answer"] += 1
        self.result.contacts.append(Contact(token, key, answer[0] if answer else None, message_id))


class Sink:
    """Swallows the stack's request log (one printed line per request) while the load runs."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass


@contextmanager
def quiet_stdout(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    previous, sys.stdout = sys.stdout, Sink()
    try:
        yield
    finally:
        sys.stdout = previous


@contextmanager
def isolated_environment() -> Iterator[None]:
    """The stack configures itself through os.environ: start it from a clean slate, and put everything back."""
    saved = dict(os.environ)
    for name in STACK_VARIABLES:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        import boto3

        boto3.DEFAULT_SESSION = None  # it may hold the stopped stack's endpoint


def run(
    clients: int = 20,
    seconds: float = 30,
    contact_share: float = 0.2,
    *,
    max_requests: int = MAX_REQUESTS,
    content_dir: Path | None = None,
    seed: int | None = None,
    show_request_log: bool = False,
    serialize_aws: bool = True,
) -> Report:
    """Start the local stack, load it, check what it stored and sent, stop it; the report of it all.

    ``serialize_aws`` has moto's server answer one request at a time. Its
    DynamoDB is not thread-safe: ``transact_write_items`` deep-copies the
    table first and, when the transaction is cancelled (a duplicate's claim,
    say), puts that copy back, undoing whatever other requests wrote in the
    meantime; the copy can also fail outright ("dictionary changed size during
    iteration", a 500 that botocore retries). Real DynamoDB transactions are
    atomic and isolated, which serializing gives back; without it, messages
    that were answered 201 and emailed can vanish from the table.
    """
    if clients < 1 or seconds <= 0 or not 0 <= contact_share <= 1 or max_requests < 1:
        raise ValueError("clients >= 1, seconds > 0, 0 <= contact_share <= 1, max_requests >= 1")
    from infra import build_content, local_stack

    with tempfile.TemporaryDirectory(prefix="load-content-") as scratch, isolated_environment():
        if content_dir is None:
            content_dir = Path(scratch) / "compiled"
            build_content.build(ROOT / "content", content_dir)
        with quiet_stdout(not show_request_log):
            stack = local_stack.start(
                host="127.0.0.1",
                port=0,
                aws_port=0,
                environ={**STACK_ENVIRONMENT, "CONTENT_DIR": str(content_dir)},
                serialize_aws=serialize_aws,
            )
            try:
                host, port = stack.api.host, stack.api.port
                shared = Shared(
                    host,
                    port,
                    seconds,
                    max_requests,
                    contact_share,
                    random.randrange(1 << 30) if seed is None else seed,
                )
                report, contacts = drive(shared, clients, seconds)
                report.aws_serialized = serialize_aws
                verify(report, stack, os.environ["CONTACT_TABLE_NAME"], contacts)
            finally:
                stack.stop()
    return report


def drive(shared: Shared, clients: int, seconds: float) -> tuple[Report, list[Contact]]:
    """Run the clients to the deadline (or the request budget); the report so far, and every contact post."""
    workers = [Client(number, shared) for number in range(clients)]
    threads = [
        threading.Thread(target=worker.run, name=f"load-client-{worker.number}", daemon=True) for worker in workers
    ]
    shared.start, shared.start_perf = time.monotonic(), time.perf_counter()
    shared.deadline = shared.start + seconds
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            # Bounded: the deadline, then at most one request's timeout.
            thread.join(max(0.0, shared.deadline - time.monotonic()) + REQUEST_TIMEOUT_SECONDS + 5)
    except KeyboardInterrupt:
        shared.stop.set()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT_SECONDS + 5)
    elapsed = time.monotonic() - shared.start
    stuck = [thread.name for thread in threads if thread.is_alive()]
    shared.stop.set()

    samples: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    statuses: collections.Counter[tuple[str, int]] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    contacts: list[Contact] = []
    connections = raced = 0
    for worker in workers:
        for kind, values in list(worker.result.samples.items()):
            samples[kind].extend(values)
        statuses.update(worker.result.statuses)
        errors.update(worker.result.errors)
        contacts.extend(worker.result.contacts)
        connections += worker.result.connections
        raced += worker.result.raced
    checks = [Check("every client finished in time", not stuck, ", ".join(stuck))]
    report = Report(
        clients=clients,
        seconds=seconds,
        elapsed=elapsed,
        samples=dict(samples),
        statuses=statuses,
        errors=errors,
        checks=checks,
        duplicates=len(duplicate_tokens(contacts)),
        raced_duplicates=raced,
        connections=connections,
    )
    return report, contacts


def duplicate_tokens(contacts: list[Contact]) -> set[str]:
    """The messages posted twice with one Idempotency-Key."""
    posts = collections.Counter(contact.token for contact in contacts if contact.key is not None)
    return {token for token, count in posts.items() if count > 1}


def each_once(name: str, tokens: set[str], counts: collections.Counter[str]) -> Check:
    """The check that each of ``tokens`` was counted exactly once (naming the first few that were not)."""
    wrong = sorted(token for token in tokens if counts[token] != 1)
    return Check(name, not wrong, ", ".join(f"{token}: {counts[token]}" for token in wrong[:5]))


def verify(report: Report, stack: Any, table: str, contacts: list[Contact]) -> None:
    """Add the checks of what the stack answered, stored and sent to ``report``."""
    checks = report.checks
    server_errors = {f"{kind} {status}": count for (kind, status), count in report.statuses.items() if status >= 500}
    checks.append(
        Check("no 5xx", not server_errors, ", ".join(f"{name}: {n}" for name, n in sorted(server_errors.items())))
    )
    checks.append(
        Check(
            "no transport error",
            not report.errors,
            ", ".join(f"{name}: {n}" for name, n in sorted(report.errors.items())),
        )
    )
    expected = {"articles": {200}, "article": {200}, "feed.json": {200}, "health": {200}, "revalidate": {304}}
    unexpected = {
        f"{kind} {status}": count
        for (kind, status), count in report.statuses.items()
        if status < 500 and status not in expected.get(kind, {201})
    }
    checks.append(
        Check(
            "every read 200 (304 with If-None-Match), every contact 201",
            not unexpected,
            ", ".join(f"{name}: {n}" for name, n in sorted(unexpected.items())),
        )
    )

    # What the clients were told.
    ids_by_token: dict[str, set[str]] = collections.defaultdict(set)
    for contact in contacts:
        if contact.status == 201 and contact.message_id:
            ids_by_token[contact.token].add(contact.message_id)
    split = sorted(token for token, ids in ids_by_token.items() if len(ids) > 1)
    duplicates = duplicate_tokens(contacts)
    checks.append(
        Check(
            "both posts of each duplicate (same Idempotency-Key) got the same id",
            not split,
            f"{len(split)} of {len(duplicates)} got two ids, e.g. {split[:3]}"
            if split
            else f"{len(duplicates)} duplicates",
        )
    )
    answered_ids = set().union(*ids_by_token.values()) if ids_by_token else set()

    # What was stored: every message item in the table, through moto's server.
    items = scan_messages(stack.aws_url, table)
    report.stored_messages = len(items)
    stored_ids = collections.Counter(item["id"]["S"] for item in items)
    stored_by_token: collections.Counter[str] = collections.Counter()
    for item in items:
        for token in re.findall(r"load-[0-9a-f]+-\d+-\d+", item.get("message", {}).get("S", "")):
            stored_by_token[token] += 1
    not_stored = sorted(i for i in answered_ids if stored_ids[i] == 0)
    doubled = sorted(i for i, n in stored_ids.items() if n > 1)
    extra = sorted(set(stored_ids) - answered_ids)
    checks.append(
        Check(
            "every 201 id is exactly one stored message, and no other message is stored",
            not (not_stored or doubled or extra),
            f"{len(answered_ids)} ids, {len(items)} items; missing {len(not_stored)}, doubled {len(doubled)}, "
            f"unanswered {len(extra)}",
        )
    )
    checks.append(each_once("each duplicate stored once", duplicates, stored_by_token))
    unsent = collections.Counter(
        item.get("notify_status", {}).get("S") for item in items if item["id"]["S"] in answered_ids
    )
    unsent.pop("sent", None)
    checks.append(
        Check(
            "every stored message marked sent",
            not unsent,
            ", ".join(f"{s}: {n}" for s, n in sorted(unsent.items(), key=str)),
        )
    )

    # What was sent: the emails in moto's SES, through the stack's /dev/outbox.
    emails = outbox(stack.url)
    report.emails = len(emails)
    emails_by_id: collections.Counter[str] = collections.Counter()
    emails_by_token: collections.Counter[str] = collections.Counter()
    for mail in emails:
        text = mail.get("text") or ""
        for found in set(ULID.findall(text)) & answered_ids:
            emails_by_id[found] += 1
        for token in set(re.findall(r"load-[0-9a-f]+-\d+-\d+", text)):
            emails_by_token[token] += 1
    no_email = sorted(i for i in answered_ids if emails_by_id[i] == 0)
    many = sorted(i for i, n in emails_by_id.items() if n > 1)
    checks.append(
        Check(
            "every 201 id is in exactly one email, and no other email was sent",
            not (no_email or many or len(emails) != len(answered_ids)),
            f"{len(answered_ids)} ids, {len(emails)} emails; without an email {len(no_email)}, in several {len(many)}",
        )
    )
    checks.append(each_once("each duplicate emailed once", duplicates, emails_by_token))


def scan_messages(aws_url: str, table: str) -> list[dict[str, Any]]:
    import boto3

    client = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
    ).client("dynamodb", endpoint_url=aws_url)
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items += [item for item in page["Items"] if item["pk"]["S"].startswith("MSG#")]
    return items


def outbox(base_url: str) -> list[dict[str, Any]]:
    parts = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=120)
    try:
        connection.request("GET", "/dev/outbox")
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"/dev/outbox answered {response.status}")
        emails: list[dict[str, Any]] = json.loads(response.read())["emails"]
        return emails
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients, each a thread (default 20)")
    parser.add_argument("--seconds", type=float, default=30, help="how long to send for (default 30)")
    parser.add_argument(
        "--contact-share", type=float, default=0.2, help="share of requests that post a message (default 0.2)"
    )
    parser.add_argument(
        "--max-requests", type=int, default=MAX_REQUESTS, help=f"at most this many requests (default {MAX_REQUESTS})"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed the clients' choices, for a repeatable mix")
    parser.add_argument("--request-log", action="store_true", help="print the stack's request log (one line a request)")
    parser.add_argument(
        "--concurrent-moto",
        action="store_true",
        help="let moto's server answer requests concurrently (its DynamoDB then loses writes: see run())",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or not 0 <= args.contact_share <= 1 or args.max_requests < 1:
        parser.error("--clients and --max-requests at least 1, --seconds above 0, --contact-share from 0 to 1")
    print(
        f"load: {args.clients} clients for {args.seconds:g} s, contact share {args.contact_share:g} ...",
        file=sys.stderr,
    )
    report = run(
        args.clients,
        args.seconds,
        args.contact_share,
        max_requests=args.max_requests,
        seed=args.seed,
        show_request_log=args.request_log,
        serialize_aws=not args.concurrent_moto,
    )
    print(report.format())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
