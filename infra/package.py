"""Build the deployable function: ``build/function/`` and ``build/function.zip``.

The folder holds the ``handler`` package, the compiled content, the runtime
dependencies exactly as ``infra/requirements/lambda.txt`` locks them (each
wheel checked against its hash), installed for Lambda's platform (arm64, the
template's Python, binary wheels only) rather than for this machine. They are
pure Python or fall back to it (MarkupSafe's C speed-ups do), so the same
folder imports on the x86_64 machines that test it. boto3 is left out: the
Lambda runtime provides it. Where this machine has the template's Python, the
folder also holds the bytecode of every module, made by it: Lambda's code folder is read-only,
so without it each cold start compiles every module again (``make bench`` measures
the cost). ``sam build --use-container`` builds with that Python.

A digest of the inputs (the locks, ``handler/``, ``content/`` and the build
code) is kept beside the folder: while it is unchanged, the build is skipped.
The dependencies are kept installed beside it too (``build/function.dependencies``),
and installed again only when the lock changes.

Usage: ``python -m infra.package [OUTPUT_DIR]`` (default ``build/function``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra import build_content

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_PYTHON = "3.13"  # keep in step with Runtime in template.yaml
LAMBDA_PLATFORM = "manylinux2014_aarch64"  # Architectures: arm64
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same zip
LOCK = Path("infra/requirements/lambda.txt")
# What the package is made from, relative to the repository. The build lock
# pins the Markdown and YAML parsers that compile the content.
INPUTS = (LOCK, Path("infra/requirements/build.txt"), Path("infra/package.py"), Path("infra/build_content.py"))
INPUT_FOLDERS = (Path("handler"), Path("content"))


def install_dependencies(target: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target), "--platform", LAMBDA_PLATFORM, "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON, "--only-binary=:all:", "--no-compile",
        "--require-hashes", "--no-deps", "--requirement", str(ROOT / LOCK),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    for leftover in target.glob("*.dist-info"):
        # Metadata is not imported at run time; the licences stay with the code.
        for name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
            (leftover / name).unlink(missing_ok=True)
    shutil.rmtree(target / "bin", ignore_errors=True)


def copy_code(target: Path) -> None:
    shutil.copytree(
        ROOT / "handler", target / "handler", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "dev_*.py")
    )


def lambda_python() -> str | None:
    """A command for Lambda's Python on this machine, or None."""
    for candidate in (sys.executable, f"python{LAMBDA_PYTHON}"):
        try:
            answer = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError:  # not installed
            continue
        if answer.returncode == 0 and answer.stdout.strip() == LAMBDA_PYTHON:
            return candidate
    return None


def compile_bytecode(folder: Path, python: str) -> None:
    """Bytecode for every module, checked against nothing: the folder never changes under it,
    and a zip keeps its files' times only to two seconds (a timestamp check could fail)."""
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(folder)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def write_zip(folder: Path, archive: Path) -> None:
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())


def input_files(root: Path) -> list[Path]:
    """The files the package is built from, relative to ``root``, in a stable order."""
    found = [path for path in INPUTS if (root / path).is_file()]
    for folder in INPUT_FOLDERS:
        for path in (root / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.append(path.relative_to(root))
    return sorted(found)


def inputs_digest(root: Path = ROOT, python: str | None = None) -> str:
    """A digest of the inputs' names and contents, and of whether the bytecode is made (by
    ``python``): it changes when a file is edited, added or removed."""
    digest = hashlib.sha256(b"bytecode\0" if python else b"")
    for path in input_files(root):
        digest.update(f"{path.as_posix()}\0{(root / path).stat().st_size}\0".encode())
        digest.update((root / path).read_bytes())
    return digest.hexdigest()


def digest_file(folder: Path) -> Path:
    """Where the digest of what ``folder`` was built from is kept: beside it, written once it is complete."""
    return folder.with_name(folder.name + ".inputs")


def built_from(folder: Path, digest: str) -> bool:
    stamp = digest_file(folder)
    return folder.is_dir() and stamp.is_file() and stamp.read_text() == digest


def is_current(output: Path, python: str | None) -> bool:
    """Whether ``output`` and its zip were built from the inputs as they are now."""
    return built_from(output, inputs_digest(python=python)) and output.with_suffix(".zip").is_file()


def installed_dependencies(output: Path) -> Path:
    """The locked dependencies, installed in a folder beside ``output``, and again only when the lock changes."""
    folder = output.with_name(output.name + ".dependencies")
    digest = hashlib.sha256((ROOT / LOCK).read_bytes()).hexdigest()
    if not built_from(folder, digest):
        digest_file(folder).unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        install_dependencies(folder)
        digest_file(folder).write_text(digest)
    return folder


def package(output: Path, python: str | None) -> Path:
    """Build the function folder at ``output`` and its zip beside it, with bytecode made by
    ``python`` (Lambda's Python; None: none); return the zip."""
    digest = inputs_digest(python=python)
    digest_file(output).unlink(missing_ok=True)
    dependencies = installed_dependencies(output)
    staging = output.with_name(output.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(dependencies, staging)
    copy_code(staging)
    build_content.build(ROOT / "content", staging / "compiled_content")
    if python:
        compile_bytecode(staging, python)
    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)
    archive = output.with_suffix(".zip")
    write_zip(output, archive)
    # Written last: a build that stopped half-way is never taken as current.
    digest_file(output).write_text(digest)
    return archive


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else ROOT / "build" / "function"
    python = lambda_python()
    if is_current(output.resolve(), python):
        print(f"{output} is up to date (its inputs have not changed)")
        return 0
    if python is None:
        print(
            f"package: no Python {LAMBDA_PYTHON} here: the package carries no bytecode, and each cold start compiles it"
        )
    try:
        archive = package(output.resolve(), python)
    except build_content.ContentError as error:
        print(f"content error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError:
        print("package: installing the runtime dependencies or compiling failed (see above)", file=sys.stderr)
        return 1
    print(f"packaged {output} and {archive} ({os.path.getsize(archive) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
