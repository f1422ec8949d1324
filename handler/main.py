"""The Lambda entry point that ``template.yaml`` names: ``handler.main.lambda_handler``.

The app is built at import, in Lambda's init phase, so that every request of
a warm instance (and every SnapStart restore) reuses it.
"""

from __future__ import annotations

from typing import Any

from handler import create_app
from handler.lambda_adapter import respond

app = create_app()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer an API Gateway (REST or HTTP API) or function-URL event."""
    return respond(app, event, context)
