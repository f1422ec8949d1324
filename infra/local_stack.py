"""The whole stack on this machine: moto's AWS, and the function on http://127.0.0.1:3000.

moto's server runs in this process (``ThreadedMotoServer`` on 127.0.0.1, a
free port); the contact table is created from ``template.yaml`` and the
sender verified in its SES, the secret that keys the hash of client addresses
put in its Secrets Manager. Each HTTP request becomes an HTTP API payload 2.0
event (the format the template's API sends, form bodies base64-encoded as API
Gateway does) and goes through ``handler.main.lambda_handler``: the same entry
point as on Lambda, pointed at moto by ``AWS_ENDPOINT_URL``. No AWS account,
no Docker, no Java.

Usage: ``python -m infra.local_stack [--host 127.0.0.1] [--port 3000]``.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.header
import email.message
import email.policy
import importlib
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from moto.server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from infra.aws_template import create_contact_table

ROOT = Path(__file__).resolve().parent.parent
TEXT_TYPES = ("application/json", "text/")
SIGN_IN_TOKEN = re.compile(r"^/inbox/login/[^/]+$")  # kept out of the request log
# The example website page (examples/), served at the API's own origin.
EXAMPLE_FILES = {"/": ("index.html", "text/html"), "/practice.js": ("practice.js", "text/javascript")}
SAMPLE_MESSAGES = [
    ("Sam Rivera", "sam@example.org", "Hello, I am looking for a therapist for anxiety. Do you have evening slots?"),
    ("Zoë Ærø", "zoe@example.org", "Bonjour! I would like to know more about psychodynamic therapy.\nMerci."),
    (
        "Alex Kim",
        "alex@example.org",
        "Could we talk about fees and availability? Phone is best.",
    ),
]

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def to_event(request: Request) -> dict[str, Any]:
    """An HTTP API payload 2.0 event for ``request``."""
    body = request.get_data()
    content_type = request.headers.get("Content-Type", "")
    binary = bool(body) and not content_type.startswith(TEXT_TYPES)
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        if name.lower() != "cookie":
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers["x-forwarded-proto"] = request.scheme
    headers["x-forwarded-port"] = str(request.environ.get("SERVER_PORT", ""))
    raw_path = quote(request.path, safe="/:@!$&'()*+,;=-._~")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": request.query_string.decode("latin-1"),
        "cookies": [c.strip() for c in request.headers.get("Cookie", "").split(";") if c.strip()] or None,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": os.urandom(8).hex(),
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode("ascii") if binary else body.decode("utf-8", "replace"),
        "isBase64Encoded": binary,
    }


def to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    response = Response(data, status=result["statusCode"])
    response.headers.clear()
    for name, value in (result.get("headers") or {}).items():
        response.headers.add(name, value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, value)
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


def as_read(raw_headers: email.message.Message, name: str) -> str | None:
    """A header as a mail reader shows it: RFC 2047 words decoded, the white
    space between them dropped (``email.policy.default`` keeps some of it in
    address headers). ``raw_headers`` is parsed with compat32, which keeps values raw."""
    value = raw_headers.get(name)
    return None if value is None else str(email.header.make_header(email.header.decode_header(value)))


def outbox() -> list[dict[str, Any]]:
    """The emails moto's SES has "sent", newest first: what the therapist would receive."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].sent_messages
    emails = []
    for raw in reversed(sent):
        unix_lines = raw.raw_data.replace("\r\n", "\n")
        parsed = email.message_from_string(unix_lines, policy=email.policy.default)
        raw_headers = email.message_from_string(unix_lines)
        text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
        emails.append(
            {
                "ses_message_id": raw.id,
                "from": as_read(raw_headers, "From"),
                "to": [str(address) for address in parsed["To"].addresses],
                "reply_to": as_read(raw_headers, "Reply-To"),
                "subject": str(parsed["Subject"]),
                "date": str(parsed["Date"]),
                "text": text.get_content() if text else None,
                "html": html.get_content() if html else None,
            }
        )
    return emails


def gateway(lambda_handler: LambdaHandler) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that plays API Gateway in front of ``lambda_handler``, plus the local-only pages."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        # Local only: these live here, in infra/, never in the function's package.
        if request.path == "/dev/outbox" and request.method == "GET":
            local = Response(json.dumps({"emails": outbox()}, ensure_ascii=False), mimetype="application/json")
            return local(environ, start_response)
        if request.path in EXAMPLE_FILES and request.method == "GET":
            name, mimetype = EXAMPLE_FILES[request.path]
            page = Response((ROOT / "examples" / name).read_bytes(), mimetype=mimetype)
            page.headers["Cache-Control"] = "no-store"
            return page(environ, start_response)
        result = lambda_handler(to_event(request), None)
        # Method, path and status only: no client address, no query, no body, no sign-in token.
        path = SIGN_IN_TOKEN.sub("/inbox/login/<token>", request.path)
        print(f"{request.method} {path} {result['statusCode']} {1000 * (time.perf_counter() - started):.1f} ms")
        return to_response(result)(environ, start_response)

    return app


# moto's account; the suffix is the six characters Secrets Manager appends to a name.
LOCAL_IP_HASH_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:practice/ip-hash-secret-LoCaL1"

LOCAL_SETTINGS = {
    "CONTACT_TABLE_NAME": "contact-messages",
    "SENDER_EMAIL": "website@practice.example",
    "SENDER_NAME": "Website contact form (local)",
    "IP_HASH_SECRET_ARN": LOCAL_IP_HASH_SECRET_ARN,
    "NOTIFY_EMAIL": "therapist@practice.example",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}


