"""The articles, served from the bodies that ``infra/build_content.py`` compiled.

Nothing here parses Markdown or YAML. A single article reads one small file,
lazily, so its cost does not grow with the number of articles; the list and
the feeds read one index. What depends on the clock (an article scheduled for
later) or on the deployment (the site's base URL) is settled here, at request
time, from the compiled parts, and each finished body is kept with its ETag
until the set of published articles changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, abort, current_app, request

from handler.config import settings

# Where the compiled bodies say "the site's base URL"; replaced at run time.
SITE_URL_TOKEN = "{{site_url}}"
FEED_SIZE = 20
DEFAULT_LIMIT = 15
MAX_LIMIT = 100
MAX_SLUG_LENGTH = 200
# The compiler's slug rule; anything else is not looked up on disk at all.
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_PAGE_DIGITS = 6

Body = tuple[str, bytes]  # (ETag, response body)

bp = Blueprint("content", __name__)


def body_etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ContentStore:
    """Read-only access to one compiled content directory."""

    def __init__(
        self,
        directory: Path,
        site_url: str,
        site_title: str,
        clock: Callable[[], float] = time.time,
        cache_control: str = "no-cache",
    ) -> None:
        self.directory = directory
        self.cache_control = cache_control
        self.site_url = site_url
        self.site_title = site_title
        self.clock = clock
        self._site_url_json = json.dumps(site_url)[1:-1]
        # A served article's ETag is the compiled one plus the base URL it was
        # completed with, so that a new SITE_URL never reuses an old tag.
        self._site_tag = hashlib.sha256(site_url.encode("utf-8")).hexdigest()[:8]
        self.compiled_article = functools.lru_cache(maxsize=512)(self._read_article)
        self._finished_article = functools.lru_cache(maxsize=1024)(self._fill_site_url)
        self.list_body = functools.lru_cache(maxsize=256)(self._list_body)
        self.feed_body = functools.lru_cache(maxsize=8)(self._feed_body)

    @functools.cached_property
    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.directory / "manifest.json").read_bytes())
        return manifest

    @functools.cached_property
    def _index(self) -> dict[str, Any]:
        index: dict[str, Any] = json.loads((self.directory / "index.json").read_bytes())
        for summary in index["articles"]:
            summary["url"] = self.url(summary["slug"])
        return index

    def url(self, slug: str) -> str:
        return f"{self.site_url}/articles/{slug}"

    def first_published(self) -> int:
        """Where the published articles start in the index (newest first, future ones ahead)."""
        now = self.clock()
        times = self._index["published_ts"]
        position = 0
        while position < len(times) and times[position] > now:
            position += 1
        return position

    def published(self, start: int | None = None) -> list[dict[str, Any]]:
        """The summaries visible now, newest first."""
        articles: list[dict[str, Any]] = self._index["articles"]
        return articles[self.first_published() if start is None else start :]

    def _read_article(self, slug: str) -> dict[str, Any] | None:
        try:
            article: dict[str, Any] = json.loads((self.directory / "articles" / f"{slug}.json").read_bytes())
        except FileNotFoundError:
            return None
        return article

    def _fill_site_url(self, etag: str, body: str) -> Body:
        text = body.replace(SITE_URL_TOKEN, self._site_url_json)
        return f"{etag}-{self._site_tag}", text.encode("utf-8")

    def article_body(self, slug: str) -> Body | None:
        """The ETag and body of an article visible now, or None."""
        compiled = self.compiled_article(slug)
        now = self.clock()
        if compiled is None or compiled["published_ts"] > now:
            return None
        next_at = compiled["next_published_ts"]
        suffix = "" if next_at is None or next_at <= now else "_without_next"
        return self._finished_article(compiled["etag" + suffix], compiled["body" + suffix])

    def _list_body(self, start: int, page: int, limit: int, tag: str | None) -> Body:
        articles = self.published(start)
        if tag is not None:
            articles = [a for a in articles if any(t["slug"] == tag for t in a["tags"])]
        total = len(articles)
        pages = max(1, math.ceil(total / limit))
        pagination = {
            "page": page,
            "limit": limit,
            "pages": pages,
            "total": total,
            "next": page + 1 if page < pages else None,
            "prev": page - 1 if page > 1 else None,
        }
        first = (page - 1) * limit
        body = json_bytes({"articles": articles[first : first + limit], "meta": {"pagination": pagination}})
        return body_etag(body), body

    def feed_items(self, start: int) -> list[tuple[dict[str, Any], str]]:
        """The newest published summaries with their HTML."""
        items = []
        for summary in self.published(start)[:FEED_SIZE]:
            compiled = self.compiled_article(summary["slug"])
            items.append((summary, compiled["html"] if compiled else ""))
        return items

    def _feed_body(self, kind: str, start: int, feed_url: str) -> Body:
        render = json_feed if kind == "json" else rss_feed
        body = render(self.site_url, self.site_title, feed_url, self.feed_items(start))
        return body_etag(body), body


def store() -> ContentStore:
    found: ContentStore = current_app.extensions["content_store"]
    return found


def init_app(app: Flask) -> None:
    """Attach the content store for the app's settings and register the routes."""
    config = settings(app)
    app.extensions["content_store"] = ContentStore(
        config.content_dir, config.site_url, config.site_title, cache_control=config.cache_control
    )
    app.register_blueprint(bp)


