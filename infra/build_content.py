"""Compile ``content/*.md`` into the response bodies the function serves.

Build time only: this is where YAML and Markdown are parsed, so that the
function never imports either. The output directory holds:

- ``manifest.json``: the build id and the article count (read by ``/health``);
- ``index.json``: every non-draft article's summary and publication time,
  newest first (read by the list and the feeds);
- ``articles/<slug>.json``: one article's precompiled response body and ETag,
  read lazily by ``GET /articles/<slug>``.

Articles dated in the future are compiled too: the function hides them until
their time comes, so a scheduled article appears without a rebuild. Each body
carries ``SITE_URL_TOKEN`` where the site's base URL goes, because that URL is
deployment configuration, known only at run time.

Usage: ``python -m infra.build_content [SOURCE_DIR] [OUTPUT_DIR]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from handler.content import SITE_URL_TOKEN

WORDS_PER_MINUTE = 275  # Ghost's reading-time rate.
EXCERPT_MAX_CHARS = 300
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_KEYS = {"title", "slug", "published"}
OPTIONAL_KEYS = {"updated", "excerpt", "tags", "author", "draft"}


class ContentError(Exception):
    """A content file that cannot be compiled; the message names file and field."""


@dataclass
class Article:
    source: Path
    slug: str
    title: str
    published_at: dt.datetime
    updated_at: dt.datetime | None
    excerpt: str
    tags: list[dict[str, str]]
    author: str | None
    draft: bool
    html: str
    plaintext: str
    headings: list[dict[str, Any]]

    @property
    def word_count(self) -> int:
        return len(self.plaintext.split())

    @property
    def reading_time(self) -> int:
        return max(1, round(self.word_count / WORDS_PER_MINUTE))


def iso(moment: dt.datetime) -> str:
    """UTC, second precision, with a ``Z``: the one date format of the API."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp(article: Article) -> int:
    return int(article.published_at.timestamp())


def slugify(text: str) -> str:
    """A URL-safe id for a heading or tag: lower case words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words) or "section"


def new_markdown() -> MarkdownIt:
    # Raw HTML is disabled: an article can never smuggle a script into the site.
    return MarkdownIt("commonmark", {"html": False})


class FrontMatterLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type information
    """YAML without implicit timestamps: dates stay text, so that a bad one is
    reported against its field by ``parse_date`` rather than by the parser."""


FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        raise ContentError(f"{path}: front matter: the file must start with a '---' line")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ContentError(f"{path}: front matter: no closing '---' line")
    try:
        meta = yaml.load(text[4:end], Loader=FrontMatterLoader)
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: front matter: not valid YAML ({error})") from None
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: front matter: must be a mapping of keys to values")
    return meta, text[end + 5 :]


def parse_date(path: Path, field: str, value: Any) -> dt.datetime:
    """``YYYY-MM-DD`` means midnight UTC; a date and time must say its time zone."""
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ContentError(f"{path}: {field}: bad date {text!r}: use YYYY-MM-DD or an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise ContentError(f"{path}: {field}: bad date {text!r}: a date and time needs a time zone")
    return moment.astimezone(dt.UTC)


def require_text(path: Path, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"{path}: {field}: must be non-empty text")
    return value.strip()


def inline_text(token: Token) -> str:
    """The visible text of an inline token, markup removed."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def render_body(md: MarkdownIt, body: str) -> tuple[str, str, list[dict[str, Any]]]:
    """Render Markdown to HTML with heading ids, and derive plain text and headings."""
    tokens = md.parse(body)
    blocks: list[str] = []
    headings: list[dict[str, Any]] = []
    used_ids: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type != "inline":
            continue
        text = inline_text(token)
        blocks.append(text)
        opener = tokens[index - 1]
        if opener.type == "heading_open":
            base = slugify(text)
            used_ids[base] = used_ids.get(base, 0) + 1
            anchor = base if used_ids[base] == 1 else f"{base}-{used_ids[base]}"
            opener.attrSet("id", anchor)
            headings.append({"level": int(opener.tag[1]), "text": text, "id": anchor})
    html = md.renderer.render(tokens, md.options, {})
    return html, "\n\n".join(blocks), headings


def parse_article(path: Path, md: MarkdownIt) -> Article:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContentError(f"{path}: file: not UTF-8 text") from None
    if SITE_URL_TOKEN in text:
        raise ContentError(f"{path}: file: contains the reserved text {SITE_URL_TOKEN!r}")
    meta, body = split_front_matter(path, text.replace("\r\n", "\n"))
    unknown = sorted(set(meta) - REQUIRED_KEYS - OPTIONAL_KEYS)
    if unknown:
        raise ContentError(
            f"{path}: {unknown[0]}: unknown key (allowed: {', '.join(sorted(REQUIRED_KEYS | OPTIONAL_KEYS))})"
        )
    for key in sorted(REQUIRED_KEYS):
        if key not in meta:
            raise ContentError(f"{path}: {key}: missing")
    title = require_text(path, "title", meta["title"])
    slug = meta["slug"]
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise ContentError(f"{path}: slug: {slug!r} must be lower-case letters, digits and single hyphens")
    published_at = parse_date(path, "published", meta["published"])
    updated_at = parse_date(path, "updated", meta["updated"]) if meta.get("updated") is not None else None
    if updated_at is not None and updated_at < published_at:
        raise ContentError(f"{path}: updated: is before the published date")
    raw_tags = meta.get("tags") or []
    if not isinstance(raw_tags, list) or not all(isinstance(tag, str) and tag.strip() for tag in raw_tags):
        raise ContentError(f"{path}: tags: must be a list of names")
    author = require_text(path, "author", meta["author"]) if meta.get("author") is not None else None
    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        raise ContentError(f"{path}: draft: must be true or false")
    html, plaintext, headings = render_body(md, body)
    if not plaintext.strip():
        raise ContentError(f"{path}: body: the article has no text")
    if meta.get("excerpt") is not None:
        excerpt = require_text(path, "excerpt", meta["excerpt"])
    else:
        # As Ghost does without a custom excerpt: the opening of the article itself.
        excerpt = plaintext.split("\n\n", 1)[0][:EXCERPT_MAX_CHARS]
    return Article(
        source=path,
        slug=slug,
        title=title,
        published_at=published_at,
        updated_at=updated_at,
        excerpt=excerpt,
        tags=[{"name": tag.strip(), "slug": slugify(tag)} for tag in raw_tags],
        author=author,
        draft=draft,
        html=html,
        plaintext=plaintext,
        headings=headings,
    )


