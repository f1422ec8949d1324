"""axe-core's accessibility rules, run in a real browser page (Playwright), for every page a person uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parent.parent / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"

needs_axe = pytest.mark.skipif(
    not AXE.is_file(), reason="axe-core is not installed: `make node-tools` installs it under build/node (needs npm)"
)


def axe_violations(page: Any) -> list[str]:
    """Each rule axe-core finds broken on the page as it is now, with the elements that break it."""
    from playwright.sync_api import Error

    try:
        page.add_script_tag(path=str(AXE))
    except Error:
        # The page's Content-Security-Policy allows no script (the inbox's pages): judge a copy.
        return copied_page_violations(page)
    if page.evaluate("typeof window.axe") == "undefined":
        # JavaScript is off for this page, and axe needs it: judge a copy of its document, at its address.
        return copied_page_violations(page)
    results = page.evaluate("axe.run()")
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results["violations"]
    ]


def copied_page_violations(page: Any) -> list[str]:
    html, url = page.content(), page.url
    context = page.context.browser.new_context()
    try:
        copy = context.new_page()
        copy.route(url, lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"))
        copy.goto(url)
        return axe_violations(copy)
    finally:
        context.close()


def assert_accessible(page: Any, when: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core, {when}:\n" + "\n".join(violations)
