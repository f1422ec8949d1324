"""The content compiler: clear errors for bad front matter, safe HTML, stable heading ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import build_content
from infra.build_content import ContentError

GOOD = {"title": "A title", "slug": "a-title", "published": "2026-01-01"}


def write(folder: Path, name: str, front: str, body: str = "Some text.\n") -> Path:
    path = folder / name
    path.write_text(f"---\n{front}\n---\n\n{body}", encoding="utf-8")
    return path


def front(**fields: str) -> str:
    merged = {**GOOD, **fields}
    return "\n".join(f"{key}: {value}" for key, value in merged.items() if value is not None)


@pytest.mark.parametrize(
    ("front_matter", "field", "problem"),
    [
        ("slug: a-title\npublished: 2026-01-01", "title", "missing"),
        ("title: A title\npublished: 2026-01-01", "slug", "missing"),
        ("title: A title\nslug: a-title", "published", "missing"),
        (front(published="2026-13-45"), "published", "bad date"),
        (front(published="yesterday"), "published", "bad date"),
        (front(published="20260101"), "published", "bad date"),
        (front(published="2026-01-01T10:00:00"), "published", "time zone"),
        (front(updated="2025-12-31"), "updated", "before the published date"),
        (front(colour="blue"), "colour", "unknown key"),
        (front(slug="Not A Slug"), "slug", "lower-case"),
        (front(title="''"), "title", "non-empty"),
        (front(tags="just-a-string"), "tags", "list of names"),
        (front(draft="maybe"), "draft", "true or false"),
        ("- a list\n- not a mapping", "front matter", "mapping"),
        ("title: [unclosed", "front matter", "not valid YAML"),
    ],
)
def test_bad_front_matter_names_the_file_and_the_field(
    tmp_path: Path, front_matter: str, field: str, problem: str
) -> None:
    path = write(tmp_path, "bad.md", front_matter)
    with pytest.raises(ContentError) as caught:
        build_content.build(tmp_path, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}:"), message
    assert problem in message
    assert not (tmp_path / "out").exists()


def test_a_duplicate_slug_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "one.md", front())
    second = write(tmp_path, "two.md", front(title="Another"))
    with pytest.raises(ContentError, match="duplicate slug 'a-title'") as caught:
        build_content.build(tmp_path, tmp_path / "out")
    assert str(second) in str(caught.value) and str(first) in str(caught.value)


def test_no_front_matter_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "plain.md").write_text("# Just markdown\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"plain\.md: front matter: the file must start with"):
        build_content.build(tmp_path, tmp_path / "out")


def test_the_command_line_reports_the_error_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "bad.md", front(colour="blue"))
    assert build_content.main([str(tmp_path), str(tmp_path / "out")]) == 1
    assert "bad.md: colour: unknown key" in capsys.readouterr().err


def test_a_failed_build_leaves_the_previous_output_alone(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    write(source, "good.md", front())
    manifest = build_content.build(source, tmp_path / "out")
    write(source, "bad.md", front(slug="other", published="never"))
    with pytest.raises(ContentError):
        build_content.build(source, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "manifest.json").read_text()) == manifest


def compile_one(tmp_path: Path, body: str, **fields: str) -> dict:
    write(tmp_path, "one.md", front(**fields), body)
    build_content.build(tmp_path, tmp_path / "out")
    compiled = json.loads((tmp_path / "out" / "articles" / "a-title.json").read_text())
    return json.loads(compiled["body"])["article"]


def test_raw_html_is_escaped_not_rendered(tmp_path: Path) -> None:
    article = compile_one(tmp_path, "Hello <script>alert(1)</script>\n\n<iframe src=x></iframe>\n")
    assert "<script>" not in article["html"] and "<iframe" not in article["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article["html"]


def test_heading_ids_are_unique_and_match_the_toc(tmp_path: Path) -> None:
    article = compile_one(tmp_path, "## Notes\n\ntext\n\n## Notes\n\nmore\n\n### Zoë’s café!\n\nend\n")
    assert article["headings"] == [
        {"level": 2, "text": "Notes", "id": "notes"},
        {"level": 2, "text": "Notes", "id": "notes-2"},
        {"level": 3, "text": "Zoë’s café!", "id": "zoes-cafe"},
    ]
    for heading in article["headings"]:
        assert f'id="{heading["id"]}"' in article["html"]


def test_without_an_excerpt_the_opening_paragraph_is_used(tmp_path: Path) -> None:
    article = compile_one(tmp_path, "First *paragraph* here.\n\nSecond.\n")
    assert article["excerpt"] == "First paragraph here."


def test_a_date_and_time_with_a_zone_is_kept_in_utc(tmp_path: Path) -> None:
    article = compile_one(tmp_path, "Text.\n", published="2026-03-01T09:30:00+02:00", updated="2026-03-02")
    assert (article["published_at"], article["updated_at"]) == ("2026-03-01T07:30:00Z", "2026-03-02T00:00:00Z")


def test_an_author_is_optional_and_shown_when_given(tmp_path: Path) -> None:
    article = compile_one(tmp_path, "Text.\n", author="Dr. Example")
    assert article["author"] == {"name": "Dr. Example"}
    assert article["json_ld"]["author"] == {"@type": "Person", "name": "Dr. Example"}


def test_the_repository_article_matches_the_seed_word_for_word() -> None:
    root = Path(__file__).resolve().parent.parent
    seed = (root / "tests" / "fixtures" / "what-is-psychodynamic-therapy.txt").read_text(encoding="utf-8")
    markdown = (root / "content" / "what-is-psychodynamic-therapy.md").read_text(encoding="utf-8")
    body = markdown.split("\n---\n", 1)[1]
    seed_lines = [
        line.strip().removeprefix("\u2022 ") for line in seed.split("\n")[1 : seed.split("\n").index("Contact Me")]
    ]
    md_lines = [line.removeprefix("## ").removeprefix("- ").replace("**", "") for line in body.split("\n")]
    assert [line for line in md_lines if line] == [line for line in seed_lines if line]
