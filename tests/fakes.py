"""Transitional: the old name of the `cloudpos` fixture's type, for the test modules written
before the sandbox emulators replaced the respx fakes (tests/handlers/slack/test_admin_only.py,
test_admin_only_views.py, test_view_state.py). New tests import `CloudPosEmulator` and call
`add_account`; delete this module once nothing imports it.
"""

from __future__ import annotations

from sandbox.cloudpos_emulator import CloudPosAccount, CloudPosEmulator


class FakeCloudPos(CloudPosEmulator):
    """The Cloud POS emulator, with `add` as the old spelling of `add_account`."""

    def add(
        self, api_key: str, *, group: str, licence: str = "ProPlus", stores: int = 3
    ) -> CloudPosAccount:
        return self.add_account(api_key, group=group, licence=licence, stores=stores)
