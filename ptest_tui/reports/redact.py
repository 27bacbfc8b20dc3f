"""Redaction of secrets in every text a report shows.

Reports are shared (CI artifacts, attached to issues), while a case can print anything,
including its environment. Two kinds of secret are masked:

* credentials in URLs (``https://user:token@host``), by :func:`ptest_tui.packages.index.redact`;
* values of variables whose names end in PASSWORD, TOKEN or SECRET, written ``NAME=value``
  (``DB_PASSWORD=hunter22``, ``export GITHUB_TOKEN="ghp_..."``).

A value seen as ``NAME=value`` or as a URL's password anywhere in a report is a known
secret: it is masked wherever else it appears in the same report too (an assertion
message quoting it, say).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ptest_tui.packages.index import redact as redact_urls

MASK = "***"
SECRET_SUFFIXES = ("PASSWORD", "TOKEN", "SECRET")
# Known secrets shorter than this are masked only where they follow NAME=: a global
# replacement of "1" or "true" would mangle unrelated text and hide nothing worth hiding.
MIN_KNOWN_SECRET = 6

# NAME=value, NAME="value" or NAME='value'. The name may be in any case (pgpassword=...)
# and may not continue a longer word on the left. A quoted value ends at its closing
# quote, or at the end of the line when the quote is never closed.
_ASSIGNMENT_RE = re.compile(
    r"(?<![A-Za-z0-9_])(?P<name>[A-Za-z0-9_]*?(?:"
    + "|".join(SECRET_SUFFIXES)
    + r"))=(?P<value>\"[^\"\n]*\"?|'[^'\n]*'?|[^\s\"']\S*)",
    re.IGNORECASE,
)


# scheme://user:password@ : the password part, learned as a known secret (the URL itself
# is masked by redact_urls).
_URL_PASSWORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:(?P<password>[^/@\s]+)@")


# Cheap test for "could hold NAME=value": the full pattern is only run on texts that pass.
_HINT_RE = re.compile("(?:" + "|".join(SECRET_SUFFIXES) + ")=", re.IGNORECASE)


def _may_assign(text: str) -> bool:
    # Most captured output has no "=" at all; the case-insensitive search is the slow part.
    return "=" in text and _HINT_RE.search(text) is not None


def _unquote(value: str) -> str:
    if value[:1] in ("'", '"'):
        return value[1:-1] if len(value) > 1 and value[-1] == value[0] else value[1:]
    return value


def find_secrets(texts: Iterable[str]) -> frozenset[str]:
    """Secrets written out in ``texts``: values of ``NAME=value`` and URL passwords."""
    found: set[str] = set()
    for text in texts:
        if "://" in text:
            found.update(m.group("password") for m in _URL_PASSWORD_RE.finditer(text))
        if _may_assign(text):
            for match in _ASSIGNMENT_RE.finditer(text):
                found.add(_unquote(match.group("value")))
    found.discard("")
    found.discard(MASK)
    return frozenset(found)


def _mask_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    closing = quote if quote and len(value) > 1 and value.endswith(quote) else ""
    return f"{match.group('name')}={quote}{MASK}{closing}"


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with URL credentials, ``NAME=value`` secrets and known ``secrets`` masked.

    ``secrets`` are values found elsewhere in the same report (see :func:`find_secrets`);
    those of at least :data:`MIN_KNOWN_SECRET` characters are masked wherever they appear.
    """
    if not text:
        return text
    if "://" in text:
        text = redact_urls(text)
    if _may_assign(text):
        text = _ASSIGNMENT_RE.sub(_mask_assignment, text)
    # Longest first, so a secret that contains a shorter one is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_KNOWN_SECRET and secret in text:
            text = text.replace(secret, MASK)
    return text
