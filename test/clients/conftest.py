"""Fixtures of the client conformance suite.

`make test-clients` starts an isolated Switchboard stack (Temporal dev server,
nats-server, the fake vendor, a worker and the gateway, on free ports) and
runs pytest with its addresses in the environment: SB_GATEWAY_URL,
SB_API_KEY and SB_FAKE_VENDOR_URL. No real vendor is ever called.
"""
import json
import os
import urllib.request
import uuid

import pytest


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests with `make test-clients`")
    return value


@pytest.fixture(scope="session")
def gateway_url() -> str:
    return _env("SB_GATEWAY_URL")


@pytest.fixture(scope="session")
def api_key() -> str:
    return _env("SB_API_KEY")


@pytest.fixture()
def marker() -> str:
    """A token carried by a test's prompts, to find its requests in the fake vendor's log and scope its faults."""
    return f"pyclient-{uuid.uuid4().hex[:12]}"


class FakeVendor:
    """The fake vendor's admin API (docs/fake-vendor.md): faults and the request log."""

    def __init__(self, url: str):
        self.url = url

    def _call(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def set_fault(self, rule: dict) -> None:
        self._call("POST", "/_admin/faults", rule)

    def clear_faults(self) -> None:
        self._call("DELETE", "/_admin/faults")

    def requests(self, contains: str) -> list:
        return self._call("GET", f"/_admin/requests?contains={contains}")["records"]


@pytest.fixture()
def vendor():
    fake = FakeVendor(_env("SB_FAKE_VENDOR_URL"))
    yield fake
    fake.clear_faults()
