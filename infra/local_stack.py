"""Serve the function on http://127.0.0.1:3000, as an HTTP API would invoke it.

Each HTTP request becomes an HTTP API payload 2.0 event (the format the
template's API sends, form bodies base64-encoded as API Gateway does) and goes
through ``handler.main.lambda_handler``: the same entry point as on Lambda.

Usage: ``python -m infra.local_stack [--host 127.0.0.1] [--port 3000]``.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parent.parent
TEXT_TYPES = ("application/json", "text/")

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


def gateway(lambda_handler: LambdaHandler) -> Callable[..., Iterable[bytes]]:
    """A WSGI app that plays API Gateway in front of ``lambda_handler``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        result = lambda_handler(to_event(request), None)
        # Method, path and status only: no client address, no query, no body.
        print(f"{request.method} {request.path} {result['statusCode']} {1000 * (time.perf_counter() - started):.1f} ms")
        return to_response(result)(environ, start_response)

    return app


def start(host: str = "127.0.0.1", port: int = 3000, environ: dict[str, str] | None = None) -> BaseWSGIServer:
    """Configure the function, import it, and serve it on a background thread."""
    server = make_server(host, port, None, threaded=True)  # bound first: port 0 picks a free port
    os.environ.setdefault("CONTENT_DIR", str(ROOT / "build" / "content"))
    os.environ.setdefault("SITE_URL", f"http://{host}:{server.port}")
    os.environ.update(environ or {})
    # Imported (or re-imported) once the environment is set: it configures the app.
    entry_point = importlib.reload(importlib.import_module("handler.main"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its request log names client addresses
    server.app = gateway(entry_point.lambda_handler)
    threading.Thread(target=server.serve_forever, name="local-api", daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    args = parser.parse_args(argv)
    server = start(args.host, args.port)
    base = f"http://{args.host}:{server.port}"
    print(f"Serving the API at {base} (Ctrl-C stops)")
    for path in ("/health", "/articles", "/articles/what-is-psychodynamic-therapy", "/feed.json", "/feed.xml"):
        print(f"  {base}{path}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
