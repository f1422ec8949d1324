"""The deployable function, as ``make package`` and ``sam build`` build it: it imports and answers with nothing but
the standard library and boto3 beside it, and serving content imports no boto3, Markdown or YAML. ``sam build``
installs no dev tool, and the package is built again only when what it is made from changes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import pytest
from apigw import event
from conftest import BASE_ENVIRONMENT
from packaging.utils import canonicalize_name
from test_locks import LOCKS, read_lock

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
    python = package.lambda_python()
    if not package.is_current(FUNCTION, python):
        package.package(FUNCTION, python)
    return FUNCTION


@pytest.fixture(scope="module")
def boto3_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding boto3 and what it needs, and nothing else, as the Lambda runtime has."""
    folder = tmp_path_factory.mktemp("runtime")
    site = Path(boto3.__file__).parent.parent
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"):
        (folder / name).symlink_to(site / name)
    return folder


def answer_in_a_bare_interpreter(
    function_dir: Path, boto3_only: Path, request: dict[str, Any] | None = None, probe: str = PROBE
) -> dict[str, Any]:
    """What ``probe`` finds the function in ``function_dir`` answers for ``request`` (by default an
    article), run as Lambda runs it."""
    request = request or event("GET", "/articles/what-is-psychodynamic-therapy")
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
    return dict(json.loads(completed.stdout))


def test_the_package_answers_in_a_bare_interpreter(function_dir: Path, boto3_only: Path) -> None:
    answer = answer_in_a_bare_interpreter(function_dir, boto3_only)
    assert answer["status"] == 200 and answer["slug"] == "what-is-psychodynamic-therapy"
    assert answer["loaded"] == ["flask"]
    assert not [p for p in answer["paths"] if "site-packages" in p]


INBOX_PROBE = """
import json, sys
from handler.main import lambda_handler
print(json.dumps(lambda_handler(json.loads(sys.argv[1]), None)))
"""


@pytest.mark.parametrize(
    ("path", "expected"), [("/inbox/check-email", "a link is on its way"), ("/inbox/static/inbox.css", "max-width")]
)
def test_the_package_holds_the_inbox_templates_and_stylesheet(
    function_dir: Path, boto3_only: Path, path: str, expected: str
) -> None:
    answer = answer_in_a_bare_interpreter(function_dir, boto3_only, event("GET", path), INBOX_PROBE)
    assert answer["statusCode"] == 200 and expected in answer["body"]


def test_the_package_holds_the_code_content_and_runtime_dependencies_only(function_dir: Path) -> None:
    top = {path.name for path in function_dir.iterdir()}
    assert {"handler", "compiled_content", "flask", "werkzeug", "aws_lambda_wsgi", "markupsafe"} <= top
    for absent in ("boto3", "botocore", "markdown_it", "yaml", "moto", "pytest", "infra", "tests"):
        assert absent not in top
    # Bytecode for Lambda's Python only (none from running the tests here).
    tag = f"cpython-{package.LAMBDA_PYTHON.replace('.', '')}"
    assert all(tag in path.name for path in function_dir.rglob("*.pyc"))
    # Built for Lambda's arm64 platform, not for this machine.
    speedups = list((function_dir / "markupsafe").glob("_speedups*.so"))
    assert speedups and all("aarch64" in path.name for path in speedups)


def test_the_zip_matches_the_folder(function_dir: Path) -> None:
    with zipfile.ZipFile(function_dir.with_suffix(".zip")) as bundle:
        names = set(bundle.namelist())
    on_disk = {str(path.relative_to(function_dir)) for path in function_dir.rglob("*") if path.is_file()}
    assert names == on_disk
    assert "handler/main.py" in names and "compiled_content/manifest.json" in names