def load_articles(source: Path) -> list[Article]:
    """Every article under ``source``, drafts included, oldest first."""
    md = new_markdown()
    articles: list[Article] = []
    seen: dict[str, Path] = {}
    for path in sorted(source.glob("*.md")):
        article = parse_article(path, md)
        if article.slug in seen:
            raise ContentError(f"{path}: slug: duplicate slug {article.slug!r}, also used by {seen[article.slug]}")
        seen[article.slug] = path
        articles.append(article)
    articles.sort(key=lambda a: (a.published_at, a.slug))
    return articles


def article_path(slug: str) -> str:
    return f"{SITE_URL_TOKEN}/articles/{slug}"


def summary(article: Article) -> dict[str, Any]:
    """The fields shared by the list, the feeds and the full article."""
    return {
        "slug": article.slug,
        "title": article.title,
        "excerpt": article.excerpt,
        "published_at": iso(article.published_at),
        "updated_at": iso(article.updated_at or article.published_at),
        "reading_time": article.reading_time,
        "word_count": article.word_count,
        "tags": article.tags,
        "author": {"name": article.author} if article.author else None,
    }


def json_ld(article: Article) -> dict[str, Any]:
    url = article_path(article.slug)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.title,
        "description": article.excerpt,
        "datePublished": iso(article.published_at),
        "dateModified": iso(article.updated_at or article.published_at),
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "wordCount": article.word_count,
        "inLanguage": "en",
    }
    if article.tags:
        data["keywords"] = ", ".join(tag["name"] for tag in article.tags)
    if article.author:
        data["author"] = {"@type": "Person", "name": article.author}
    return data


def link(article: Article | None) -> dict[str, str] | None:
    return {"slug": article.slug, "title": article.title} if article else None


def encode(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def etag_of(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


def article_body(article: Article, prev: Article | None, next_: Article | None) -> str:
    url = article_path(article.slug)
    document = {
        "article": {
            **summary(article),
            "html": article.html,
            "plaintext": article.plaintext,
            "url": url,
            "canonical_url": url,
            "meta_title": article.title,
            "meta_description": article.excerpt,
            "headings": article.headings,
            "prev": link(prev),
            "next": link(next_),
            "json_ld": json_ld(article),
        }
    }
    return encode(document)


def article_file(article: Article, prev: Article | None, next_: Article | None) -> dict[str, Any]:
    """One article's compiled file: its body, and a second body for while its successor is unpublished."""
    body = article_body(article, prev, next_)
    compiled: dict[str, Any] = {
        "slug": article.slug,
        # Epoch seconds: the function compares them with the clock on every request.
        "published_ts": timestamp(article),
        "next_published_ts": timestamp(next_) if next_ else None,
        "html": article.html,
        "etag": etag_of(body),
        "body": body,
    }
    if next_ is not None:
        alone = article_body(article, prev, None)
        compiled["etag_without_next"] = etag_of(alone)
        compiled["body_without_next"] = alone
    return compiled


def build(source: Path, output: Path) -> dict[str, Any]:
    """Compile every article in ``source`` into ``output``, replacing it whole; return the manifest."""
    published = [a for a in load_articles(source) if not a.draft]
    staging = output.with_name(output.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "articles").mkdir(parents=True)
    digest = hashlib.sha256()
    for position, article in enumerate(published):
        prev = published[position - 1] if position > 0 else None
        next_ = published[position + 1] if position + 1 < len(published) else None
        text = encode(article_file(article, prev, next_))
        digest.update(text.encode("utf-8"))
        (staging / "articles" / f"{article.slug}.json").write_text(text, encoding="utf-8")
    newest_first = list(reversed(published))
    index = {"published_ts": [timestamp(a) for a in newest_first], "articles": [summary(a) for a in newest_first]}
    index_text = encode(index)
    digest.update(index_text.encode("utf-8"))
    (staging / "index.json").write_text(index_text, encoding="utf-8")
    manifest = {"build_id": digest.hexdigest()[:16], "article_count": len(published)}
    (staging / "manifest.json").write_text(encode(manifest), encoding="utf-8")
    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)
    return manifest


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    source = Path(argv[0]) if argv else root / "content"
    output = Path(argv[1]) if len(argv) > 1 else root / "build" / "content"
    try:
        manifest = build(source, output)
    except ContentError as error:
        print(f"content error: {error}", file=sys.stderr)
        return 1
    print(f"compiled {manifest['article_count']} article(s) into {output} (build {manifest['build_id']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
