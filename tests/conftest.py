"""Fixtures: compiled content, an embedded AWS (moto), and the Lambda entry point
configured as a deployment would be."""

from __future__ import annotations

import email
import email.policy
import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

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


@pytest.fixture(autouse=True)
def no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach a real AWS account, whatever the machine's configuration."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
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
    """moto's AWS, with the contact table built from template.yaml and the sender verified."""

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


@pytest.fixture
def aws(moto_clients: tuple[Any, Any]) -> EmbeddedAws:
    """A fresh contact table built from template.yaml, and an SES with only the sender verified."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    dynamodb, ses = moto_clients
    if TABLE in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=TABLE)
    create_contact_table(dynamodb, TABLE)
    ses_backends[DEFAULT_ACCOUNT_ID][REGION].reset()
    ses.verify_email_identity(EmailAddress=SENDER)
    return EmbeddedAws(dynamodb=dynamodb, ses=ses)


LOCAL_VARIABLES = (
    *local_stack.LOCAL_SETTINGS,
    "CONTENT_DIR",
    "SITE_URL",
    "ALLOWED_ORIGINS",
    "AWS_ENDPOINT_URL",
)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, compiled_content: Path) -> Iterator[local_stack.LocalStack]:
    for name in LOCAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    stack = local_stack.start(port=0, environ={"CONTENT_DIR": str(compiled_content), "ALLOWED_ORIGINS": WEBSITE_ORIGIN})
    try:
        yield stack
    finally:
        stack.stop()
        # Not monkeypatch.delenv: it would put back, at its own undo, the values the stack set.
        for name in LOCAL_VARIABLES:
            os.environ.pop(name, None)
        forget_boto3_default_session()


@pytest.fixture
def base_url(stack: local_stack.LocalStack) -> str:
    return stack.url
