"""``make bench``: speed as ratios against a minimal Flask app measured in the same run.

Measures the built function (``build/function``, copied and byte-compiled
with this interpreter, as a package shipping its ``.pyc`` files would be):

- cold start: a fresh interpreter imports the handler and answers
  ``GET /articles/<slug>``, against a minimal Flask app on aws-lambda-wsgi
  answering a constant JSON; timed inside the process, from the first import
  to the answer, median of several runs;
- warm per-request time of ``GET /articles/<slug>`` and ``GET /articles``
  against the minimal app's route;
- the adapter alone: aws-lambda-wsgi as it is, wrapped by our shim, and
  apig-wsgi, each serving the same minimal app;
- ``POST /contact``: its AWS calls, and its own work against a JSON echo route;
- content build time, package size and peak memory.

Prints a table, with each target and whether it is met, and writes it into
docs/performance.md between the bench markers (what the targets mean is said
there).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = ROOT / "build" / "function"
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
BENCH_MARKERS = re.compile(r"(<!-- bench:start -->\n).*?(<!-- bench:end -->)", re.DOTALL)
SLUG = "what-is-psychodynamic-therapy"
COLD_RUNS = 25
WARM_REQUESTS = 1000
WARM_REPEATS = 25
CONTACT_REQUESTS = 100
# Targets, as ratios to the minimal app measured in the same run (docs/performance.md says why).
COLD_START_TARGET = 1.15
LIBRARY_GROWTH_TARGET = 1.2  # a cold start with 10,000 articles against 1
WARM_CONTENT_TARGET = 1.5
CONTACT_AWS_CALLS_TARGET = 3
CONTACT_OWN_WORK_GUARD = 3.5  # a regression guard: AWS's round trips, not this, set the visitor's wait

MINIMAL_APP = textwrap.dedent(
    """
    import aws_lambda_wsgi
    from flask import Flask, jsonify, request

    app = Flask(__name__)


    @app.get("/articles/<slug>")
    def article(slug):
        return jsonify(slug=slug, title="A constant answer")


    @app.post("/echo")
    def echo():
        return jsonify(request.get_json())


    def lambda_handler(event, context):
        return aws_lambda_wsgi.response(app, event, context)
    """
)

COLD_PROBE = textwrap.dedent(
    """
    import json, sys, time
    started = time.perf_counter()
    from {module} import lambda_handler
    result = lambda_handler(json.loads(sys.argv[1]), None)
    elapsed = time.perf_counter() - started
    assert result["statusCode"] == 200, result
    heavy = [name for name in ("boto3", "botocore", "markdown_it", "yaml") if name in sys.modules]
    for _ in range(200):  # then keep serving, for the peak memory of a warm instance
        lambda_handler(json.loads(sys.argv[1]), None)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the process that started this one.
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({{"seconds": elapsed, "heavy": heavy, "peak_kib": peak_kib}}))
    """
)


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, its figures, the result, and its target if it has one."""

    measure: str
    figures: str
    result: str
    target: str = ""
    met: bool = True


def compared(measure: str, figures: str, ours: float, baseline: float, at_most: float | None = None) -> Row:
    """A ratio row, judged against ``at_most`` as the table shows it (to two decimals)."""
    ratio = round(ours / baseline, 2)
    if at_most is None:
        return Row(measure, figures, f"{ratio:.2f}x")
    return Row(measure, figures, f"{ratio:.2f}x", f"at most {at_most}x", ratio <= at_most)


