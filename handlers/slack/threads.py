"""Where a link is reported in Slack, kept by the domain as one opaque reference.

The domain stores `report_to` without knowing Slack; here it is the channel and ts of the
link's record message, whose thread hears how the customer gets on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thread:
    channel: str
    ts: str

    @property
    def reference(self) -> str:
        return f"{self.channel}/{self.ts}"

    @classmethod
    def of(cls, reference: str | None) -> Thread | None:
        """The record a link reports to, or None for one issued elsewhere (the CLI, a test)."""
        channel, _, ts = (reference or "").partition("/")
        return cls(channel, ts) if channel and ts else None
