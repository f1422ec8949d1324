"""``template.yaml``: lint-clean, and in step with the code it deploys."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from conftest import BASE_ENVIRONMENT

from handler.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_finds_no_error_and_no_warning() -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", str(TEMPLATE)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip() == ""


def test_each_function_handler_is_a_callable_of_the_package(template: dict[str, Any], monkeypatch, compiled_content) -> None:
    for name, value in {**BASE_ENVIRONMENT, "CONTENT_DIR": str(compiled_content)}.items():
        monkeypatch.setenv(name, value)
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


# Read by the code, with defaults that fit a deployment, so not (yet) set by the template.
DEFAULTED = {
    "CONTENT_DIR",
    "CACHE_CONTROL",
    "CRISIS_NOTICE",
    "CONSENT_TEXT",
    "RATE_LIMIT_COUNT",
    "RATE_LIMIT_WINDOW_SECONDS",
    "TURNSTILE_SECRET",
    "TURNSTILE_VERIFY_URL",
    "AWS_EAGER_INIT",
}


def test_the_template_sets_exactly_the_variables_the_code_reads(template: dict[str, Any]) -> None:
    environment = RecordingEnvironment({k: v for k, v in BASE_ENVIRONMENT.items() if not k.startswith("AWS_")})
    load_settings(environment)
    shared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for name, function in functions(template).items():
        own = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        variables = shared | own
        assert variables <= environment.read, variables - environment.read
        assert environment.read - variables <= DEFAULTED, (name, environment.read - variables - DEFAULTED)


def test_the_template_transforms_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the region the transform writes into ARNs
    from samtranslator.translator.transform import transform
    from samtranslator.public.translator import ManagedPolicyLoader

    class NoPolicies(ManagedPolicyLoader):
        def __init__(self) -> None:
            pass

        def load(self) -> dict[str, str]:
            return {}

    packaged = cfn_yaml.load(str(TEMPLATE))
    for function in functions(packaged).values():
        # What `sam deploy` puts there once it has uploaded the built code.
        function["Properties"]["CodeUri"] = "s3://deployment-bucket/function.zip"
    transformed = transform(packaged, {}, NoPolicies())
    kinds = {resource["Type"] for resource in transformed["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::ApiGatewayV2::Api", "AWS::IAM::Role"} <= kinds
