"""`xero-bot sandbox` as a person starts it: up quickly on a fresh database, stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.browser import free_port, free_socket

STARTUP_LIMIT = 15.0
"""A generous bound: this test is about starting and stopping cleanly. The start-up time is
printed (about 3.5 s on 2 cores); a shared, loaded machine must not make it fail."""


def sandbox_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a sandbox whose temporary files go to `tmp_path / "tmp"` only."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path / "tmp")}


def start_sandbox(tmp_path: Path, port: int, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port), *options],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=sandbox_env(tmp_path),
    )


def wait_until_healthy(port: int, process: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 30:
        assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the sandbox never answered /healthz")


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM])
def test_the_sandbox_starts_fast_and_stops_cleanly(tmp_path: Path, stop_with: int) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = start_sandbox(tmp_path, port)
    try:
        took = wait_until_healthy(port, process)
        console = httpx.get(f"http://127.0.0.1:{port}/sandbox/", timeout=5)
        process.send_signal(stop_with)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    print(f"sandbox answered /healthz after {took:.2f}s")
    assert took < STARTUP_LIMIT, f"took {took:.2f}s"
    assert console.status_code == 200
    assert "Slack console" in console.text
    assert process.returncode == 0, output
    assert f"Open http://127.0.0.1:{port}/sandbox/" in output
    assert "Traceback" not in output


def test_the_temporary_database_folder_is_removed_when_the_sandbox_stops(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = start_sandbox(tmp_path, port)
    try:
        wait_until_healthy(port, process)
        made = sorted(path.name for path in (tmp_path / "tmp").iterdir())
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert len(made) == 1, made
    assert made[0].startswith("xero-bot-sandbox-"), made
    assert f"Database: {tmp_path / 'tmp' / made[0] / 'sandbox.sqlite3'}" in output
    assert list((tmp_path / "tmp").iterdir()) == [], "the temporary folder outlived the sandbox"


def test_a_busy_port_is_one_line_naming_the_port_and_port_option(tmp_path: Path) -> None:
    taken = free_socket()
    taken.listen()
    port = taken.getsockname()[1]
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=sandbox_env(tmp_path),
            timeout=60,
        )
    finally:
        taken.close()
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr == (
        f"xero-bot: port {port} is already in use on 127.0.0.1; "
        f"choose another with --port, e.g. xero-bot sandbox --port {port + 1}\n"
    )
    assert "Traceback" not in finished.stdout + finished.stderr
    assert finished.stdout == ""
    assert list((tmp_path / "tmp").iterdir()) == [], "a busy port should make no files"


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    return output


def consent_at_the_emulator(base: str) -> dict[str, str]:
    """Olive allows Acme Bikes Ltd at the emulated Xero, as the bot's customer would, and the
    code is exchanged as the bot would: the token set the bot's database would now hold."""
    authorize = f"{base}/xero-emulator/identity/connect/authorize"
    query = {
        "response_type": "code",
        "client_id": "sandbox-client",
        "redirect_uri": f"{base}/xero/callback",
        "scope": "openid offline_access accounting.settings.read",
        "state": "kept",
    }
    page = httpx.get(authorize, params=query, timeout=5).text
    tenant = re.search(r'value="([0-9a-f-]{36})">\s*<label[^>]*>Acme Bikes Ltd', page)
    assert tenant is not None, page
    allowed = httpx.post(
        authorize,
        data={**query, "user": "xero-olive", "tenant": tenant.group(1), "action": "allow"},
        timeout=5,
    )
    assert allowed.status_code == 303, allowed.text
    code = parse_qs(urlsplit(allowed.headers["location"]).query)["code"][0]
    return token(
        base, grant_type="authorization_code", code=code, redirect_uri=query["redirect_uri"]
    )


def token(base: str, **form: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/xero-emulator/identity/connect/token",
        data=form,
        auth=("sandbox-client", "sandbox-secret"),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_kept_database_keeps_the_xero_it_was_connected_to(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = start_sandbox(tmp_path, port, "--database", "kept.sqlite3")
    try:
        wait_until_healthy(port, first)
        tokens = consent_at_the_emulator(base)
        output = stop(first)
        second = start_sandbox(tmp_path, port, "--database", "kept.sqlite3")
        wait_until_healthy(port, second)
        refreshed = token(base, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        connections = httpx.get(
            f"{base}/xero-emulator/api/connections",
            headers={"Authorization": f"Bearer {refreshed['access_token']}"},
            timeout=5,
        )
        status_page = httpx.get(f"{base}/xero-emulator/", timeout=5).text
        output += stop(second)
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
    assert connections.status_code == 200
    assert [c["tenantName"] for c in connections.json()] == ["Acme Bikes Ltd"]
    assert "Disconnect Cloud POS from Acme Bikes Ltd" in status_page
    kept = tmp_path / "kept.sqlite3.xero-emulator.json"
    assert f"Xero emulator: {kept} (kept with the database" in output
    assert "Note:" not in output
    assert "Traceback" not in output


def test_a_kept_database_without_its_xero_starts_with_a_note(tmp_path: Path) -> None:
    port = free_port()
    first = start_sandbox(tmp_path, port, "--database", "kept.sqlite3")
    try:
        wait_until_healthy(port, first)
        stop(first)
        (tmp_path / "kept.sqlite3.xero-emulator.json").unlink()  # as a run before this change
        second = start_sandbox(tmp_path, port, "--database", "kept.sqlite3")
        wait_until_healthy(port, second)
        output = stop(second)
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
    assert output.startswith(
        f"Note: {tmp_path / 'kept.sqlite3'} is kept from a run that did not keep the Xero "
        "emulator (kept.sqlite3.xero-emulator.json), so Xero starts afresh and knows none of its "
        "connections: they fail when the bot next calls Xero. Use --reset to start clean.\n"
    )


def test_the_sandbox_prints_a_key_for_the_sync_api_that_works(tmp_path: Path) -> None:
    port = free_port()
    process = start_sandbox(tmp_path, port)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any("Press Ctrl+C" in line for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        found = re.search(
            r"Bearer (xbk_[\w-]+)' (http://\S+/api/v1/stores\?status=ready)", "".join(lines)
        )
        assert found, "".join(lines)
        key, url = found.groups()
        answered = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=5)
        refused = httpx.get(url, headers={"Authorization": f"Bearer {key[:-2]}xx"}, timeout=5)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"stores": [], "next_cursor": None}
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
