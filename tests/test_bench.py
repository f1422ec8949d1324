"""``make bench`` writes its table into docs/performance.md, between the bench markers, and nothing else there.

The benchmarks themselves are not run here (they take minutes, and their figures
mean something only on a quiet machine): this checks where their table goes and
how a target is judged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import bench

START, END = "<!-- bench:start -->\n", "<!-- bench:end -->"


def test_the_table_replaces_only_what_lies_between_the_markers_of_the_performance_doc(tmp_path: Path) -> None:
    document = tmp_path / "performance.md"
    shutil.copy(bench.PERFORMANCE_DOC, document)
    before = document.read_text(encoding="utf-8")
    assert before.count(START) == 1 and before.count(END) == 1
    table = bench.render(
        [
            bench.compared("warm `GET /x` vs the minimal app's route", "200 µs vs 100 µs", 2e-4, 1e-4, 1.5),
            bench.compared("content build time per article", "1 ms vs 1 ms", 1.0, 1.0),
        ]
    )

    assert bench.write_table(document, table)

    head, _, rest = before.partition(START)
    _, _, tail = rest.partition(END)
    after = document.read_text(encoding="utf-8")
    assert after == head + START + table + "\n" + END + tail
    assert (
        "| warm `GET /x` vs the minimal app's route | 200 µs vs 100 µs | 2.00x | at most 1.5x: **exceeded** |" in after
    )
    assert "| content build time per article | 1 ms vs 1 ms | 1.00x |  |" in after
    # A second run writes in the same place: nothing doubles.
    assert bench.write_table(document, table)
    assert document.read_text(encoding="utf-8") == after


def test_a_document_without_markers_is_left_as_it_is(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_text("# Notes\n", encoding="utf-8")

    assert not bench.write_table(document, "| a table |")
    assert document.read_text(encoding="utf-8") == "# Notes\n"


def test_a_target_is_judged_on_the_ratio_the_table_shows() -> None:
    assert bench.compared("m", "", 3.504, 1.0, 3.5).met  # shown as 3.50x
    assert not bench.compared("m", "", 3.506, 1.0, 3.5).met  # shown as 3.51x
    assert bench.compared("m", "", 9.0, 1.0).met  # no target: reported, not judged


def test_help_names_the_document_and_measures_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        bench.main(["--help"])

    assert stopped.value.code == 0
    assert "docs/performance.md" in capsys.readouterr().out
