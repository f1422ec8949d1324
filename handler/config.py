"""Settings, read once from the environment that ``template.yaml`` sets.

Every variable the function reads is named here (the secrets' ARNs in
``handler/secrets.py``) and nowhere else, so the template and the code can be
checked against each other. Each becomes the
field of the same name, in lower case, of a frozen ``Settings`` (or, for what
an email needs, of its ``AlertSettings``). A setting that cannot work stops the
function at start-up with a message naming it, rather than failing one
visitor at a time.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app

from handler import intake, ratelimit
from handler.intake import Question
from handler.validation import SINGLE_LINE_FORBIDDEN

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "compiled_content"
DEFAULT_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
DEFAULT_TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
# Read here but never set by template.yaml: in AWS their defaults are right (the
# package's own compiled content, the content's caching, Cloudflare's
# verifier, the rate limit), and Lambda's 4 KB for all of a function's variables
# is better spent on the practice's own texts. The tests and the local stack set them.
DEFAULTS_IN_AWS = (
    "CONTENT_DIR",
    "CACHE_CONTROL",
    "TURNSTILE_VERIFY_URL",
    "RATE_LIMIT_COUNT",
    "RATE_LIMIT_WINDOW_SECONDS",
)
DEFAULT_CRISIS_NOTICE = (
    "This form is not monitored for emergencies. If you are in crisis or thinking about harming yourself, "
    "in the US call or text 988 (Suicide & Crisis Lifeline), or call 911."
)
DEFAULT_CONSENT_TEXT = (
    "I understand that this form is not for emergencies, and that email is not a secure channel: "
    "I will share only what I am comfortable sending this way."
)
DEFAULT_MESSAGE_HINT = "Please don't include clinical details here; a few lines are enough."
MESSAGE_HINT_MAX = 80  # a line above the message box (and template.yaml's MaxLength)
# Whole pages of text are for a session, not a form; and the alert carries the message whole.
MESSAGE_MAX_LENGTH_LIMITS = (100, 10_000)
DEFAULT_MESSAGE_MAX_LENGTH = 5000
PLAIN_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
# What SES allows in a configuration set's name.
CONFIGURATION_SET_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_PORTS = {"http": 80, "https": 443}
ORIGIN_HOST = re.compile(r"^([a-z0-9-]+(\.[a-z0-9-]+)*|[0-9a-f:.]*:[0-9a-f:.]*)$")  # a name, or an IPv6 address


class ConfigError(ValueError):
    """A setting that cannot work; raised at start-up, never per request."""


@dataclass(frozen=True)
class AlertSettings:
    """What the emails need: all that ``notification`` and ``delivery`` see, and ``contact-admin resend`` reads."""

    sender_email: str
    sender_name: str
    notify_email: tuple[str, ...]  # every address NOTIFY_EMAIL lists
    notify_detail: str  # "full" or "minimal"
    practice_timezone: str
    notify_max_attempts: int
    crisis_notice: str  # also on every answer to a visitor
    inbox_url: str | None  # where the inbox is served (no trailing slash): the minimal alert links there
    # Named on every send, so that SES reports what became of each email; None: not reported.
    ses_configuration_set: str | None = None


@dataclass(frozen=True)
class FormSettings:
    """What the contact form asks beyond its fixed fields, and how long its message may be."""

    questions: tuple[Question, ...] = ()  # the intake questions turned on, in the form's order
    licensed_states: frozenset[str] = frozenset()  # empty: no one is told they may be referred
    message_max_length: int = DEFAULT_MESSAGE_MAX_LENGTH
    message_hint: str = DEFAULT_MESSAGE_HINT

    @functools.cached_property
    def several_choices(self) -> frozenset[str]:
        """The questions asked that take several choices: a form post repeats their field."""
        return frozenset(question.name for question in self.questions if question.multiple)

    def refers(self, state: str | None) -> bool:
        """Whether a visitor in ``state`` is told that the practice may refer them elsewhere."""
        return state is not None and bool(self.licensed_states) and state not in self.licensed_states


@dataclass(frozen=True)
class Settings:
    """The function's settings."""

    content_dir: Path
    site_url: str
    site_title: str
    allowed_origins: tuple[str, ...]
    cache_control: str  # of the content API's answers
    contact_table_name: str
    alert: AlertSettings
    send_acknowledgement: bool
    thank_you_url: str | None
    consent_text: str
    retention_days: int  # 0: kept until deleted
    rate_limit_count: int  # 0: no limit (a load test's, where every client is one address)
    rate_limit_window_seconds: int
    turnstile_verify_url: str
    aws_eager_init: bool
    form: FormSettings = FormSettings()

    @property
    def consent_version(self) -> str:
        """Derived from the text, so that a changed text can never keep an old version."""
        return hashlib.sha256(self.consent_text.encode("utf-8")).hexdigest()[:12]


