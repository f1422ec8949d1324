"""``/contact``: the form's definition, and a visitor's message, read from the request and answered.

What happens to a message is decided in ``submission``, without Flask; the
answers are written in ``answers``. Both are imported with the first message,
not at start-up: with them come the storage, the alert and the ``email``
package, which a cold start that serves an article has no use for (``make bench``).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Request, Response, request
from werkzeug.wrappers import Response as BaseResponse

from handler import aws, form, secrets
from handler.config import linking_to, settings
from handler.content import cached_response

if TYPE_CHECKING:
    from handler.submission import Submission

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

MAX_BODY_BYTES = 16 * 1024
MAX_FORM_FIELDS = 50
USER_AGENT_MAX = 256
SOURCE_PAGE_MAX = 512
IDEMPOTENCY_KEY_MAX = 200

bp = Blueprint("contact", __name__)
bp.before_request(secrets.load_on_first_use)


class Unreadable(Exception):
    """A request that cannot be read as a submission at all."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def bad_request(message: str) -> Unreadable:
    return Unreadable(400, "bad_request", message)


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        names = [name for name, _ in pairs]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        raise bad_request(f"The field '{duplicated[0][:64]}' is given more than once.")
    return fields


def form_fields(pairs: list[tuple[str, str]], repeatable: frozenset[str]) -> dict[str, Any]:
    """A form's fields: a question of several choices (its checkboxes) as the list of values
    it repeats; any other field given twice is refused."""
    repeated = [(name, value) for name, value in pairs if name in repeatable]
    fields = reject_duplicate_keys([(name, value) for name, value in pairs if name not in repeatable])
    for name, value in repeated:
        fields.setdefault(name, []).append(value)
    return fields


def parse_body(body: bytes, mimetype: str, repeatable: frozenset[str] = frozenset()) -> dict[str, Any]:
    if mimetype == JSON_TYPE:
        try:
            data = json.loads(body.decode("utf-8"), object_pairs_hook=reject_duplicate_keys)
        except UnicodeDecodeError:
            raise bad_request("The body is not UTF-8 text.") from None
        except json.JSONDecodeError as error:
            raise bad_request(f"The body is not valid JSON ({error.msg}, at character {error.pos}).") from None
        except (ValueError, RecursionError):
            # Nesting too deep for the parser, or an integer too long to convert.
            raise bad_request("The body is not a JSON object of fields.") from None
        if not isinstance(data, dict):
            raise bad_request("The body must be a JSON object of fields.")
        return data
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FORM_FIELDS
        )
    except UnicodeError:
        raise bad_request("The form is not URL-encoded UTF-8 text.") from None
    except ValueError:
        raise bad_request(f"The form has more than {MAX_FORM_FIELDS} fields.") from None
    return form_fields(pairs, repeatable)


def read_submission(req: Request, repeatable: frozenset[str] = frozenset()) -> Submission:
    """The submission a request carries, or Unreadable. A form may repeat the fields ``repeatable`` names."""
    environ = req.environ
    if (req.content_length or 0) > MAX_BODY_BYTES:
        raise Unreadable(413, "payload_too_large", f"The message is too large: at most {MAX_BODY_BYTES // 1024} KB.")
    mimetype = req.mimetype
    if mimetype not in (JSON_TYPE, FORM_TYPE):
        raise Unreadable(415, "unsupported_media_type", f"Send the form as {JSON_TYPE} or {FORM_TYPE}.")
    idempotency_key = environ.get("HTTP_IDEMPOTENCY_KEY")
    if idempotency_key is not None and not (
        idempotency_key.strip()
        and len(idempotency_key) <= IDEMPOTENCY_KEY_MAX
        and idempotency_key.isascii()
        and idempotency_key.isprintable()
    ):
        raise bad_request(f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters.")
    from handler.submission import Submission

    return Submission(
        data=parse_body(req.get_data(cache=False), mimetype, repeatable),
        idempotency_key=idempotency_key,
        client_address=req.remote_addr or "",
        user_agent=environ.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX] or None,
        source_page=(environ.get("HTTP_ORIGIN") or environ.get("HTTP_REFERER") or "")[:SOURCE_PAGE_MAX] or None,
    )


@bp.get("/contact")
def form_definition() -> Response:
    """The form's definition (handler/form.py), cached and revalidated like the articles."""
    config = settings()
    found = form.definition_body(config, secrets.current().turnstile_secret is not None)
    return cached_response(found, JSON_TYPE, config.cache_control)


@bp.post("/contact")
def submit() -> BaseResponse:
    from handler import answers
    from handler.submission import receive

    # Each use of Flask's proxies looks the request up again: look once.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    config = linking_to(settings(), req.host_url)
    try:
        submission = read_submission(req, config.form.several_choices)
    except Unreadable as problem:
        return answers.failure(problem.status, problem.code, str(problem))
    return answers.answer(receive(submission, config, secrets.current(), aws.clients()), config)
