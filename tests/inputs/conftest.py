from __future__ import annotations

import ipaddress

import pytest

from openpika.inputs import addresses, fetch

# A globally routable address that tests pretend some names resolve to. No packet is ever sent
# to it: ``fetch.connect_address`` is patched to send it to 127.0.0.1 instead.
PUBLIC_IP = "93.184.216.34"


class FakeDns:
    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise OSError(f"unknown test host {host}")
        return list(self.table[host])


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    dns = FakeDns()
    monkeypatch.setattr(addresses, "resolver", dns)

    def loopback_only(address: addresses.IPAddress, port: int) -> tuple[str, int]:
        if str(address) == PUBLIC_IP:
            return "127.0.0.1", port
        if not ipaddress.ip_address(str(address)).is_loopback:
            raise AssertionError(f"a test tried to connect to {address}")
        return str(address), port

    monkeypatch.setattr(fetch, "connect_address", loopback_only)
    return dns