def parse_origin(value: str, variable: str) -> str:
    """``scheme://host[:port]`` exactly as browsers send it in ``Origin`` (lower case, an IDN
    host in punycode, no default port), or else no browser's ``Origin`` could ever match it."""
    parts = urlsplit(value.strip())
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = -1
    host = ascii_domain(parts.hostname or "", variable).lower()
    if (
        parts.scheme not in DEFAULT_PORTS
        or not ORIGIN_HOST.match(host)
        or port == -1
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(f"{variable}: {value!r} is not an origin such as https://www.example.com")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, DEFAULT_PORTS[parts.scheme]) else "")


def origin_of(url: str, variable: str) -> str:
    parts = urlsplit(url)
    return parse_origin(f"{parts.scheme}://{parts.netloc}", variable)


def ascii_domain(domain: str, variable: str) -> str:
    """A domain as DNS, SES and browsers write it: a non-ASCII (IDN) one in punycode."""
    if domain.isascii():
        return domain
    import idna  # email-validator's own (pinned with it); imported only for an IDN domain

    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise ConfigError(f"{variable}: {domain!r} is not a valid international domain name") from None


def addresses(value: str, variable: str) -> tuple[str, ...]:
    """The addresses a comma-separated setting lists (at least one), each as SES can send:
    an IDN domain in punycode; a local part that is not ASCII is refused."""
    found = []
    for item in value.split(","):
        address = item.strip()
        if not address:
            continue
        if not PLAIN_ADDRESS.match(address):
            raise ConfigError(f"{variable}: {address!r} is not a plain email address")
        local_part, domain = address.rsplit("@", 1)
        if not local_part.isascii():
            raise ConfigError(f"{variable}: {address!r}: SES cannot send to or from a non-ASCII name before the @")
        found.append(f"{local_part}@{ascii_domain(domain, variable)}")
    if not found:
        raise ConfigError(f"{variable} lists no email address")
    return tuple(found)


def whole_number(
    environ: Mapping[str, str], variable: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = environ.get(variable, "").strip() or str(default)
    # ASCII digits only: str.isdigit also takes "²", which int() refuses.
    number = int(raw) if raw.isascii() and raw.isdigit() else -1
    if number < minimum or (maximum is not None and number > maximum):
        most = "" if maximum is None else f" and at most {maximum}"
        raise ConfigError(f"{variable}: {raw!r} must be a whole number of at least {minimum}{most}")
    return number


def required(environ: Mapping[str, str], variable: str) -> str:
    value = environ.get(variable, "").strip()
    if not value:
        raise ConfigError(f"{variable} is not set")
    return value


def flag(environ: Mapping[str, str], variable: str, default: bool) -> bool:
    raw = environ.get(variable, "").strip().lower() or ("true" if default else "false")
    if raw not in ("true", "false"):
        raise ConfigError(f"{variable}: {raw!r} must be true or false")
    return raw == "true"


def alert_settings(environ: Mapping[str, str] = os.environ) -> AlertSettings:
    """What an alert needs: read here for the function and for ``contact-admin resend`` alike."""
    sender_name = environ.get("SENDER_NAME", "").strip() or "Website contact form"
    if SINGLE_LINE_FORBIDDEN.search(sender_name):  # the rule a visitor's name follows
        # It goes into every alert's From header: a line break there would fail every alert.
        raise ConfigError("SENDER_NAME may not hold line breaks or other control characters")
    notify_detail = environ.get("NOTIFY_DETAIL", "full").strip() or "full"
    if notify_detail not in ("full", "minimal"):
        raise ConfigError(f"NOTIFY_DETAIL: {notify_detail!r} must be full or minimal")
    time_zone = environ.get("PRACTICE_TIMEZONE", "UTC").strip() or "UTC"
    configuration_set = environ.get("SES_CONFIGURATION_SET", "").strip() or None
    if configuration_set and not CONFIGURATION_SET_NAME.match(configuration_set):
        raise ConfigError(f"SES_CONFIGURATION_SET: {configuration_set!r} is not an SES configuration set name")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(time_zone)
    except (ValueError, KeyError, OSError):
        raise ConfigError(f"PRACTICE_TIMEZONE: {time_zone!r} is not an IANA time zone such as Europe/London") from None
    senders = addresses(required(environ, "SENDER_EMAIL"), "SENDER_EMAIL")
    if len(senders) > 1:
        raise ConfigError("SENDER_EMAIL must be one address")
    return AlertSettings(
        sender_email=senders[0],
        sender_name=sender_name,
        notify_email=addresses(required(environ, "NOTIFY_EMAIL"), "NOTIFY_EMAIL"),
        notify_detail=notify_detail,
        practice_timezone=time_zone,
        notify_max_attempts=whole_number(environ, "NOTIFY_MAX_ATTEMPTS", 8, minimum=1),
        crisis_notice=environ.get("CRISIS_NOTICE", "").strip() or DEFAULT_CRISIS_NOTICE,
        inbox_url=inbox_url(environ),
        ses_configuration_set=configuration_set,
    )


def inbox_url(environ: Mapping[str, str]) -> str | None:
    """INBOX_URL: where the inbox is served, an http(s) URL; None: see ``linking_to``."""
    url = environ.get("INBOX_URL", "").strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"INBOX_URL: {url!r} is not an http(s) URL such as https://api.example.com")
    return url