def rest_event(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    """A REST API (v1) event: the one shape the unwrapped baseline understands."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {
            "Accept": "application/json",
            "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "Origin": "https://www.practice.example",
            "X-Forwarded-For": "198.51.100.23",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
        },
        "multiValueHeaders": None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": None,
        "requestContext": {"identity": {"sourceIp": "198.51.100.23"}, "stage": "prod", "httpMethod": "GET"},
        "body": None,
        "isBase64Encoded": False,
    }


def post_event(path: str, body: dict[str, Any], source_ip: str) -> dict[str, Any]:
    event = rest_event(path)
    event["httpMethod"] = event["requestContext"]["httpMethod"] = "POST"
    event["headers"]["Content-Type"] = "application/json"
    event["requestContext"]["identity"]["sourceIp"] = source_ip
    event["body"] = json.dumps(body)
    return event


def contact_rows(lambda_handler: Callable[..., Any], minimal_handler: Callable[..., Any]) -> list[Row]:
    """``POST /contact``: the AWS calls of its happy path, counted on moto; and the function's own
    work (its time outside the AWS calls, timed around them) against a minimal JSON echo route.

    The own work is timed with botocore's Stubber answering, not moto: moto's in-process
    tables make garbage that Python collects during the function's own code, which a
    real AWS call never does.
    """
    import boto3
    from botocore.stub import Stubber
    from moto import mock_aws

    from handler.main import app
    from infra.aws_template import create_contact_table
    from infra.local_stack import put_secret

    message = {
        "name": "Alex Example",
        "email": "alex@example.org",
        "preferred_contact": "email",
        "message": "Hello,\nI would like to ask about starting therapy. " * 10,
        "consent": True,
    }
    events = iter(
        post_event("/contact", {**message, "message": f"{message['message']} #{n}"}, f"198.51.{n // 250}.{n % 250}")
        for n in range(100_000)
    )
    clients = app.extensions["aws"]
    calls: list[str] = []
    parameters: dict[str, dict[str, Any]] = {}  # the last call of each operation, for the third row
    inside_aws = [0.0]

    def timed(client: Any, operation: str) -> None:
        """Time around each call of ``operation``, as the function makes it."""
        call = getattr(client, operation)

        def around(**kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(**kwargs)
            finally:
                inside_aws[0] += time.perf_counter() - started
                calls.append(operation)
                parameters[operation] = kwargs

        setattr(client, operation, around)

    def stubbed(dynamodb: Any, ses: Any) -> None:
        for _ in range(CONTACT_REQUESTS):
            dynamodb.add_response("transact_write_items", {})
            ses.add_response("send_raw_email", {"MessageId": "stubbed"})
            dynamodb.add_response("update_item", {})

    with mock_aws():
        create_contact_table(boto3.client("dynamodb", region_name="us-east-1"), os.environ["CONTACT_TABLE_NAME"])
        secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
        put_secret(secretsmanager, os.environ["IP_HASH_SECRET_ARN"], "bench-only-secret-0123456789")
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
        timed(clients.dynamodb, "transact_write_items")
        timed(clients.dynamodb, "update_item")
        timed(clients.ses, "send_raw_email")
        assert lambda_handler(next(events), None)["statusCode"] == 201
        happy_path = list(calls)

    echo_event = post_event("/echo", message, "198.51.100.1")
    best_own = best_echo_after_calls = float("inf")
    for _ in range(WARM_REPEATS):
        with Stubber(clients.dynamodb) as dynamodb, Stubber(clients.ses) as ses:
            stubbed(dynamodb, ses)
            batch = [next(events) for _ in range(CONTACT_REQUESTS)]
            inside_aws[0] = 0.0
            started = time.perf_counter()
            for event in batch:
                lambda_handler(event, None)
            total = time.perf_counter() - started
        best_own = min(best_own, (total - inside_aws[0]) / CONTACT_REQUESTS)
        # The echo route, each request after the same three calls (untimed):
        # how much slower Python runs just after botocore's work.
        with Stubber(clients.dynamodb) as dynamodb, Stubber(clients.ses) as ses:
            stubbed(dynamodb, ses)
            total = 0.0
            for _ in range(CONTACT_REQUESTS):
                clients.dynamodb.transact_write_items(**parameters["transact_write_items"])
                clients.ses.send_raw_email(**parameters["send_raw_email"])
                clients.dynamodb.update_item(**parameters["update_item"])
                started = time.perf_counter()
                minimal_handler(echo_event, None)
                total += time.perf_counter() - started
        best_echo_after_calls = min(best_echo_after_calls, total / CONTACT_REQUESTS)

    (echo,) = per_request(lambda: minimal_handler(echo_event, None))
    return [
        Row(
            "`POST /contact`: AWS calls on the happy path",
            ", ".join(happy_path),
            str(len(happy_path)),
            f"at most {CONTACT_AWS_CALLS_TARGET}",
            len(happy_path) <= CONTACT_AWS_CALLS_TARGET,
        ),
        compared(
            "`POST /contact`: the function's own work (outside AWS calls) vs a minimal JSON echo route",
            f"{best_own * 1e6:.0f} µs vs {echo * 1e6:.0f} µs",
            best_own,
            echo,
            CONTACT_OWN_WORK_GUARD,
        ),
        compared(
            "`POST /contact`: the same own work vs the echo route run just after the same three (stubbed) AWS calls",
            f"{best_own * 1e6:.0f} µs vs {best_echo_after_calls * 1e6:.0f} µs",
            best_own,
            best_echo_after_calls,
        ),
    ]


def generate_library(folder: Path, count: int) -> None:
    """``count`` made-up articles (the practice's own text is never used for this)."""
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n\n".join(f"## Section {n}\n\nGenerated paragraph {n} of a benchmark article." for n in range(8))
    for number in range(count):
        day = dt.date(2020, 1, 1) + dt.timedelta(days=number % 2000)
        (folder / f"bench-{number:05d}.md").write_text(
            f"---\ntitle: Benchmark article {number}\nslug: bench-{number:05d}\npublished: {day.isoformat()}\n"
            f"tags: [Bench, Tag {number % 7}]\n---\n\n{body}\n",
            encoding="utf-8",
        )


def build_rows(workdir: Path) -> tuple[list[Row], Path]:
    """Content build time per article for 10, 1,000 and 10,000 articles; returns the 10,000 build too."""
    from infra import build_content

    rows = []
    per_article = {}
    for count in (10, 1_000, 10_000):
        source = workdir / f"library-{count}"
        generate_library(source, count)
        started = time.perf_counter()
        build_content.build(source, workdir / f"compiled-{count}")
        per_article[count] = (time.perf_counter() - started) / count
    for count in (1_000, 10_000):
        rows.append(
            compared(
                f"content build time per article, {count:,} articles vs 10",
                f"{per_article[count] * 1000:.2f} ms vs {per_article[10] * 1000:.2f} ms",
                per_article[count],
                per_article[10],
            )
        )
    return rows, workdir / "compiled-10000"


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return f"{platform.machine()}, {os.cpu_count()} cores{', ' + model if model else ''}, Python {platform.python_version()}"


def prepare(workdir: Path) -> tuple[Path, Path]:
    """A byte-compiled copy of the built function, and the minimal app beside it."""
    function = workdir / "function"
    shutil.copytree(FUNCTION, function)
    compileall.compile_dir(function, quiet=1)
    baseline = workdir / "baseline"
    baseline.mkdir()
    (baseline / "minimal_app.py").write_text(MINIMAL_APP)
    compileall.compile_dir(baseline, quiet=1)
    return function, baseline


def cold_start(
    paths: list[Path], module: str, event: dict[str, Any], environment: dict[str, str], *flags: str
) -> dict[str, Any]:
    code = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n" + COLD_PROBE.format(module=module)
    completed = subprocess.run(
        [sys.executable, "-S", "-I", *flags, "-c", code, json.dumps(event)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ.get("PATH", ""), **environment},
    )
    measured: dict[str, Any] = json.loads(completed.stdout)
    return measured


def per_request(*calls: Callable[[], Any]) -> list[float]:
    """Seconds per call of each, timed in turns (so drift in the machine's speed hits all alike);
    the best of the repeats, so that pauses caused by other processes are left out."""
    for call in calls:
        for _ in range(200):
            call()
    best = [float("inf")] * len(calls)
    for _ in range(WARM_REPEATS):
        for position, call in enumerate(calls):
            started = time.perf_counter()
            for _ in range(WARM_REQUESTS):
                call()
            best[position] = min(best[position], (time.perf_counter() - started) / WARM_REQUESTS)
    return best


def run() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        function, baseline = prepare(Path(tmp))
        environment = {
            "CONTENT_DIR": str(function / "compiled_content"),
            "SITE_URL": "https://www.practice.example",
            "ALLOWED_ORIGINS": "https://www.practice.example",
            "CONTACT_TABLE_NAME": "contact-messages",
            "SENDER_EMAIL": "website@practice.example",
            "NOTIFY_EMAIL": "therapist@practice.example",
            # Read from moto's Secrets Manager with the first contact message (contact_rows).
            "IP_HASH_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/ip-hash-secret-BeNcH1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
        }
        article_event = rest_event(f"/articles/{SLUG}")

        build, library = build_rows(Path(tmp))
        # The same function, its content swapped for 10,000 generated articles.
        big = Path(tmp) / "function-10000"
        shutil.copytree(function, big, ignore=shutil.ignore_patterns("compiled_content"))
        shutil.copytree(library, big / "compiled_content")
        big_event = rest_event("/articles/bench-05000")
        # What Lambda runs when the package has no bytecode for its Python: its folder is read-only.
        uncompiled = Path(tmp) / "function-uncompiled"
        shutil.copytree(function, uncompiled, ignore=shutil.ignore_patterns("__pycache__"))
        ours, base, many, small_peak, base_peak, compiling = [], [], [], [], [], []
        for _ in range(COLD_RUNS):  # interleaved, so drift in the machine's speed hits all alike
            measured = cold_start([function], "handler.main", article_event, environment)
            if measured["heavy"]:
                raise SystemExit(f"serving content imported {measured['heavy']}")
            ours.append(measured["seconds"])
            small_peak.append(measured["peak_kib"])
            baseline_run = cold_start([baseline, function], "minimal_app", article_event, {})
            base.append(baseline_run["seconds"])
            base_peak.append(baseline_run["peak_kib"])
            big_environment = {**environment, "CONTENT_DIR": str(big / "compiled_content")}
            many.append(cold_start([big], "handler.main", big_event, big_environment)["seconds"])
            compiling.append(cold_start([uncompiled], "handler.main", article_event, environment, "-B")["seconds"])
        cold_ours, cold_base, cold_many = statistics.median(ours), statistics.median(base), statistics.median(many)
        rows.append(
            compared(
                f"cold start: import + `GET /articles/<slug>` (median of {COLD_RUNS})",
                f"{cold_ours * 1000:.1f} ms vs {cold_base * 1000:.1f} ms",
                cold_ours,
                cold_base,
                COLD_START_TARGET,
            )
        )
        rows.append(
            compared(
                "cold start with 10,000 articles vs with 1",
                f"{cold_many * 1000:.1f} ms vs {cold_ours * 1000:.1f} ms",
                cold_many,
                cold_ours,
                LIBRARY_GROWTH_TARGET,
            )
        )
        cold_compiling = statistics.median(compiling)
        rows.append(
            compared(
                "cold start without bytecode (a package with none for Lambda's Python) vs with",
                f"{cold_compiling * 1000:.1f} ms vs {cold_ours * 1000:.1f} ms",
                cold_compiling,
                cold_ours,
            )
        )
        small, base_app = statistics.median(small_peak), statistics.median(base_peak)
        rows.append(
            compared(
                "peak memory (VmHWM) after 200 `GET /articles/<slug>` vs the minimal app",
                f"{small / 1024:.1f} MiB vs {base_app / 1024:.1f} MiB",
                small,
                base_app,
            )
        )
        rows.extend(build)
        zip_size = FUNCTION.with_suffix(".zip").stat().st_size
        rows.append(Row("size of `build/function.zip`", f"{zip_size / 1024:.0f} KiB", "(50 MiB zip limit)"))

        # Warm: everything in this process, the built function first on the path.
        sys.path[:0] = [str(function), str(baseline)]
        os.environ.update(environment)
        import apig_wsgi
        import minimal_app  # type: ignore[import-not-found]  # written by prepare() into a temporary folder

        from handler import lambda_adapter
        from handler.main import lambda_handler

        list_event = rest_event("/articles")
        for event in (article_event, list_event):
            assert lambda_handler(event, None)["statusCode"] == 200
        apig = apig_wsgi.make_lambda_handler(minimal_app.app)
        from handler.main import app as our_app

        ours_on_apig = apig_wsgi.make_lambda_handler(our_app)
        minimal, article, listing, shimmed, apig_time, article_on_apig = per_request(
            lambda: minimal_app.lambda_handler(article_event, None),
            lambda: lambda_handler(article_event, None),
            lambda: lambda_handler(list_event, None),
            lambda: lambda_adapter.respond(minimal_app.app, article_event, None),
            lambda: apig(article_event, None),
            lambda: ours_on_apig(article_event, None),
        )
        for label, ours_warm in (("`GET /articles/<slug>`", article), ("`GET /articles`", listing)):
            rows.append(
                compared(
                    f"warm {label} vs the minimal app's route",
                    f"{ours_warm * 1e6:.0f} µs vs {minimal * 1e6:.0f} µs",
                    ours_warm,
                    minimal,
                    WARM_CONTENT_TARGET,
                )
            )
        rows.append(
            compared(
                "warm `GET /articles/<slug>`: our entry point vs our app behind apig-wsgi",
                f"{article * 1e6:.0f} µs vs {article_on_apig * 1e6:.0f} µs",
                article,
                article_on_apig,
            )
        )
        rows.append(
            compared(
                "adapter: aws-lambda-wsgi + our shim vs aws-lambda-wsgi alone (minimal app)",
                f"{shimmed * 1e6:.0f} µs vs {minimal * 1e6:.0f} µs",
                shimmed,
                minimal,
            )
        )
        rows.extend(contact_rows(lambda_handler, minimal_app.lambda_handler))
        rows.append(
            compared(
                "adapter: apig-wsgi vs aws-lambda-wsgi alone (minimal app)",
                f"{apig_time * 1e6:.0f} µs vs {minimal * 1e6:.0f} µs",
                apig_time,
                minimal,
            )
        )
    return rows


def render(rows: list[Row]) -> str:
    def target(row: Row) -> str:
        return row.target if row.met else f"{row.target}: **exceeded**"

    lines = [
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}: {machine()}.",
        "",
        "| measure | ours vs baseline | result | target |",
        "| --- | --- | --- | --- |",
        *[f"| {row.measure} | {row.figures} | {row.result} | {target(row)} |" for row in rows],
    ]
    return "\n".join(lines)


def write_table(document: Path, table: str) -> bool:
    """Put ``table`` between the bench markers of ``document``; False (nothing written) if it has none."""
    text = document.read_text(encoding="utf-8")
    if not BENCH_MARKERS.search(text):
        return False
    document.write_text(BENCH_MARKERS.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.bench",
        description=(__doc__ or "").split("\n", 1)[0],
        epilog=f"Needs `make package` first. Writes its table into {PERFORMANCE_DOC.relative_to(ROOT)}.",
    )
    parser.parse_args(argv)
    if not (FUNCTION / "handler" / "main.py").exists():
        print("build/function is missing: run `make package` first", file=sys.stderr)
        return 1
    rows = run()
    table = render(rows)
    print(table)
    for row in rows:
        if not row.met:
            print(f"target exceeded: {row.measure}: {row.result}, {row.target}", file=sys.stderr)
    if not write_table(PERFORMANCE_DOC, table):
        print(f"{PERFORMANCE_DOC.relative_to(ROOT)} has no bench markers; the table was not written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
