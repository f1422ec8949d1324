"""The deployable function, as ``make package`` builds it: it imports and answers with nothing but
the standard library and boto3 beside it, and serving content imports no boto3, Markdown or YAML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from apigw import event
from conftest import BASE_ENVIRONMENT

from infra import package

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = ROOT / "build" / "function"

PROBE = """
import json, sys
event = json.loads(sys.argv[1])
from handler.main import lambda_handler
result = lambda_handler(event, None)
print(json.dumps({
    "status": result["statusCode"],
    "slug": json.loads(result["body"])["article"]["slug"],
    "loaded": sorted(name for name in ("boto3", "botocore", "markdown_it", "yaml", "flask") if name in sys.modules),
    "paths": sys.path,
}))
"""


@pytest.fixture(scope="module")
def function_dir() -> Path:
    """``build/function`` as ``make test`` packaged it; built here when the suite runs alone."""
    if not (FUNCTION / "handler" / "main.py").exists():
        package.package(FUNCTION)
    return FUNCTION


@pytest.fixture(scope="module")
def boto3_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding boto3 and what it needs, and nothing else, as the Lambda runtime has."""
    folder = tmp_path_factory.mktemp("runtime")
    site = Path(boto3.__file__).parent.parent
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"):
        (folder / name).symlink_to(site / name)
    return folder


def run_in_bare_interpreter(function_dir: Path, boto3_only: Path, probe: str, request: dict) -> dict:
    """``probe`` run on ``request`` with the package and boto3 only, in the environment template.yaml gives."""
    # -S: no site-packages; -I: no environment variables or user site; -B: leave the build unwritten.
    command = [
        sys.executable,
        "-S",
        "-I",
        "-B",
        "-c",
        f"import sys; sys.path[:0] = {[str(function_dir), str(boto3_only)]!r}\n{probe}",
        json.dumps(request),
    ]
    # The environment template.yaml gives the function (CONTENT_DIR left to its default).
    environment = {"PATH": os.environ.get("PATH", ""), **BASE_ENVIRONMENT}
    completed = subprocess.run(
        command, check=False, capture_output=True, text=True, cwd=function_dir, timeout=60, env=environment
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_the_package_answers_in_a_bare_interpreter(function_dir: Path, boto3_only: Path) -> None:
    request = event("GET", "/articles/what-is-psychodynamic-therapy")
    answer = run_in_bare_interpreter(function_dir, boto3_only, PROBE, request)
    assert answer["status"] == 200 and answer["slug"] == "what-is-psychodynamic-therapy"
    assert answer["loaded"] == ["flask"]
    assert not [p for p in answer["paths"] if "site-packages" in p]


INBOX_PROBE = """
import json, sys
from handler.main import lambda_handler
print(json.dumps(lambda_handler(json.loads(sys.argv[1]), None)))
"""


@pytest.mark.parametrize(
    ("path", "expected"), [("/inbox/login", 'name="email"'), ("/inbox/static/inbox.css", "max-width")]
)
def test_the_package_holds_the_inbox_templates_and_stylesheet(
    function_dir: Path, boto3_only: Path, path: str, expected: str
) -> None:
    answer = run_in_bare_interpreter(function_dir, boto3_only, INBOX_PROBE, event("GET", path))
    assert answer["statusCode"] == 200 and expected in answer["body"]


def test_the_package_holds_the_code_content_and_runtime_dependencies_only(function_dir: Path) -> None:
    top = {path.name for path in function_dir.iterdir()}
    assert {"handler", "compiled_content", "flask", "werkzeug", "aws_lambda_wsgi", "markupsafe"} <= top
    for absent in ("boto3", "botocore", "markdown_it", "yaml", "moto", "pytest", "infra", "tests"):
        assert absent not in top
    assert not list(function_dir.rglob("__pycache__"))
    # Built for Lambda's arm64 platform, not for this machine.
    speedups = list((function_dir / "markupsafe").glob("_speedups*.so"))
    assert speedups and all("aarch64" in path.name for path in speedups)


def test_the_zip_matches_the_folder(function_dir: Path) -> None:
    with zipfile.ZipFile(function_dir.with_suffix(".zip")) as bundle:
        names = set(bundle.namelist())
    on_disk = {str(path.relative_to(function_dir)) for path in function_dir.rglob("*") if path.is_file()}
    assert names == on_disk
    assert "handler/main.py" in names and "compiled_content/manifest.json" in names
