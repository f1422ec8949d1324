"""The articles, served from the bodies that ``infra/build_content.py`` compiled.

Nothing here parses Markdown or YAML. A single article reads one small file,
lazily, so its cost does not grow with the number of articles; the list and
the feeds read one index. What depends on the clock (an article scheduled for
later) or on the deployment (the site's base URL) is settled here, at request
time, from the compiled parts.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, abort, current_app, request

# Where the compiled bodies say "the site's base URL"; replaced at run time.
SITE_URL_TOKEN = "{{site_url}}"
FEED_SIZE = 20
DEFAULT_LIMIT = 15
MAX_LIMIT = 100

bp = Blueprint("content", __name__)


def utc_now() -> str:
    """The current UTC time in the compiled files' format, which sorts as text."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ContentStore:
    """Read-only access to one compiled content directory."""

    def __init__(self, directory: Path, site_url: str, clock: Callable[[], str] = utc_now) -> None:
        self.directory = directory
        self.site_url = site_url
        self.clock = clock
        self._site_url_json = json.dumps(site_url)[1:-1]
        # The ETag of a served body is the compiled ETag plus the base URL it was
        # completed with, so that a new SITE_URL can never reuse an old tag.
        self._site_tag = hashlib.sha256(site_url.encode("utf-8")).hexdigest()[:8]
        self.article = functools.lru_cache(maxsize=512)(self._read_article)
        self._complete = functools.lru_cache(maxsize=1024)(self._fill_site_url)

    @functools.cached_property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.directory / "manifest.json").read_bytes())

    @functools.cached_property
    def index(self) -> list[dict[str, Any]]:
        """Every compiled summary, newest first, each with its ``url``."""
        articles = json.loads((self.directory / "index.json").read_bytes())["articles"]
        for summary in articles:
            summary["url"] = self.url(summary["slug"])
        return articles

    def url(self, slug: str) -> str:
        return f"{self.site_url}/articles/{slug}"

    def _read_article(self, slug: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.directory / "articles" / f"{slug}.json").read_bytes())
        except FileNotFoundError:
            return None

    def published(self) -> list[dict[str, Any]]:
        """The summaries visible now, newest first."""
        now = self.clock()
        return [summary for summary in self.index if summary["published_at"] <= now]

    def article_body(self, slug: str) -> tuple[str, bytes] | None:
        """The ETag and body of an article visible now, or None."""
        compiled = self.article(slug)
        now = self.clock()
        if compiled is None or compiled["published_at"] > now:
            return None
        next_at = compiled["next_published_at"]
        suffix = "" if next_at is None or next_at <= now else "_without_next"
        return self._complete(compiled["etag" + suffix], compiled["body" + suffix])

    def _fill_site_url(self, etag: str, body: str) -> tuple[str, bytes]:
        text = body.replace(SITE_URL_TOKEN, self._site_url_json)
        return f"{etag}-{self._site_tag}", text.encode("utf-8")


def store() -> ContentStore:
    return current_app.extensions["content_store"]


def init_app(app: Flask) -> None:
    """Attach the content store for the app's settings and register the routes."""
    app.extensions["content_store"] = ContentStore(Path(app.config["CONTENT_DIR"]), app.config["SITE_URL"])
    app.register_blueprint(bp)


def cacheable(body: bytes, mimetype: str, etag: str | None = None) -> Response:
    """A content response with a strong ETag, answered 304 when the client has it."""
    response = Response(body, mimetype=mimetype)
    response.set_etag(etag or hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = current_app.config["CONTENT_CACHE_CONTROL"]
    return response.make_conditional(request)


def json_body(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def positive_int(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        bound = f" from 1 to {maximum}" if maximum else " of 1 or more"
        abort(400, description=f"'{name}' must be a whole number{bound}.")
    return int(raw)


@bp.get("/articles")
def list_articles() -> Response:
    limit = positive_int("limit", DEFAULT_LIMIT, MAX_LIMIT)
    page = positive_int("page", 1)
    tag = request.args.get("tag")
    articles = store().published()
    if tag is not None:
        articles = [a for a in articles if any(t["slug"] == tag for t in a["tags"])]
    total = len(articles)
    pages = max(1, math.ceil(total / limit))
    start = (page - 1) * limit
    pagination = {
        "page": page,
        "limit": limit,
        "pages": pages,
        "total": total,
        "next": page + 1 if page < pages else None,
        "prev": page - 1 if page > 1 else None,
    }
    body = {"articles": articles[start : start + limit], "meta": {"pagination": pagination}}
    return cacheable(json_body(body), "application/json")


@bp.get("/articles/<slug>")
def get_article(slug: str) -> Response:
    found = store().article_body(slug) if len(slug) <= 200 else None
    if found is None:
        abort(404, description=f"No published article has the slug '{slug}'.")
    etag, body = found
    return cacheable(body, "application/json", etag)


def feed_items() -> list[tuple[dict[str, Any], str]]:
    """The newest published summaries with their HTML, for the feeds."""
    items = []
    for summary in store().published()[:FEED_SIZE]:
        compiled = store().article(summary["slug"])
        items.append((summary, compiled["html"] if compiled else ""))
    return items


def site_title() -> str:
    return current_app.config["SITE_TITLE"]


@bp.get("/feed.json")
def json_feed() -> Response:
    site = current_app.config["SITE_URL"]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site_title(),
        "home_page_url": site + "/",
        "feed_url": request.base_url,
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
            for summary, html in feed_items()
        ],
    }
    return cacheable(json_body(feed), "application/feed+json")


def rfc822(iso_time: str) -> str:
    moment = dt.datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return format_datetime(moment, usegmt=True)


@bp.get("/feed.xml")
def rss_feed() -> Response:
    site = current_app.config["SITE_URL"]
    items = []
    for summary, html in feed_items():
        categories = "".join(f"<category>{escape(tag['name'])}</category>" for tag in summary["tags"])
        items.append(
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
        f"<title>{escape(site_title())}</title>"
        f"<link>{escape(site)}/</link>"
        f"<description>{escape(site_title())}</description>"
        "<language>en</language>"
        f'<atom:link href="{escape(request.base_url)}" rel="self" type="application/rss+xml"/>'
        + "".join(items)
        + "</channel></rss>"
    )
    return cacheable(xml.encode("utf-8"), "application/rss+xml")
