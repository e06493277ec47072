"""The emulated Xero as JSON, so a sandbox kept with `--database` keeps its Xero beside it.

Without this a restart would leave the bot's database holding grants and connections the
fresh emulator never issued, and the sandbox would call them healthy. Tokens are kept as
the digests the emulator already holds; injected faults and request logs are not kept. Books
are kept as the changes the switches made: the rest is seeded again from each tenant id.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from .models import EmulatedConnection, EmulatedOrganisation, EmulatedUser
from .state import EmulatorState
from .tokens import AccessRecord, CodeRecord, RefreshRecord

VERSION = 1
_TIMES = ("created", "updated", "expires_at", "issued_at", "rotated_at")


def _plain(record: Any) -> dict[str, Any]:
    fields = dataclasses.asdict(record)
    for name in _TIMES:
        if isinstance(fields.get(name), datetime):
            fields[name] = fields[name].isoformat()
    return fields


def _record(kind: type, fields: dict[str, Any]) -> Any:
    values = dict(fields)
    for name in _TIMES:
        if isinstance(values.get(name), str):
            values[name] = datetime.fromisoformat(values[name])
    if "scope" in values:
        values["scope"] = tuple(values["scope"])
    return kind(**values)


def snapshot(state: EmulatorState) -> dict[str, Any]:
    tokens = state._tokens
    with state._lock:
        return {
            "version": VERSION,
            "client_id": state.client_id,
            "users": [_plain(user) for user in state._users.values()],
            "organisations": [_plain(o) for o in state._organisations.values()],
            "connections": [_plain(c) for c in state._connections.values()],
            "codes": {key: _plain(r) for key, r in tokens._codes.items()},
            "refresh": {key: _plain(r) for key, r in tokens._refresh.items()},
            "access": {key: _plain(r) for key, r in tokens._access.items()},
            "book_changes": state.book_changes,
        }


def restore(state: EmulatorState, data: dict[str, Any]) -> None:
    """Replace what `state` holds with `data` from `snapshot` (same client id required); one
    saved before books existed has no book changes."""
    if data.get("version") != VERSION or data.get("client_id") != state.client_id:
        raise ValueError("not a snapshot of this emulator")
    tokens = state._tokens
    with state._lock:
        state._users = {u["user_id"]: _record(EmulatedUser, u) for u in data["users"]}
        state._organisations = {
            o["tenant_id"]: _record(EmulatedOrganisation, o) for o in data["organisations"]
        }
        state._connections = {c["id"]: _record(EmulatedConnection, c) for c in data["connections"]}
        tokens._codes = {k: _record(CodeRecord, r) for k, r in data["codes"].items()}
        tokens._refresh = {k: _record(RefreshRecord, r) for k, r in data["refresh"].items()}
        tokens._access = {k: _record(AccessRecord, r) for k, r in data["access"].items()}
        state.restore_books(data.get("book_changes", {}))


def save(state: EmulatorState, path: Path) -> None:
    """Write atomically: a sandbox stopped mid-write keeps the previous snapshot."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(snapshot(state), indent=1), encoding="utf-8")
    os.replace(partial, path)


def load(state: EmulatorState, path: Path) -> None:
    restore(state, json.loads(path.read_text(encoding="utf-8")))
