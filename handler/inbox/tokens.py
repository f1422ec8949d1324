"""The inbox's secrets and checks, as plain functions: tokens, signed session ids, CSRF tokens,
and where a sign-in may lead (the network a client address counts in is ``handler.ratelimit``'s).

A sign-in link carries a random token; only its hash is stored, and using it
deletes it. A session is a random id, stored hashed with the therapist's
address and a CSRF token; the cookie carries the id signed with the inbox's
key, so that a cookie from another key is refused before any lookup, and
signing out deletes the stored session, so the cookie is then worthless.

Every form that posts carries a CSRF token in a hidden field. Once signed in it
is the session's own token. Before (asking for a link, pressing Sign in) it is
a signed double submit: a random nonce in a ``SameSite=Strict`` cookie, and in
the form an HMAC of it under the inbox's key; another site can neither read
the cookie nor make the HMAC, nor get the cookie sent with its own post.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from itsdangerous import BadSignature, Signer, URLSafeSerializer

from handler.storage import keyed_hash

TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)
NEXT_MAX = 200
URL_PREFIX = "/inbox"
HOME = URL_PREFIX


def new_token() -> str:
    """256 random bits, URL-safe: a sign-in token, a session id, a CSRF token or a nonce."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: str | None) -> bool:
    return token is not None and TOKEN_PATTERN.fullmatch(token) is not None


def cookie_signer(secret: bytes) -> Signer:
    return Signer(secret, salt="inbox-session", digest_method=hashlib.sha256)


def signed_session_id(secret: bytes, session_id: str) -> str:
    return cookie_signer(secret).sign(session_id).decode("ascii")


def session_id_from(secret: bytes, cookie: str) -> str | None:
    """The session id a cookie carries, or None if it was not signed with this key."""
    try:
        session_id = cookie_signer(secret).unsign(cookie).decode("ascii")
    except (BadSignature, UnicodeError):
        return None
    return session_id if well_formed(session_id) else None


def cursor_of(secret: bytes, after: str) -> str:
    """A list page's place, for its URL: where the next page starts, signed, and opaque to the eye."""
    return URLSafeSerializer(secret, salt="inbox-cursor").dumps(after)


def after_from(secret: bytes, cursor: str) -> str | None:
    """Where the page a cursor names starts; None if the cursor was not made here."""
    try:
        after = URLSafeSerializer(secret, salt="inbox-cursor").loads(cursor)
    except BadSignature:
        return None
    return after if isinstance(after, str) else None


def form_token(secret: bytes, nonce: str) -> str:
    """The sign-in forms' CSRF token: bound to the nonce in the visitor's cookie."""
    return keyed_hash(secret, "inbox-form", nonce)


def same_token(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path inside the inbox, or the inbox itself (never another site)."""
    if not value or len(value) > NEXT_MAX or not value.isprintable() or "\\" in value:
        return HOME
    parts = urlsplit(value)
    inside = parts.path == HOME or parts.path.startswith(HOME + "/")
    if parts.scheme or parts.netloc or not inside or "/." in parts.path:
        return HOME
    return value
