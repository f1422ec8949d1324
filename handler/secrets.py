"""The API function's secrets, read from Secrets Manager: never held in its environment.

The environment names only where each secret is (``IP_HASH_SECRET_ARN``, and
``TURNSTILE_SECRET_ARN`` when Turnstile is on), so that whoever may read the
function's configuration still cannot read the secrets. They are read once per
instance, with the AWS clients: at start-up when ``AWS_EAGER_INIT`` asks for
the clients (with SnapStart, before the snapshot, so that a secret that cannot
be read fails the version's publication, and so the deploy), otherwise with
the first request to the contact routes (``load_on_first_use``), which import
boto3 anyway: serving content never waits for Secrets Manager.

The contact routes read them as a frozen ``Secrets``, through ``current()``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request

from handler.config import ConfigError, settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Secret:
    """A secret the app reads: ``{setting}_ARN`` names it, ``{setting}_VERSION_ID`` may pin a version."""

    setting: str
    min_length: int
    optional: bool = False
    versioned: bool = False

    @property
    def arn_variable(self) -> str:
        return f"{self.setting}_ARN"

    @property
    def version_variable(self) -> str:
        return f"{self.setting}_VERSION_ID"


SECRETS = (
    Secret("IP_HASH_SECRET", min_length=16, versioned=True),
    Secret("TURNSTILE_SECRET", min_length=1, optional=True),
)


@dataclass(frozen=True)
class Secrets:
    """The values read: kept out of any repr, so that no log of them can show one."""

    ip_hash_secret: bytes = field(repr=False)  # keys every hash of a client address or a message
    turnstile_secret: str | None = field(repr=False)  # None: no Turnstile check


@dataclass(frozen=True)
class Location:
    """Where one secret is kept: its ARN, and the version to read (None: the current one)."""

    secret: Secret
    arn: str
    version_id: str | None


def locations(environ: Mapping[str, str] = os.environ) -> tuple[Location, ...]:
    """Where the secrets are, from the environment; a required one that is not named stops start-up."""
    found = []
    for secret in SECRETS:
        arn = environ.get(secret.arn_variable, "").strip()
        if not arn:
            if secret.optional:
                continue
            raise ConfigError(f"{secret.arn_variable} is not set")
        version_id = environ.get(secret.version_variable, "").strip() if secret.versioned else ""
        found.append(Location(secret, arn, version_id or None))
    return tuple(found)


def read(client: Any, location: Location) -> str:
    """One secret's text, or a ConfigError naming the setting and what went wrong (never the value)."""
    from botocore.exceptions import BotoCoreError, ClientError

    variable = location.secret.arn_variable
    version = {"VersionId": location.version_id} if location.version_id else {}
    try:
        answer = client.get_secret_value(SecretId=location.arn, **version)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise ConfigError(f"{variable}: Secrets Manager could not read {location.arn} ({code})") from None
    except BotoCoreError as error:
        raise ConfigError(f"{variable}: Secrets Manager could not be reached ({type(error).__name__})") from None
    if "SecretString" not in answer:
        raise ConfigError(f"{variable}: the secret holds binary data, not text")
    # Stripped as the value of an environment variable was: a secret written
    # from a file keeps its final newline, and the hashes must not change with it.
    value = str(answer["SecretString"]).strip()
    if len(value) < location.secret.min_length:
        raise ConfigError(f"{variable}: the secret must be at least {location.secret.min_length} characters")
    return value


def load(app: Flask) -> None:
    """Read every secret into the app (again, if a previous attempt failed)."""
    client = app.extensions["aws"].secretsmanager
    values = {location.secret.setting: read(client, location) for location in app.extensions["secrets"]}
    app.extensions["secret_values"] = Secrets(
        ip_hash_secret=values["IP_HASH_SECRET"].encode("utf-8"), turnstile_secret=values.get("TURNSTILE_SECRET")
    )


def current() -> Secrets:
    """The current app's secrets; the contact routes' hook has read them."""
    found: Secrets = current_app.extensions["secret_values"]
    return found


def load_on_first_use() -> None:
    """The contact routes' before-request hook: the secrets, unless they were read at start-up."""
    if request.method == "OPTIONS" or "secret_values" in current_app.extensions:
        return  # a CORS preflight needs none
    try:
        load(current_app)
    except ConfigError as error:
        # Answered as any unexpected error (a 500, and the alarm on its log
        # marker); this line says which setting, as the answer cannot.
        log.error("secret unreadable", extra={"reason": str(error)})
        raise


def init_app(app: Flask) -> None:
    app.extensions["secrets"] = locations()
    if settings(app).aws_eager_init:
        load(app)
