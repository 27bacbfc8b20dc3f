"""POST a JSON payload with the standard library (no extra dependency)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

USER_AGENT = "ptest-webhook-reporter/0.1"


class WebhookError(Exception):
    """The webhook could not be reached or answered with an error status."""


@dataclass(frozen=True)
class Delivery:
    """What the webhook answered."""

    status: int
    body: str


def where(url: str) -> str:
    """The URL without its path and query, for logs: webhook paths often hold tokens."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def post_json(url: str, payload: dict[str, Any], timeout: float) -> Delivery:
    """POST ``payload`` as JSON to ``url``; WebhookError unless the answer is 2xx."""
    import urllib.error  # here, not at import: see plugin.py
    import urllib.request

    data = json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in settings
        url, data=data, method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body = answer.read(65536).decode("utf-8", "replace")
            return Delivery(answer.status, body)
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"{where(url)} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"cannot reach {where(url)}: {reason}") from None