def linking_to(config: Settings, host_url: str) -> Settings:
    """The settings for one request: without INBOX_URL, the minimal alert links to the inbox on the
    host the request came to. API Gateway routes by the Host header, so that is one of the API's own
    domains. In AWS the API function has no INBOX_URL: naming its HttpApi there would make a
    dependency cycle (the API's integration names the function), and its environment is at 4 KB."""
    if config.alert.inbox_url:
        return config
    return replace(config, alert=replace(config.alert, inbox_url=host_url.rstrip("/")))


def form_settings(environ: Mapping[str, str] = os.environ) -> FormSettings:
    """The form's intake questions (``INTAKE_QUESTIONS``), ``LICENSED_STATES``, and its message's limit and hint."""
    try:
        questions = intake.parse_questions(environ.get("INTAKE_QUESTIONS", ""))
    except intake.IntakeSettingError as error:
        raise ConfigError(f"INTAKE_QUESTIONS: {error}") from None
    try:
        licensed = intake.parse_states(environ.get("LICENSED_STATES", ""))
    except intake.IntakeSettingError as error:
        raise ConfigError(f"LICENSED_STATES: {error}") from None
    if licensed and "state" not in {question.name for question in questions}:
        raise ConfigError("LICENSED_STATES needs the state question: add state to INTAKE_QUESTIONS")
    hint = environ.get("MESSAGE_HINT", "").strip() or DEFAULT_MESSAGE_HINT
    if SINGLE_LINE_FORBIDDEN.search(hint) or len(hint) > MESSAGE_HINT_MAX:
        raise ConfigError(f"MESSAGE_HINT must be one line of at most {MESSAGE_HINT_MAX} characters")
    shortest, longest = MESSAGE_MAX_LENGTH_LIMITS
    return FormSettings(
        questions=questions,
        licensed_states=licensed,
        message_max_length=whole_number(
            environ, "MESSAGE_MAX_LENGTH", DEFAULT_MESSAGE_MAX_LENGTH, minimum=shortest, maximum=longest
        ),
        message_hint=hint,
    )


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """The app's configuration, from environment variables with safe defaults."""
    origins = tuple(
        parse_origin(item, "ALLOWED_ORIGINS") for item in environ.get("ALLOWED_ORIGINS", "").split(",") if item.strip()
    )
    site_url = environ.get("SITE_URL", "http://127.0.0.1:3000").strip().rstrip("/")
    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"SITE_URL: {site_url!r} is not an http(s) URL")

    thank_you_url = environ.get("THANK_YOU_URL", "").strip() or None
    if thank_you_url and origin_of(thank_you_url, "THANK_YOU_URL") not in origins:
        # Redirecting only to the practice's own site: never an open redirect.
        raise ConfigError(f"THANK_YOU_URL: {thank_you_url!r} is not on an origin in ALLOWED_ORIGINS")

    return Settings(
        content_dir=Path(environ.get("CONTENT_DIR", str(DEFAULT_CONTENT_DIR))),
        site_url=site_url,
        site_title=environ.get("SITE_TITLE", "Articles"),
        allowed_origins=origins,
        cache_control=environ.get("CACHE_CONTROL", DEFAULT_CACHE_CONTROL),
        contact_table_name=required(environ, "CONTACT_TABLE_NAME"),
        alert=alert_settings(environ),
        send_acknowledgement=flag(environ, "SEND_ACKNOWLEDGEMENT", False),
        thank_you_url=thank_you_url,
        consent_text=environ.get("CONSENT_TEXT", "").strip() or DEFAULT_CONSENT_TEXT,
        retention_days=whole_number(environ, "RETENTION_DAYS", 365),
        rate_limit_count=whole_number(environ, "RATE_LIMIT_COUNT", 5, maximum=ratelimit.MOST),
        rate_limit_window_seconds=whole_number(environ, "RATE_LIMIT_WINDOW_SECONDS", 600, minimum=1),
        turnstile_verify_url=environ.get("TURNSTILE_VERIFY_URL", DEFAULT_TURNSTILE_VERIFY_URL),
        aws_eager_init=flag(environ, "AWS_EAGER_INIT", False),
        form=form_settings(environ),
    )


def settings(app: Flask | None = None) -> Settings:
    """The settings ``app`` (by default the current app) was made with."""
    found: Settings = (app or current_app).config["SETTINGS"]
    return found
