"""How long a value from Xero or Cloud POS may be, applied where each answer is parsed.

Names are shown, so a longer one is shortened (with "…") to fit its column. Identifiers
are compared, so a longer one is refused: shortening it would make it another identifier.
The limits are the columns' sizes in `storage.models`.
"""

from __future__ import annotations

NAME = 200
ORGANISATION_NAME = 300
EMAIL = 320
IDENTIFIER = 64
STORE_CODE = 100
GROUP = 200
LABEL = 50


def clipped(value: str, limit: int) -> str:
    """`value` shortened to `limit` characters, marking the cut."""
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def too_long(value: str, limit: int) -> bool:
    return len(value) > limit
