"""The loopback rule of the console transport, on the peer address itself."""

from __future__ import annotations

import pytest

from bot.web import _is_loopback


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("127.8.0.3", True),
        ("10.0.0.5", False),
        ("203.0.113.9", False),
        (None, False),
        ("not-an-ip", False),
    ],
)
def test_only_loopback_peers_count_as_local(remote: str | None, expected: bool) -> None:
    assert _is_loopback(remote) is expected