@dataclass
class LocalStack:
    api: BaseWSGIServer
    aws: ThreadedMotoServer
    aws_url: str

    @property
    def url(self) -> str:
        return f"http://{self.api.host}:{self.api.port}"

    def stop(self) -> None:
        self.api.shutdown()
        self.api.server_close()
        # moto keeps its state in this process: clear it, so that a new stack starts empty.
        urllib.request.urlopen(urllib.request.Request(f"{self.aws_url}/moto-api/reset", method="POST"), timeout=10)
        self.aws.stop()


def one_at_a_time(server: ThreadedMotoServer) -> None:
    """Have moto's server answer one request at a time.

    DynamoDB applies each request atomically; moto's in-process DynamoDB does
    not under concurrent requests (a transaction copies the whole table and
    puts the copy back when it is cancelled, erasing what others wrote
    meanwhile), so without this, concurrent posts could lose messages here
    that AWS would keep.
    """
    werkzeug_server = server._server  # ThreadedMotoServer has no public hook; its handler reads .app per request
    if werkzeug_server is None:
        raise RuntimeError("moto's server is not running")
    app = werkzeug_server.app
    lock = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    werkzeug_server.app = serialized


def put_secret(secretsmanager: Any, arn: str, value: str) -> None:
    """Store ``value`` in moto's Secrets Manager under exactly ``arn``, as the template's
    parameters name a secret (moto takes the ARN's suffix from the ``_custom_id_`` tag)."""
    name, _, suffix = arn.split(":secret:", 1)[1].rpartition("-")
    created = secretsmanager.create_secret(
        Name=name, SecretString=value, Tags=[{"Key": "_custom_id_", "Value": suffix}]
    )
    if created["ARN"] != arn:
        raise RuntimeError(f"moto named the secret {created['ARN']}, not {arn}")


def start_aws(host: str, port: int, serialize: bool = True) -> tuple[ThreadedMotoServer, str]:
    """moto's server (port 0: a free one), with the table, the verified sender and the secret."""
    import boto3

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    if serialize:
        one_at_a_time(server)
    aws_host, aws_port = server.get_host_and_port()
    url = f"http://{aws_host}:{aws_port}"
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=LOCAL_SETTINGS["AWS_DEFAULT_REGION"]
    )
    create_contact_table(session.client("dynamodb", endpoint_url=url), os.environ["CONTACT_TABLE_NAME"])
    session.client("ses", endpoint_url=url).verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
    # A new secret each run: local addresses are hashed, but nothing needs them to match later
    # (and the inbox's key is derived from it: a restart signs the inbox out).
    put_secret(
        session.client("secretsmanager", endpoint_url=url), os.environ["IP_HASH_SECRET_ARN"], secrets.token_hex(32)
    )
    return server, url


def start(
    host: str = "127.0.0.1",
    port: int = 3000,
    environ: dict[str, str] | None = None,
    aws_port: int = 0,
    serialize_aws: bool = True,
) -> LocalStack:
    """Start moto, configure the function for it, import it, and serve it on a background thread."""
    # Bound first (port 0 picks a free port), so that the function's settings
    # can name it; its app is set once the function is imported, below.
    api = make_server(host, port, None, threaded=True)  # type: ignore[arg-type]
    os.environ.setdefault("CONTENT_DIR", str(ROOT / "build" / "content"))
    os.environ.setdefault("SITE_URL", f"http://{host}:{api.port}")
    os.environ.setdefault("ALLOWED_ORIGINS", f"http://{host}:{api.port}")
    os.environ.setdefault("INBOX_URL", f"http://{host}:{api.port}")
    for name, value in LOCAL_SETTINGS.items():
        os.environ.setdefault(name, value)
    os.environ.update(environ or {})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its request log names client addresses
    aws, aws_url = start_aws(host, aws_port, serialize_aws)
    os.environ["AWS_ENDPOINT_URL"] = aws_url
    # Imported (or re-imported) once the environment is set: it configures the app.
    entry_point = importlib.reload(importlib.import_module("handler.main"))
    api.app = gateway(entry_point.lambda_handler)
    threading.Thread(target=api.serve_forever, name="local-api", daemon=True).start()
    return LocalStack(api=api, aws=aws, aws_url=aws_url)


def seed_messages(base_url: str, count: int) -> None:
    """Post sample messages over HTTP, as a visitor would, so the outbox has something to show."""
    for number in range(count):
        name, address, text = SAMPLE_MESSAGES[number % len(SAMPLE_MESSAGES)]
        body = json.dumps({"name": name, "email": address, "message": f"{text} (sample {number + 1})", "consent": True})
        request = urllib.request.Request(
            f"{base_url}/contact", data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        urllib.request.urlopen(request, timeout=10).read()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--seed-messages", type=int, default=0, metavar="N", help="post N sample messages at start")
    parser.add_argument("--aws-port", type=int, default=3001, help="moto's port (contact-admin --local uses 3001)")
    args = parser.parse_args(argv)
    stack = start(args.host, args.port, aws_port=args.aws_port)
    base = stack.url
    seed_messages(base, args.seed_messages)
    print(f"Serving the API at {base} (Ctrl-C stops); moto's AWS at {stack.aws_url}")
    print(f"  {base}/  (an example page: the article, and the contact form with and without JavaScript)")
    for path in ("/health", "/articles", "/articles/what-is-psychodynamic-therapy", "/feed.json", "/feed.xml"):
        print(f"  {base}{path}")
    print(f"  {base}/contact  (POST a message; GET gives the form's definition)")
    inbox_emails = os.environ.get("INBOX_EMAILS") or os.environ["NOTIFY_EMAIL"]
    print(f"  {base}/inbox  (the therapist's inbox: sign in as {inbox_emails}, the link is in the outbox)")
    print(f"  {base}/dev/outbox  (the emails SES would have sent, newest first; local only)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
