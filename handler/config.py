"""Settings, read once from the environment that ``template.yaml`` sets.

Every variable the function reads is named here and nowhere else, so the
template and the code can be checked against each other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "compiled_content"
DEFAULT_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"


class ConfigError(ValueError):
    """A setting that cannot work; raised at start-up, never per request."""


def parse_origin(value: str, variable: str) -> str:
    """``scheme://host[:port]``, as browsers send it in ``Origin``."""
    origin = value.strip().rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ConfigError(f"{variable}: {value!r} is not an origin such as https://www.example.com")
    return origin


def load_settings(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The app's configuration, from environment variables with safe defaults."""
    origins = [
        parse_origin(item, "ALLOWED_ORIGINS") for item in environ.get("ALLOWED_ORIGINS", "").split(",") if item.strip()
    ]
    site_url = environ.get("SITE_URL", "http://127.0.0.1:3000").strip().rstrip("/")
    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"SITE_URL: {site_url!r} is not an http(s) URL")
    return {
        "CONTENT_DIR": environ.get("CONTENT_DIR", str(DEFAULT_CONTENT_DIR)),
        "SITE_URL": site_url,
        "SITE_TITLE": environ.get("SITE_TITLE", "Articles"),
        "ALLOWED_ORIGINS": origins,
        "CONTENT_CACHE_CONTROL": environ.get("CACHE_CONTROL", DEFAULT_CACHE_CONTROL),
    }
