"""Fixtures: compiled content, an embedded AWS (moto), AWS's own DynamoDB engine
(DynamoDB Local) as a second judge of storage, the Lambda entry point
configured as a deployment would be, and Debian's Chromium for the browser tests."""

from __future__ import annotations

import email
import email.policy
import importlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from dynamodb_local import DynamoDBLocal

from infra import build_content, local_stack
from infra.aws_template import create_contact_table

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = "https://www.practice.example"
WEBSITE_ORIGIN = "https://www.practice.example"
REGION = "us-east-1"
TABLE = "contact-messages"
SENDER = "alerts@practice.example"
THERAPIST = "therapist@practice.example"
IP_HASH_SECRET = "test-only-secret-0123456789abcdef"
IP_HASH_SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:practice/ip-hash-secret-TeSt01"
TURNSTILE_SECRET = "test-only-turnstile-secret"
TURNSTILE_SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:practice/turnstile-secret-TeSt02"

BASE_ENVIRONMENT = {
    "SITE_URL": SITE_URL,
    "ALLOWED_ORIGINS": WEBSITE_ORIGIN,
    "CONTACT_TABLE_NAME": TABLE,
    "SENDER_EMAIL": SENDER,
    "NOTIFY_EMAIL": THERAPIST,
    "IP_HASH_SECRET_ARN": IP_HASH_SECRET_ARN,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach a real AWS account, whatever the machine's configuration."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE_ENVIRONMENT.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def compiled_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own articles, compiled as the package build does."""
    output = tmp_path_factory.mktemp("content") / "compiled"
    build_content.build(ROOT / "content", output)
    return output


@pytest.fixture
def function_environment(monkeypatch: pytest.MonkeyPatch, compiled_content: Path) -> None:
    """The environment a deployment gives the functions: their modules build their app at import."""
    for name, value in {**BASE_ENVIRONMENT, "CONTENT_DIR": str(compiled_content)}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def make_handler(monkeypatch: pytest.MonkeyPatch, compiled_content: Path) -> Callable[..., LambdaHandler]:
    """``handler.main.lambda_handler``, imported afresh under the given environment.

    The environment is how Lambda configures the function, and the module
    builds its app at import, so each call re-imports it.
    """

    def factory(**environment: str) -> LambdaHandler:
        for name, value in {**BASE_ENVIRONMENT, "CONTENT_DIR": str(compiled_content), **environment}.items():
            monkeypatch.setenv(name, value)
        import handler.main

        return importlib.reload(handler.main).lambda_handler

    return factory


@pytest.fixture
def lambda_handler(make_handler: Callable[..., LambdaHandler]) -> LambdaHandler:
    return make_handler()


@dataclass
class EmbeddedAws:
    """moto's AWS (its DynamoDB, or DynamoDB Local), with the contact table built from
    template.yaml and the sender verified."""

    dynamodb: Any
    ses: Any

    def messages(self) -> list[dict[str, Any]]:
        """Every stored message item, oldest first."""
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        messages = [item for item in items if item["pk"]["S"].startswith("MSG#")]
        return sorted(messages, key=lambda item: item["pk"]["S"])

    def items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=TABLE)["Items"]

    def raw_emails(self) -> list[str]:
        """Every email SES accepted, oldest first, as it went on the wire."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return [message.raw_data for message in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]

    def emails(self) -> list[EmailMessage]:
        """Every email SES accepted, oldest first, parsed."""
        # Parsed with plain line feeds, as a mail reader shows them.
        return [
            email.message_from_string(raw.replace("\r\n", "\n"), policy=email.policy.default)
            for raw in self.raw_emails()
        ]


def forget_boto3_default_session() -> None:
    """boto3's default session keeps the configuration it was made with (a local
    stack's endpoint, say): the next test starts from the environment again."""
    import boto3

    boto3.DEFAULT_SESSION = None


@pytest.fixture(scope="module")
def moto_clients() -> Iterator[tuple[Any, Any]]:
    """moto, started once per test module (starting it and making clients is the slow part),
    holding the secrets that BASE_ENVIRONMENT (and TURNSTILE_SECRET_ARN) name."""
    from moto import mock_aws

    forget_boto3_default_session()
    with mock_aws():
        import boto3

        secretsmanager = boto3.client("secretsmanager", region_name=REGION)
        local_stack.put_secret(secretsmanager, IP_HASH_SECRET_ARN, IP_HASH_SECRET)
        local_stack.put_secret(secretsmanager, TURNSTILE_SECRET_ARN, TURNSTILE_SECRET)
        # Clients are created after the mock starts, so that they talk to it.
        yield boto3.client("dynamodb", region_name=REGION), boto3.client("ses", region_name=REGION)


