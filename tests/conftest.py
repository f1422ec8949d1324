"""Fixtures: compiled content, and the Lambda entry point configured as a deployment would be."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra import build_content

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = "https://www.practice.example"
WEBSITE_ORIGIN = "https://www.practice.example"

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


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
        settings = {
            "CONTENT_DIR": str(compiled_content),
            "SITE_URL": SITE_URL,
            "ALLOWED_ORIGINS": WEBSITE_ORIGIN,
            **environment,
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        import handler.main

        return importlib.reload(handler.main).lambda_handler

    return factory


@pytest.fixture
def lambda_handler(make_handler: Callable[..., LambdaHandler]) -> LambdaHandler:
    return make_handler()
