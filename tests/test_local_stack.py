"""``make run``'s server, over real HTTP: the same entry point behind a local stand-in for API Gateway."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WEBSITE_ORIGIN

from infra import local_stack


LOCAL_VARIABLES = (*local_stack.LOCAL_SETTINGS, "CONTENT_DIR", "SITE_URL", "ALLOWED_ORIGINS", "IP_HASH_SECRET", "AWS_ENDPOINT_URL")


@pytest.fixture
def base_url(monkeypatch: pytest.MonkeyPatch, compiled_content: Path) -> Iterator[str]:
    for name in LOCAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    stack = local_stack.start(port=0, environ={"CONTENT_DIR": str(compiled_content), "ALLOWED_ORIGINS": WEBSITE_ORIGIN})
    try:
        yield stack.url
    finally:
        stack.stop()
        for name in LOCAL_VARIABLES:
            monkeypatch.delenv(name, raising=False)


def test_the_article_is_served_over_http(base_url: str) -> None:
    request = urllib.request.Request(
        base_url + "/articles/what-is-psychodynamic-therapy", headers={"Origin": WEBSITE_ORIGIN}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == WEBSITE_ORIGIN
        etag = response.headers["ETag"]
        article = json.load(response)["article"]
    assert article["title"].startswith("What Is Psychodynamic Therapy?")
    assert article["url"] == f"{base_url}/articles/what-is-psychodynamic-therapy"
    conditional = urllib.request.Request(request.full_url, headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(conditional, timeout=10)
    assert not_modified.value.code == 304


def test_errors_are_json_over_http(base_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base_url + "/nowhere", timeout=10)
    assert missing.value.code == 404
    assert json.load(missing.value)["error"] == "not_found"


def test_the_request_log_names_no_client_address(base_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    urllib.request.urlopen(base_url + "/health?email=someone@example.com", timeout=10).read()
    printed = capsys.readouterr()
    assert "GET /health 200" in printed.out
    assert "127.0.0.1" not in printed.out + printed.err and "someone" not in printed.out + printed.err
