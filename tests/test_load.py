"""``infra.load`` in small: a few clients for a few seconds, and nothing lost, doubled or failed."""

from __future__ import annotations

import os
from pathlib import Path

from infra import load


def test_a_short_load_run_loses_and_doubles_nothing(compiled_content: Path) -> None:
    environment = dict(os.environ)
    report = load.run(clients=4, seconds=3, contact_share=0.2, content_dir=compiled_content, seed=1)
    assert report.ok, report.format()
    assert report.samples["contact"] and report.duplicates >= 1 and report.stored_messages == report.emails > 0
    assert dict(os.environ) == environment  # the stack's settings do not leak into later tests
