"""The content API through the Lambda entry point: the seed article, the list, the feeds, caching, CORS."""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from apigw import SHAPES, event, json_body, response_header
from conftest import ROOT, SITE_URL, WEBSITE_ORIGIN

from infra import build_content

SLUG = "what-is-psychodynamic-therapy"
# The page as the website shows it today (a copy of shared/seed/, kept here so a clone is self-contained).
SEED = ROOT / "tests" / "fixtures" / "what-is-psychodynamic-therapy.txt"
HEADINGS = [
    "What Happens in Psychodynamic Therapy?",
    "Who Is Psychodynamic Therapy For?",
    "The Benefits of Psychodynamic Therapy",
    "A Gentle, Insight-Oriented Path to Healing",
]
BULLET = "  \u2022 "


def seed_blocks() -> tuple[str, list[str]]:
    """The seed's title and its blocks of text, page chrome ("Contact Me" onwards) left out."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    body = lines[1 : lines.index("Contact Me")]
    return lines[0], [line.removeprefix(BULLET) for line in body if line.strip()]


def get(handler, path: str, **kwargs) -> dict:
    return handler(event("GET", path, **kwargs), None)


# The seed article, word for word.


def test_the_seed_article_comes_back_whole_and_in_order(lambda_handler) -> None:
    title, blocks = seed_blocks()
    article = json_body(get(lambda_handler, f"/articles/{SLUG}"))["article"]
    assert article["title"] == title
    assert article["plaintext"].split("\n\n") == blocks
    assert len(blocks) == 28  # 13 paragraphs, 4 headings, 6 + 5 list items
    # The same text, in the same order, in the HTML.
    html_text = html.unescape(re.sub(r"<[^>]+>", "", article["html"]))
    position = 0
    for block in blocks:
        found = html_text.find(block, position)
        assert found >= 0, block
        position = found + len(block)


def test_the_seed_article_keeps_its_structure(lambda_handler) -> None:
    article = json_body(get(lambda_handler, f"/articles/{SLUG}"))["article"]
    markup = article["html"]
    assert [h["text"] for h in article["headings"]] == HEADINGS
    for heading in article["headings"]:
        assert heading["level"] == 2
        assert f'<h2 id="{heading["id"]}">{heading["text"]}</h2>' in markup
    assert markup.count("<ul>") == 2 and markup.count("<li>") == 11
    assert "<li><strong>Lasting emotional change:</strong> Because psychodynamic" in markup
    assert markup.count("<strong>") == 5
    assert "stress\u2014often" in markup and "\u201cfigured out\u201d" in markup and "don\u2019t" in markup


def test_the_article_has_the_ghost_fields_and_more(lambda_handler) -> None:
    article = json_body(get(lambda_handler, f"/articles/{SLUG}"))["article"]
    words = len(article["plaintext"].split())
    url = f"{SITE_URL}/articles/{SLUG}"
    assert article["slug"] == SLUG
    assert article["word_count"] == words
    assert article["reading_time"] == max(1, round(words / 275))
    assert article["published_at"] == "2026-11-25T00:00:00Z"
    assert article["updated_at"] == "2026-11-25T00:00:00Z"
    assert article["url"] == article["canonical_url"] == url
    assert article["meta_title"] == article["title"]
    assert article["meta_description"] == article["excerpt"]
    assert article["plaintext"].startswith(article["excerpt"])
    assert article["tags"] == [{"name": "Psychodynamic therapy", "slug": "psychodynamic-therapy"}]
    assert article["prev"] is None and article["next"] is None
    assert article["json_ld"] == {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article["title"],
        "description": article["excerpt"],
        "datePublished": "2026-11-25T00:00:00Z",
        "dateModified": "2026-11-25T00:00:00Z",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "wordCount": words,
        "inLanguage": "en",
        "keywords": "Psychodynamic therapy",
    }


def test_the_site_url_comes_from_configuration(make_handler) -> None:
    handler = make_handler(SITE_URL="https://therapy.example.org/")
    article = json_body(get(handler, f"/articles/{SLUG}"))["article"]
    assert article["url"] == f"https://therapy.example.org/articles/{SLUG}"
    assert article["json_ld"]["mainEntityOfPage"]["@id"] == article["url"]
    listed = json_body(get(handler, "/articles"))["articles"][0]
    assert listed["url"] == article["url"]


def test_responses_are_utf8_json(lambda_handler) -> None:
    result = get(lambda_handler, f"/articles/{SLUG}")
    assert response_header(result, "Content-Type") == "application/json"
    assert "\u2019" in result["body"]  # not \u-escaped: UTF-8 as it is


# Many articles: built in a temporary folder, never in content/.


def write_article(folder: Path, slug: str, published: str, **front: object) -> None:
    meta = {"title": f"Title of {slug}", "slug": slug, "published": published, **front}
    lines = [f"{key}: {json.dumps(value) if not isinstance(value, str) else value}" for key, value in meta.items()]
    (folder / f"{slug}.md").write_text("---\n" + "\n".join(lines) + f"\n---\n\nBody of {slug}.\n", encoding="utf-8")


@pytest.fixture
def library(tmp_path: Path, make_handler):
    """Seven published articles (two tagged), a draft and one dated in the future."""
    source = tmp_path / "src"
    source.mkdir()
    for day in range(1, 8):
        tags = ["Grief"] if day in (2, 5) else ["Anxiety"]
        write_article(source, f"article-{day}", f"2026-01-0{day}", tags=tags)
    write_article(source, "a-draft", "2026-01-04", draft=True)
    write_article(source, "the-future", "2999-01-01")
    build_content.build(source, tmp_path / "out")
    return make_handler(CONTENT_DIR=str(tmp_path / "out"))


def test_the_list_is_newest_first_with_summaries_only(library) -> None:
    body = json_body(get(library, "/articles"))
    slugs = [a["slug"] for a in body["articles"]]
    assert slugs == [f"article-{day}" for day in range(7, 0, -1)]
    assert "html" not in body["articles"][0] and "plaintext" not in body["articles"][0]
    assert body["meta"]["pagination"] == {"page": 1, "limit": 15, "pages": 1, "total": 7, "next": None, "prev": None}


def test_the_list_paginates_like_ghost(library) -> None:
    pages = [json_body(get(library, "/articles", query=f"limit=3&page={page}")) for page in (1, 2, 3)]
    assert [[a["slug"] for a in p["articles"]] for p in pages] == [
        ["article-7", "article-6", "article-5"],
        ["article-4", "article-3", "article-2"],
        ["article-1"],
    ]
    assert [p["meta"]["pagination"] for p in pages] == [
        {"page": 1, "limit": 3, "pages": 3, "total": 7, "next": 2, "prev": None},
        {"page": 2, "limit": 3, "pages": 3, "total": 7, "next": 3, "prev": 1},
        {"page": 3, "limit": 3, "pages": 3, "total": 7, "next": None, "prev": 2},
    ]
    beyond = json_body(get(library, "/articles", query="limit=3&page=9"))
    assert beyond["articles"] == [] and beyond["meta"]["pagination"]["prev"] == 8


def test_the_list_filters_by_tag(library) -> None:
    body = json_body(get(library, "/articles", query="tag=grief"))
    assert [a["slug"] for a in body["articles"]] == ["article-5", "article-2"]
    assert body["meta"]["pagination"]["total"] == 2
    assert json_body(get(library, "/articles", query="tag=nothing"))["articles"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "page=0", "page=-1", "limit=1.5"])
def test_a_bad_page_or_limit_is_a_clear_400(library, query: str) -> None:
    result = get(library, "/articles", query=query)
    assert result["statusCode"] == 400
    body = json_body(result)
    assert body["error"] == "bad_request"
    assert query.split("=")[0] in body["message"]


def test_limit_100_is_allowed(library) -> None:
    assert json_body(get(library, "/articles", query="limit=100"))["meta"]["pagination"]["limit"] == 100


def test_drafts_and_future_articles_are_never_served(library) -> None:
    listed = {a["slug"] for a in json_body(get(library, "/articles", query="limit=100"))["articles"]}
    assert "a-draft" not in listed and "the-future" not in listed
    for slug in ("a-draft", "the-future"):
        result = get(library, f"/articles/{slug}")
        assert result["statusCode"] == 404
        assert json_body(result)["error"] == "not_found"
    for path in ("/feed.json", "/feed.xml"):
        body = get(library, path)["body"]
        assert "the-future" not in body and "a-draft" not in body


def test_prev_and_next_follow_publication_order_and_skip_the_unpublished(library) -> None:
    middle = json_body(get(library, "/articles/article-4"))["article"]
    assert middle["prev"] == {"slug": "article-3", "title": "Title of article-3"}
    assert middle["next"] == {"slug": "article-5", "title": "Title of article-5"}
    first = json_body(get(library, "/articles/article-1"))["article"]
    assert first["prev"] is None
    newest = json_body(get(library, "/articles/article-7"))["article"]
    assert newest["next"] is None  # its successor, the-future, is not published yet


def test_a_scheduled_article_appears_when_its_time_comes(tmp_path: Path) -> None:
    from handler.content import ContentStore

    source = tmp_path / "src"
    source.mkdir()
    write_article(source, "today", "2026-03-01")
    write_article(source, "tomorrow", "2026-03-02")
    build_content.build(source, tmp_path / "out")
    now = {"value": dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC).timestamp()}
    store = ContentStore(tmp_path / "out", SITE_URL, "Articles", clock=lambda: now["value"])

    def listed() -> list[str]:
        return [a["slug"] for a in json.loads(store.list_body(store.first_published(), 1, 15, None)[1])["articles"]]

    assert listed() == ["today"]
    assert store.article_body("tomorrow") is None
    before = json.loads(store.article_body("today")[1])["article"]["next"]
    now["value"] = dt.datetime(2026, 3, 2, tzinfo=dt.UTC).timestamp()
    assert listed() == ["tomorrow", "today"]
    after = json.loads(store.article_body("today")[1])["article"]["next"]
    assert (before, after) == (None, {"slug": "tomorrow", "title": "Title of tomorrow"})


# Errors are JSON.


@pytest.mark.parametrize("shape", SHAPES)
def test_an_unknown_path_is_a_json_404(lambda_handler, shape: str) -> None:
    result = get(lambda_handler, "/wp-admin/setup.php", shape=shape)
    assert result["statusCode"] == 404
    assert response_header(result, "Content-Type") == "application/json"
    body = json_body(result)
    assert body["error"] == "not_found" and body["message"]


def test_an_unknown_slug_is_a_json_404_naming_it(lambda_handler) -> None:
    body = json_body(get(lambda_handler, "/articles/no-such-article"))
    assert body == {"error": "not_found", "message": "No published article has the slug 'no-such-article'."}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_a_wrong_method_is_a_json_405(lambda_handler, method: str) -> None:
    result = lambda_handler(event(method, f"/articles/{SLUG}", body="{}"), None)
    assert result["statusCode"] == 405
    assert json_body(result)["error"] == "method_not_allowed"
    assert set(response_header(result, "Allow").split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "raw_path",
    [
        "/articles/..%2F..%2Fmanifest",
        "/articles/..%2Findex",
        "/articles/" + "a" * 5000,
        "/articles/%00",
        "/articles/%E2%80%AE",
        "/articles/" + "%C3%A9" * 150,
        "/articles/%FF%FE",
        "/articles/%ED%A0%80",
        "/articles/WHAT-IS-PSYCHODYNAMIC-THERAPY",
    ],
)
def test_a_hostile_slug_is_a_json_404(lambda_handler, raw_path: str, shape: str) -> None:
    result = lambda_handler(event("GET", shape=shape, raw_path=raw_path), None)
    assert result["statusCode"] == 404, raw_path
    assert json_body(result)["error"] == "not_found"


@pytest.mark.parametrize("query", ["page=" + "9" * 5000, "limit=" + "1" * 5000, "page=%00", "page=%E0%A5%A7"])
def test_a_hostile_page_or_limit_is_a_400(lambda_handler, query: str) -> None:
    result = get(lambda_handler, "/articles", query=query)
    assert result["statusCode"] == 400 and json_body(result)["error"] == "bad_request"


# Caching.


@pytest.mark.parametrize("path", ["/articles", f"/articles/{SLUG}", "/feed.json", "/feed.xml"])
def test_content_has_a_strong_etag_and_304s(lambda_handler, path: str) -> None:
    first = get(lambda_handler, path)
    etag = response_header(first, "ETag")
    assert first["statusCode"] == 200 and re.fullmatch(r'"[0-9a-f-]+"', etag)
    assert response_header(first, "Cache-Control") == "public, max-age=300, stale-while-revalidate=86400"
    again = get(lambda_handler, path, headers={"If-None-Match": etag})
    assert again["statusCode"] == 304 and again["body"] == ""
    assert response_header(again, "ETag") == etag
    other = get(lambda_handler, path, headers={"If-None-Match": '"something-else"'})
    assert other["statusCode"] == 200 and other["body"] == first["body"]


def test_the_etag_changes_with_the_body(make_handler) -> None:
    one = response_header(get(make_handler(), f"/articles/{SLUG}"), "ETag")
    two = response_header(get(make_handler(SITE_URL="https://elsewhere.example"), f"/articles/{SLUG}"), "ETag")
    assert one != two


def test_cache_control_is_configurable(make_handler) -> None:
    handler = make_handler(CACHE_CONTROL="public, max-age=60")
    assert response_header(get(handler, "/articles"), "Cache-Control") == "public, max-age=60"


def test_head_answers_headers_without_a_body(lambda_handler) -> None:
    result = lambda_handler(event("HEAD", f"/articles/{SLUG}"), None)
    assert result["statusCode"] == 200 and result["body"] == ""
    assert response_header(result, "ETag")


# CORS.


def test_the_website_origin_gets_cors_headers(lambda_handler) -> None:
    result = get(lambda_handler, "/articles", headers={"Origin": WEBSITE_ORIGIN})
    assert response_header(result, "Access-Control-Allow-Origin") == WEBSITE_ORIGIN
    assert "ETag" in response_header(result, "Access-Control-Expose-Headers")
    assert "Origin" in response_header(result, "Vary")


def test_another_origin_gets_no_cors_headers(lambda_handler) -> None:
    result = get(lambda_handler, "/articles", headers={"Origin": "https://evil.example"})
    assert result["statusCode"] == 200
    assert not [name for name in result["headers"] if name.lower().startswith("access-control-")]
    assert "Origin" in response_header(result, "Vary")


def test_a_preflight_from_the_website_is_answered(lambda_handler) -> None:
    preflight = event(
        "OPTIONS",
        "/articles",
        headers={
            "Origin": WEBSITE_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    result = lambda_handler(preflight, None)
    assert result["statusCode"] == 200
    assert response_header(result, "Access-Control-Allow-Origin") == WEBSITE_ORIGIN
    assert "GET" in response_header(result, "Access-Control-Allow-Methods")
    assert "If-None-Match" in response_header(result, "Access-Control-Allow-Headers")
    assert response_header(result, "Access-Control-Max-Age") == "600"


def test_a_preflight_from_another_origin_gets_no_cors_headers(lambda_handler) -> None:
    preflight = event(
        "OPTIONS", "/articles", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    result = lambda_handler(preflight, None)
    assert not [name for name in result["headers"] if name.lower().startswith("access-control-")]


def test_several_origins_can_be_allowed(make_handler) -> None:
    handler = make_handler(ALLOWED_ORIGINS="https://a.example, https://b.example")
    for origin in ("https://a.example", "https://b.example"):
        assert (
            response_header(get(handler, "/articles", headers={"Origin": origin}), "Access-Control-Allow-Origin")
            == origin
        )


# Feeds and health.


def test_the_json_feed_is_json_feed_1_1(lambda_handler) -> None:
    result = get(lambda_handler, "/feed.json")
    assert response_header(result, "Content-Type") == "application/feed+json"
    feed = json_body(result)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["home_page_url"] == SITE_URL + "/"
    assert feed["feed_url"].endswith("/feed.json")
    (item,) = feed["items"]
    assert item["id"] == item["url"] == f"{SITE_URL}/articles/{SLUG}"
    assert item["content_html"].startswith("<p>Psychodynamic therapy is a depth-oriented")
    assert dt.datetime.fromisoformat(item["date_published"]) == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    assert item["tags"] == ["Psychodynamic therapy"]


def test_the_rss_feed_is_rss_2_0(lambda_handler) -> None:
    result = get(lambda_handler, "/feed.xml")
    assert response_header(result, "Content-Type").startswith("application/rss+xml")
    root = ET.fromstring(result["body"].encode("utf-8"))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required)
    (item,) = channel.findall("item")
    assert item.findtext("link") == f"{SITE_URL}/articles/{SLUG}"
    assert email.utils.parsedate_to_datetime(item.findtext("pubDate")) == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert encoded.startswith("<p>Psychodynamic therapy is a depth-oriented")


def test_health_names_the_content_build(lambda_handler, compiled_content: Path) -> None:
    manifest = json.loads((compiled_content / "manifest.json").read_text())
    result = get(lambda_handler, "/health")
    assert result["statusCode"] == 200
    assert json_body(result) == {"status": "ok", "content_build": manifest["build_id"], "articles": 1}
