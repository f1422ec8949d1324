"""The API function's secrets, through the Lambda entry point on moto's Secrets Manager: read at
start-up with AWS_EAGER_INIT (SnapStart's setting) or with the first contact request, never from
the environment, and one that cannot be read stops start-up naming its setting."""

from __future__ import annotations

import importlib
import logging
import os

import boto3
import pytest
from apigw import event, json_body
from botocore.stub import Stubber
from conftest import BASE_ENVIRONMENT, IP_HASH_SECRET, REGION, TURNSTILE_SECRET, TURNSTILE_SECRET_ARN
from contact_helpers import VALID, aws_clients, current_app, post_json

from handler.config import ConfigError

SECRETS_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:"


def test_a_secret_not_named_stops_start_up_naming_its_setting(make_handler) -> None:
    with pytest.raises(ConfigError, match=r"^IP_HASH_SECRET_ARN is not set$"):
        make_handler(IP_HASH_SECRET_ARN="")


def store(name: str, **value: object) -> str:
    """A secret in moto's Secrets Manager (SecretString or SecretBinary); its ARN."""
    client = boto3.client("secretsmanager", region_name=REGION)
    return str(client.create_secret(Name=name, **value)["ARN"])


@pytest.mark.parametrize(
    ("setting", "secret", "problem"),
    [
        ("IP_HASH_SECRET_ARN", lambda: f"{SECRETS_ARN}practice/none-AbCdEf", r"could not read .* \(ResourceNotFound"),
        ("IP_HASH_SECRET_ARN", lambda: store("short", SecretString="15 characters.."), "at least 16 characters"),
        ("IP_HASH_SECRET_ARN", lambda: store("blank", SecretString="  \n"), "at least 16 characters"),
        ("IP_HASH_SECRET_ARN", lambda: store("binary", SecretBinary=b"\x00" * 32), "binary data, not text"),
        ("TURNSTILE_SECRET_ARN", lambda: f"{SECRETS_ARN}practice/none-GhIjKl", r"\(ResourceNotFound"),
        ("TURNSTILE_SECRET_ARN", lambda: store("empty-turnstile", SecretString=" "), "at least 1 characters"),
    ],
    ids=["missing", "short", "blank", "binary", "turnstile-missing", "turnstile-empty"],
)
def test_a_secret_that_cannot_be_used_stops_start_up_naming_its_setting(
    aws, make_handler, setting: str, secret, problem: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{setting}: .*{problem}"):
        make_handler(AWS_EAGER_INIT="true", **{setting: secret()})


def test_with_eager_init_the_secrets_are_read_at_start_up(aws, make_handler) -> None:
    make_handler(AWS_EAGER_INIT="true", TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN)
    read = current_app().extensions["secret_values"]
    assert read.ip_hash_secret == IP_HASH_SECRET.encode() and read.turnstile_secret == TURNSTILE_SECRET


def test_without_it_content_reads_no_secret_and_the_first_contact_request_reads_them(aws, make_handler) -> None:
    handler = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN)
    assert handler(event("GET", "/articles"), None)["statusCode"] == 200
    assert "secretsmanager" not in vars(aws_clients()) and "secret_values" not in current_app().extensions
    assert json_body(handler(event("GET", "/contact"), None))["turnstile"] is True
    read = current_app().extensions["secret_values"]
    assert read.ip_hash_secret == IP_HASH_SECRET.encode() and read.turnstile_secret == TURNSTILE_SECRET


def test_a_secret_unreadable_at_the_first_contact_request_is_a_500_naming_it_in_the_log(
    aws, make_handler, caplog
) -> None:
    handler = make_handler()
    with Stubber(aws_clients().secretsmanager) as secretsmanager:
        # What a role without secretsmanager:GetSecretValue on the secret gets.
        secretsmanager.add_client_error("get_secret_value", service_error_code="AccessDeniedException")
        with caplog.at_level(logging.ERROR):
            result = post_json(handler, VALID)
    assert result["statusCode"] == 500 and json_body(result)["error"] == "internal_error"
    (unreadable,) = [r for r in caplog.records if r.getMessage() == "secret unreadable"]
    assert unreadable.reason.startswith("IP_HASH_SECRET_ARN: ") and "AccessDeniedException" in unreadable.reason
    assert aws.items() == []
    # Not remembered: once the secret can be read, the next message goes through.
    assert post_json(handler, VALID)["statusCode"] == 201


def test_the_secret_values_are_never_put_in_the_environment(aws, make_handler) -> None:
    handler = make_handler(AWS_EAGER_INIT="true", TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN)
    post_json(handler, VALID)
    for value in os.environ.values():
        assert IP_HASH_SECRET not in value and TURNSTILE_SECRET not in value


def test_the_retry_function_starts_and_runs_with_no_secret(aws, monkeypatch, compiled_content) -> None:
    for name, value in {**BASE_ENVIRONMENT, "CONTENT_DIR": str(compiled_content), "AWS_EAGER_INIT": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("IP_HASH_SECRET_ARN")
    import handler.retry

    retry = importlib.reload(handler.retry)
    assert retry.lambda_handler({}, None) == {"due": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert "secrets" not in retry.app.extensions and "secret_values" not in retry.app.extensions