def cacheable(content: ContentStore, found: Body, mimetype: str) -> Response:
    """A content response with a strong ETag; 304 with no body when the client has it."""
    return cached_response(found, mimetype, content.cache_control)


def cached_response(found: Body, mimetype: str, cache_control: str) -> Response:
    """A response with a strong ETag, cached as ``cache_control`` says; 304 with no body when the client has it."""
    etag, body = found
    headers = [("ETag", f'"{etag}"'), ("Cache-Control", cache_control)]
    # RFC 9110: If-None-Match compares weakly. Parsed only when sent: most requests have none.
    if "HTTP_IF_NONE_MATCH" in request.environ and request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    return Response(body, mimetype=mimetype, headers=headers)


def positive_int(args: Any, name: str, default: int, maximum: int | None = None) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if (
        not raw.isascii()
        or not raw.isdigit()
        or len(raw) > MAX_PAGE_DIGITS
        or int(raw) < 1
        or (maximum is not None and int(raw) > maximum)
    ):
        bound = f" from 1 to {maximum}" if maximum else " of 1 or more"
        abort(400, description=f"'{name}' must be a whole number{bound}.")
    return int(raw)


@bp.get("/articles")
def list_articles() -> Response:
    content = store()
    if request.environ.get("QUERY_STRING"):
        args = request.args
        limit = positive_int(args, "limit", DEFAULT_LIMIT, MAX_LIMIT)
        page = positive_int(args, "page", 1)
        tag = args.get("tag")
    else:  # the website's usual request: no need to parse a query
        limit, page, tag = DEFAULT_LIMIT, 1, None
    found = content.list_body(content.first_published(), page, limit, tag)
    return cacheable(content, found, "application/json")


@bp.get("/articles/<slug>")
def get_article(slug: str) -> Response:
    content = store()
    found = content.article_body(slug) if len(slug) <= MAX_SLUG_LENGTH and SLUG.fullmatch(slug) else None
    if found is None:
        shown = slug[:MAX_SLUG_LENGTH].encode("utf-8", "replace").decode("utf-8")
        abort(404, description=f"No published article has the slug '{shown}'.")
    return cacheable(content, found, "application/json")


@bp.get("/feed.json")
def get_json_feed() -> Response:
    content = store()
    return cacheable(
        content, content.feed_body("json", content.first_published(), request.base_url), "application/feed+json"
    )


@bp.get("/feed.xml")
def get_rss_feed() -> Response:
    content = store()
    return cacheable(
        content, content.feed_body("rss", content.first_published(), request.base_url), "application/rss+xml"
    )


def json_feed(site_url: str, title: str, feed_url: str, items: list[tuple[dict[str, Any], str]]) -> bytes:
    """A JSON Feed 1.1 document."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": site_url + "/",
        "feed_url": feed_url,
        "language": "en",
        "items": [
            {
                "id": summary["url"],
                "url": summary["url"],
                "title": summary["title"],
                "summary": summary["excerpt"],
                "content_html": html,
                "date_published": summary["published_at"],
                "date_modified": summary["updated_at"],
                "tags": [tag["name"] for tag in summary["tags"]],
                **({"authors": [summary["author"]]} if summary["author"] else {}),
            }
            for summary, html in items
        ],
    }
    return json_bytes(feed)


def rfc822(iso_time: str) -> str:
    moment = dt.datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return format_datetime(moment, usegmt=True)


def rss_feed(site_url: str, title: str, feed_url: str, items: list[tuple[dict[str, Any], str]]) -> bytes:
    """An RSS 2.0 document, with each article's HTML in ``content:encoded``."""
    entries = []
    for summary, html in items:
        categories = "".join(f"<category>{escape(tag['name'])}</category>" for tag in summary["tags"])
        entries.append(
            "<item>"
            f"<title>{escape(summary['title'])}</title>"
            f"<link>{escape(summary['url'])}</link>"
            f'<guid isPermaLink="true">{escape(summary["url"])}</guid>'
            f"<pubDate>{rfc822(summary['published_at'])}</pubDate>"
            f"<description>{escape(summary['excerpt'])}</description>"
            f"<content:encoded>{escape(html)}</content:encoded>"
            f"{categories}"
            "</item>"
        )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel>"
        f"<title>{escape(title)}</title>"
        f"<link>{escape(site_url)}/</link>"
        f"<description>{escape(title)}</description>"
        "<language>en</language>"
        f'<atom:link href="{escape(feed_url)}" rel="self" type="application/rss+xml"/>'
        + "".join(entries)
        + "</channel></rss>"
    )
    return xml.encode("utf-8")
