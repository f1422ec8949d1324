"""The app's AWS clients: made once per app, and only when first needed.

Serving content never touches AWS, so boto3 is imported on the first contact
message, unless ``AWS_EAGER_INIT`` asks for the clients at start-up (with
SnapStart, the import and set-up then happen before the snapshot, not on a
visitor's request). botocore's standard retry mode and short timeouts keep
one slow call from eating the function's time.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask, current_app

from handler.config import settings

# Two calls, each at its slowest (every attempt timing out), two quick calls
# and the Turnstile check must fit in the API function's timeout
# (template.yaml; a test checks it): a DynamoDB that hangs must leave time for
# the email fallback.
CONNECT_TIMEOUT_SECONDS = 1  # an in-region AWS endpoint connects in milliseconds
READ_TIMEOUT_SECONDS = 3
MAX_ATTEMPTS = 2  # the first call and one retry; SES failures are retried later by the retry function
# The quick client's: one attempt, for a consistent read or write of one small
# item (milliseconds when DynamoDB is well), after the transaction failed.
QUICK_TIMEOUT_SECONDS = 0.5  # to connect, and again to read


def client_config(attempts: int, connect_timeout: float, read_timeout: float) -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


class AwsClients:
    """Lazily created low-level clients for DynamoDB (two: see ``quick_dynamodb``), SES and Secrets Manager."""

    @functools.cached_property
    def config(self) -> Any:
        return client_config(MAX_ATTEMPTS, CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)

    @functools.cached_property
    def session(self) -> Any:
        import boto3

        # boto3's default session: its service models are loaded once per process.
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        return boto3.DEFAULT_SESSION

    @functools.cached_property
    def dynamodb(self) -> Any:
        return self.session.client("dynamodb", config=self.config)

    @functools.cached_property
    def quick_dynamodb(self) -> Any:
        """DynamoDB in one short attempt: made only when the transaction failed, to ask whether
        it stored the message after all."""
        config = client_config(1, QUICK_TIMEOUT_SECONDS, QUICK_TIMEOUT_SECONDS)
        return self.session.client("dynamodb", config=config)

    @functools.cached_property
    def ses(self) -> Any:
        return self.session.client("ses", config=self.config)

    @functools.cached_property
    def secretsmanager(self) -> Any:
        return self.session.client("secretsmanager", config=self.config)

    def warm_up(self) -> None:
        """Create every client now."""
        for client in ("dynamodb", "ses"):
            getattr(self, client)


def clients() -> AwsClients:
    found: AwsClients = current_app.extensions["aws"]
    return found


def init_app(app: Flask) -> None:
    app.extensions["aws"] = AwsClients()
    if settings(app).aws_eager_init:
        app.extensions["aws"].warm_up()
