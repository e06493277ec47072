"""Block Kit for every message and modal the bot sends: pure functions of domain results."""

from .common import Message

__all__ = ["Message"]
