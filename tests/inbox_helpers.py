"""Driving the inbox through the Lambda entry point as a browser would: cookies kept, forms posted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from apigw import event, response_header

THERAPIST_IP = "198.51.100.7"
LINK = re.compile(r"https?://\S+/inbox/login/[A-Za-z0-9_-]+")


class Fields(HTMLParser):
    """The named inputs of a page, by name (the last one wins)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.values[str(attributes["name"])] = attributes.get("value") or ""


@dataclass
class Answer:
    result: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.result["statusCode"])

    @property
    def text(self) -> str:
        return str(self.result.get("body") or "")

    def header(self, name: str) -> str | None:
        return response_header(self.result, name)

    @property
    def location(self) -> str | None:
        return self.header("Location")

    @property
    def set_cookies(self) -> list[str]:
        return list(self.result.get("cookies") or [])

    def fields(self) -> dict[str, str]:
        parser = Fields()
        parser.feed(self.text)
        return parser.values


@dataclass
class Browser:
    """One browser's cookies, in front of ``handler`` (HTTP API payload 2.0 events, over HTTPS)."""

    handler: Any
    source_ip: str = THERAPIST_IP
    cookies: dict[str, str] = field(default_factory=dict)

    def send(self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None) -> Answer:
        parts = urlsplit(path)
        sent = {**(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = event(
            method,
            parts.path,
            query=parts.query,
            headers=sent,
            body=body,
            base64_body=body is not None,  # as HTTP APIs pass form posts
            source_ip=self.source_ip,
        )
        answer = Answer(self.handler(request, None))
        self.keep(answer.set_cookies)
        return answer

    def keep(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.send("GET", path, headers=headers)

    def post(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        return self.send("POST", path, urlencode(fields), headers)

    def submit(self, page: Answer, path: str, **changes: str) -> Answer:
        """Post the page's form as it is filled in (hidden fields included), with ``changes``."""
        return self.post(path, {**page.fields(), **changes})


def request_link(browser: Browser, email: str, next_path: str | None = None) -> Answer:
    form = browser.get("/inbox/login" + (f"?next={next_path}" if next_path else ""))
    return browser.submit(form, "/inbox/login", email=email)


def emailed_link(aws: Any) -> str:
    """The link in the newest email, as the therapist's mail reader shows it."""
    newest = aws.emails()[-1]
    links = LINK.findall(newest.get_body(("plain",)).get_content())
    assert len(set(links)) == 1, links
    return str(links[0])


def path_of(url: str) -> str:
    return urlsplit(url).path


def open_link(browser: Browser, link: str) -> Answer:
    """Open the emailed link and press Sign in."""
    page = browser.get(path_of(link))
    assert page.status == 200, page.text
    return browser.submit(page, path_of(link))


def sign_in(browser: Browser, aws: Any, email: str) -> Answer:
    assert request_link(browser, email).status == 303
    return open_link(browser, emailed_link(aws))
