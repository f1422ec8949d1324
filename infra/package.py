"""Build the deployable function: ``build/function/`` and ``build/function.zip``.

The folder holds the ``handler`` package, the compiled content and the runtime
dependencies from ``pyproject.toml``, installed for Lambda's platform (arm64,
the template's Python, binary wheels only) rather than for this machine. They
are pure Python or fall back to it (MarkupSafe's C speed-ups do), so the same
folder imports on the x86_64 machines that test it. boto3 is left out: the
Lambda runtime provides it.

Usage: ``python -m infra.package [OUTPUT_DIR]`` (default ``build/function``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from infra import build_content

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_PYTHON = "3.13"  # keep in step with Runtime in template.yaml
LAMBDA_PLATFORM = "manylinux2014_aarch64"  # Architectures: arm64
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same zip


def runtime_requirements() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        dependencies: list[str] = tomllib.load(file)["project"]["dependencies"]
    return dependencies


def install_dependencies(target: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target), "--platform", LAMBDA_PLATFORM, "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON, "--only-binary=:all:", "--no-compile",
        *runtime_requirements(),
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


def write_zip(folder: Path, archive: Path) -> None:
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())


def package(output: Path) -> Path:
    """Build the function folder at ``output`` and its zip beside it; return the zip."""
    staging = output.with_name(output.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    install_dependencies(staging)
    copy_code(staging)
    build_content.build(ROOT / "content", staging / "compiled_content")
    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)
    archive = output.with_suffix(".zip")
    write_zip(output, archive)
    return archive


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else ROOT / "build" / "function"
    try:
        archive = package(output.resolve())
    except build_content.ContentError as error:
        print(f"content error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError:
        print("package: installing the runtime dependencies failed (see pip's output above)", file=sys.stderr)
        return 1
    print(f"packaged {output} and {archive} ({os.path.getsize(archive) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