def test_the_inputs_digest_follows_every_input_and_nothing_else(tmp_path: Path) -> None:
    for path in package.input_files(ROOT):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, tmp_path / path)
    first = package.inputs_digest(tmp_path)
    assert first == package.inputs_digest(ROOT)
    # Byte code written by running the tests is no input.
    (tmp_path / "handler" / "__pycache__").mkdir()
    (tmp_path / "handler" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    assert package.inputs_digest(tmp_path) == first
    changes = {
        "an article edited": lambda: (tmp_path / "content" / "what-is-psychodynamic-therapy.md").open("a").write("\n"),
        "an article added": lambda: (tmp_path / "content" / "new.md").write_text("---\n"),
        "a module removed": lambda: (tmp_path / "handler" / "cors.py").unlink(),
        "the lock changed": lambda: (tmp_path / package.LOCK).write_text("flask==3.1.2\n"),
        "the build lock changed": lambda: (tmp_path / "infra" / "requirements" / "build.txt").write_text(""),
    }
    seen = {first, package.inputs_digest(tmp_path, python="python3.13")}  # the bytecode made or not
    for change in changes.values():
        change()
        seen.add(package.inputs_digest(tmp_path))
    assert len(seen) == len(changes) + 2


@pytest.mark.skipif(package.lambda_python() is None, reason=f"no Python {package.LAMBDA_PYTHON} on this machine")
def test_the_package_carries_bytecode_lambda_s_python_takes_unchecked(function_dir: Path) -> None:
    # Lambda's code folder is read-only: without these, each cold start compiles every module.
    python = package.lambda_python()
    assert python is not None
    tag = f"cpython-{package.LAMBDA_PYTHON.replace('.', '')}"
    for module in ("handler/main.py", "handler/contact.py", "flask/app.py", "werkzeug/routing/rules.py"):
        source = function_dir / module
        cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        header = cached.read_bytes()[:8]
        # PEP 552: flags 0b01 is a hash-based pyc that is never checked against its source.
        assert int.from_bytes(header[4:8], "little") == 0b01, module
    magic = subprocess.run(
        [python, "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert header[:4].hex() == magic


@dataclass(frozen=True)
class Build:
    """One ``make build-<Function>`` as ``sam build`` runs it: what it printed, what it gave SAM, and when the package
    and its installed dependencies were last written."""

    output: str
    artifacts: Path
    package_time: int
    dependencies_time: int


def sam_build(copy: Path, target: str, artifacts: Path) -> Build:
    artifacts.mkdir()
    # As SAM runs it: no virtual environment active, no outer make's flags.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    }
    completed = subprocess.run(
        ["make", target, f"ARTIFACTS_DIR={artifacts}"],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return Build(
        completed.stdout,
        artifacts,
        (copy / "build" / "function.zip").stat().st_mtime_ns,
        (copy / "build" / "function.dependencies.inputs").stat().st_mtime_ns,
    )


def without_tzdata(lock: str) -> str:
    """The lock less its tzdata entry (the line naming it, its hashes and its annotation)."""
    kept, skipping = [], False
    for line in lock.splitlines(keepends=True):
        if not line.startswith(" "):
            skipping = line.startswith("tzdata==")
        if not skipping:
            kept.append(line)
    return "".join(kept)


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files git would commit, as they are now: no .venv, no build/."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    copy = tmp_path_factory.mktemp("sam") / "repository"
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


@pytest.fixture(scope="module")
def builds(clean_copy: Path) -> dict[str, Build]:
    """Both functions built in the clean copy, then the API function after an edit of the code, then after an
    edit of the lock."""
    artifacts = clean_copy.parent
    done = {
        "api": sam_build(clean_copy, "build-ApiFunction", artifacts / "ApiFunction"),
        "retry": sam_build(clean_copy, "build-RetryFunction", artifacts / "RetryFunction"),
    }
    with open(clean_copy / "handler" / "main.py", "a") as module:
        module.write("EDITED_AFTER_THE_FIRST_BUILD = True\n")
    done["code edited"] = sam_build(clean_copy, "build-ApiFunction", artifacts / "CodeEdited")
    lock = clean_copy / package.LOCK
    lock.write_text(without_tzdata(lock.read_text()))
    done["lock edited"] = sam_build(clean_copy, "build-ApiFunction", artifacts / "LockEdited")
    return done


def test_sam_build_installs_the_build_lock_and_no_dev_tool(clean_copy: Path, builds: dict[str, Build]) -> None:
    assert not (clean_copy / ".venv").exists()
    (site_packages,) = (clean_copy / "build" / "venv" / "lib").glob("python3.*/site-packages")
    installed = {
        canonicalize_name(found.metadata["Name"]) for found in metadata.distributions(path=[str(site_packages)])
    }
    installed -= {"pip", "setuptools"}  # what `python -m venv` puts in every environment
    assert installed == {entry.name for entry in read_lock(LOCKS / "build.txt")}
    assert not installed & {"pytest", "moto", "boto3", "playwright", "schemathesis", "cfn-lint", "ruff", "mypy"}


def test_sam_build_gives_a_function_that_answers_in_a_bare_interpreter(
    builds: dict[str, Build], boto3_only: Path
) -> None:
    answer = answer_in_a_bare_interpreter(builds["api"].artifacts, boto3_only)
    assert answer["status"] == 200 and answer["slug"] == "what-is-psychodynamic-therapy"
    assert answer["loaded"] == ["flask"]
    assert (builds["api"].artifacts / "build-stamp.txt").is_file()


def files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def test_the_second_function_reuses_the_package(builds: dict[str, Build]) -> None:
    api, retry = builds["api"], builds["retry"]
    assert "packaged" in api.output
    assert "up to date" in retry.output and "packaged" not in retry.output
    assert retry.package_time == api.package_time
    assert files(retry.artifacts) == files(api.artifacts)


def test_an_edit_of_the_code_rebuilds_the_package_and_keeps_the_dependencies(builds: dict[str, Build]) -> None:
    before, after = builds["retry"], builds["code edited"]
    assert "packaged" in after.output and after.package_time > before.package_time
    assert after.dependencies_time == before.dependencies_time
    assert "EDITED_AFTER_THE_FIRST_BUILD" in (after.artifacts / "handler" / "main.py").read_text()
    assert "EDITED_AFTER_THE_FIRST_BUILD" not in (before.artifacts / "handler" / "main.py").read_text()


def test_an_edit_of_the_lock_installs_the_dependencies_again(builds: dict[str, Build]) -> None:
    before, after = builds["code edited"], builds["lock edited"]
    assert after.dependencies_time > before.dependencies_time
    assert "tzdata" in {path.name for path in before.artifacts.iterdir()}
    assert "tzdata" not in {path.name for path in after.artifacts.iterdir()}
