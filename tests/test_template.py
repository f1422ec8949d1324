"""``template.yaml``: lint-clean, and in step with the code it deploys."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml
from conftest import BASE_ENVIRONMENT

from handler import secrets
from handler.config import DEFAULTS_IN_AWS, load_settings
from handler.inbox.settings import load_inbox_settings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_finds_no_error_and_no_warning() -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", str(TEMPLATE)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip() == ""


def test_each_function_handler_is_a_callable_of_the_package(template: dict[str, Any], function_environment) -> None:
    for name, function in functions(template).items():
        module_name, _, attribute = function["Properties"]["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module_name), attribute)), name


def test_the_function_runs_python_3_13_or_newer_on_arm64(template: dict[str, Any]) -> None:
    settings = {**template["Globals"]["Function"]}
    for function in functions(template).values():
        merged = {**settings, **function["Properties"]}
        major, minor = map(int, re.fullmatch(r"python(\d+)\.(\d+)", merged["Runtime"]).groups())
        assert (major, minor) >= (3, 13)
        assert merged["Architectures"] == ["arm64"]


def test_sam_build_uses_the_makefile_recipe(template: dict[str, Any]) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for name, function in functions(template).items():
        assert function["Metadata"] == {"BuildMethod": "makefile"}
        assert re.search(rf"^[^:\n]*\bbuild-{name}\b[^:\n]*:", makefile, re.MULTILINE), name
    from infra.package import LAMBDA_PYTHON

    assert template["Globals"]["Function"]["Runtime"] == f"python{LAMBDA_PYTHON}"


class RecordingEnvironment(dict):
    """An environment that remembers which variables the code asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


def variables_read(reads_secrets: bool) -> set[str]:
    environment = RecordingEnvironment({k: v for k, v in BASE_ENVIRONMENT.items() if not k.startswith("AWS_")})
    settings = load_settings(environment)
    if reads_secrets:
        secrets.locations(environment)
        load_inbox_settings(environment, notify_emails=settings.alert.notify_email)
    return environment.read


def test_the_template_sets_exactly_the_variables_the_code_reads(template: dict[str, Any]) -> None:
    # The API function reads its secrets; the other functions' apps are made without them.
    without_secrets = variables_read(reads_secrets=False)
    read = {
        "ApiFunction": variables_read(reads_secrets=True),
        "RetryFunction": without_secrets,
        "DeliveryEventsFunction": without_secrets,
    }
    shared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for name, function in functions(template).items():
        own = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        variables = shared | own
        expected = read[name] - set(DEFAULTS_IN_AWS)
        if name != "RetryFunction":
            # Only the retry function is told the inbox's URL (see template.yaml): the API function
            # links to the domain a request came to, and the delivery events send no alert.
            expected -= {"INBOX_URL"}
        assert variables == expected, (name, variables ^ expected)
        assert not variables & set(DEFAULTS_IN_AWS), name


def test_the_table_is_kept_recoverable_encrypted_and_expiring(template: dict[str, Any]) -> None:
    table = template["Resources"]["ContactTable"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_a_hanging_dynamodb_leaves_time_for_the_email_fallback(template: dict[str, Any]) -> None:
    from handler import aws, turnstile

    # Every attempt of a call timing out, with botocore's standard backoff
    # between attempts (at most 1, 2, 4 ... seconds).
    slowest_call = aws.MAX_ATTEMPTS * (aws.CONNECT_TIMEOUT_SECONDS + aws.READ_TIMEOUT_SECONDS) + sum(
        2**n for n in range(aws.MAX_ATTEMPTS - 1)
    )
    # One attempt of the quick client (connect, then read).
    quick_call = 2 * aws.QUICK_TIMEOUT_SECONDS
    # The Turnstile check, the transaction, the look-up of the message, the
    # fallback email, and the one try to record it as sent.
    slowest_request = turnstile.TIMEOUT_SECONDS + 2 * slowest_call + 2 * quick_call
    timeout = template["Resources"]["ApiFunction"]["Properties"].get(
        "Timeout", template["Globals"]["Function"]["Timeout"]
    )
    assert slowest_request + 2 <= timeout < 30  # 30 s: the HTTP API's own limit


def test_the_api_logs_nothing_personal_and_is_throttled(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    log_format = api["AccessLogSettings"]["Format"]
    for personal in ("sourceIp", "userAgent", "identity", "querystring", "path"):
        assert personal not in log_format
    json_format = json.loads(log_format)
    assert json_format["status"] == "$context.status"
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert "CorsConfiguration" not in api  # CORS is the app's, in one place


def test_every_alarm_reaches_the_alarm_email(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    alarms = {name: r for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    metrics = {(str(a["Properties"]["Namespace"]), a["Properties"]["MetricName"]) for a in alarms.values()}
    assert {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        (str({"Fn::Sub": "PracticeBackend/${AWS::StackName}"}), "NotificationsFailed"),
    } <= metrics
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    (subscription,) = resources["AlarmTopic"]["Properties"]["Subscription"]
    assert subscription == {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}


def test_the_log_markers_the_alarms_watch_are_the_ones_the_code_logs(
    template: dict[str, Any], function_environment
) -> None:
    from handler.delivery import PERMANENT_FAILURE
    from handler.delivery_events import ALERT_NOT_DELIVERED
    from handler.errors import UNHANDLED_ERROR
    from handler.submission import CONTACT_NOT_RECEIVED

    patterns = {
        r["Properties"]["FilterPattern"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Logs::MetricFilter"
    }
    assert patterns == {PERMANENT_FAILURE, CONTACT_NOT_RECEIVED, UNHANDLED_ERROR, ALERT_NOT_DELIVERED}


def test_logs_are_json_and_kept_90_days(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for name, function in functions(template).items():
        logging = function["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON"
        group = resources[logging["LogGroup"]["Ref"]]
        assert group["Properties"]["RetentionInDays"] == 90, name
    assert resources["HttpApiAccessLogGroup"]["Properties"]["RetentionInDays"] == 90


def test_snapstart_is_an_option_that_sets_up_aws_clients_before_the_snapshot(template: dict[str, Any]) -> None:
    api = template["Resources"]["ApiFunction"]["Properties"]
    assert api["AutoPublishAlias"] == "live"
    assert api["SnapStart"]["Fn::If"][0] == "UseSnapStart"
    assert template["Parameters"]["SnapStart"]["Default"] == "true"
    eager = template["Globals"]["Function"]["Environment"]["Variables"]["AWS_EAGER_INIT"]
    assert eager == {"Fn::If": ["UseSnapStart", "true", "false"]}


def test_every_parameter_is_described_and_no_secret_has_a_default(template: dict[str, Any]) -> None:
    for name, parameter in template["Parameters"].items():
        assert parameter.get("Description"), name
        if "Secret" in name and "Version" not in name:
            assert parameter.get("Default", "") == "", name