DYNAMODB_ENGINES = ("moto", "dynamodb-local")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dynamodb_engines: the module's tests that use `aws` run on moto and on DynamoDB Local"
    )
    config.addinivalue_line("markers", "moto_only(reason): in a dynamodb_engines module, a test that only moto runs")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that uses ``aws``, in a module marked ``dynamodb_engines``, runs on each
    DynamoDB engine, its id naming the engine (``test_x[dynamodb-local]``)."""
    test = metafunc.definition
    if (
        "aws" in metafunc.fixturenames
        and test.get_closest_marker("dynamodb_engines")
        and not test.get_closest_marker("moto_only")
    ):
        metafunc.parametrize("dynamodb", DYNAMODB_ENGINES, indirect=True)


def on_dynamodb_local(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("dynamodb") == "dynamodb-local"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Where DynamoDB Local cannot run, the tests on it are skipped, saying why (one line per module)."""
    chosen = [item for item in items if on_dynamodb_local(item)]
    reason = DynamoDBLocal.unavailable() if chosen else None
    if reason:
        for item in chosen:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBLocal]:
    """AWS's own DynamoDB engine, started once per session on a loopback port."""
    engine = DynamoDBLocal.start(tmp_path_factory.mktemp("dynamodb-local"))
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def dynamodb_local_client(dynamodb_local: DynamoDBLocal) -> Any:
    return dynamodb_local.client(REGION)


@pytest.fixture
def dynamodb(request: pytest.FixtureRequest, moto_clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client of the DynamoDB engine in use (moto, unless parametrized), with a fresh contact
    table built from template.yaml.

    The function reaches DynamoDB Local through AWS_ENDPOINT_URL_DYNAMODB, which boto3
    reads; moto's mock lets requests to that endpoint through, and keeps SES.
    """
    if getattr(request, "param", "moto") == "moto":
        client = moto_clients[0]
    else:
        client = request.getfixturevalue("dynamodb_local_client")
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", client.meta.endpoint_url)
    if TABLE in client.list_tables()["TableNames"]:
        client.delete_table(TableName=TABLE)
    create_contact_table(client, TABLE)
    return client


@pytest.fixture
def aws(moto_clients: tuple[Any, Any], dynamodb: Any) -> EmbeddedAws:
    """A fresh contact table built from template.yaml, and an SES with only the sender verified."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    ses = moto_clients[1]
    ses_backends[DEFAULT_ACCOUNT_ID][REGION].reset()
    ses.verify_email_identity(EmailAddress=SENDER)
    return EmbeddedAws(dynamodb=dynamodb, ses=ses)


@pytest.fixture
def sent_emails(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every email SES accepted, as the code asked for it: ``send_raw_email``'s parameters
    (moto ignores ConfigurationSetName and Tags) and SES's MessageId. botocore is watched,
    not replaced: every call still goes to moto."""
    import botocore.client

    calls: list[dict[str, Any]] = []
    real = botocore.client.BaseClient._make_api_call

    def watched(client: Any, operation: str, parameters: dict[str, Any]) -> Any:
        answer = real(client, operation, parameters)
        if operation == "SendRawEmail":
            calls.append({**parameters, "MessageId": answer["MessageId"]})
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", watched)
    return calls


LOCAL_VARIABLES = (
    *local_stack.LOCAL_SETTINGS,
    "CONTENT_DIR",
    "SITE_URL",
    "ALLOWED_ORIGINS",
    "INBOX_URL",
    "AWS_ENDPOINT_URL",
)


@pytest.fixture
def stack_environment() -> dict[str, str]:
    """Settings the local stack of a test is started with, beyond its own (parametrize to set some)."""
    return {}


@pytest.fixture
def stack(
    monkeypatch: pytest.MonkeyPatch, compiled_content: Path, stack_environment: dict[str, str]
) -> Iterator[local_stack.LocalStack]:
    variables = (*LOCAL_VARIABLES, *stack_environment)
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    stack = local_stack.start(
        port=0,
        environ={"CONTENT_DIR": str(compiled_content), "ALLOWED_ORIGINS": WEBSITE_ORIGIN, **stack_environment},
    )
    try:
        yield stack
    finally:
        stack.stop()
        # Not monkeypatch.delenv: it would put back, at its own undo, the values the stack set.
        for name in variables:
            os.environ.pop(name, None)
        forget_boto3_default_session()


@pytest.fixture
def base_url(stack: local_stack.LocalStack) -> str:
    return stack.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Moves the clock forward: ``clock(seconds)``."""
    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])

    def forward(seconds: float) -> None:
        offset[0] += seconds

    return forward
