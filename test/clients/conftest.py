"""Fixtures of the client conformance suite.

`make test-clients` starts an isolated Switchboard stack (Temporal dev server,
nats-server, the fake vendor, a worker and the gateway, on free ports) and
runs pytest with its addresses in the environment: SB_GATEWAY_URL,
SB_API_KEY, SB_FAKE_VENDOR_URL and SB_STACK_CONTROL_URL (which restarts the
gateway). No real vendor is ever called.
"""
import json
import os
import urllib.request
import uuid

import openai
import pytest

#: The local config's chat route: three OpenAI organisations, then Anthropic.
ROUTE = "chat-default"


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
def client(gateway_url, api_key) -> openai.OpenAI:
    """The official openai client, as a team's code builds it, but for base_url (its own retries off: the gateway retries)."""
    return openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=api_key, max_retries=0, timeout=60)


def ask(marker: str, text: str = "Write a tagline for a bakery.") -> list:
    return [{"role": "user", "content": f"{text} ({marker})"}]


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

    def openai(self, organisation_key: str = "sk-fake-org-b-1") -> openai.OpenAI:
        """A client straight to the fake vendor with one organisation's test key (config/local.env): what the vendor itself answers."""
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=organisation_key, max_retries=0, timeout=60)


@pytest.fixture()
def vendor():
    fake = FakeVendor(_env("SB_FAKE_VENDOR_URL"))
    yield fake
    fake.clear_faults()


def restart_gateway() -> None:
    """Stops the stack's gateway process and starts a new one on the same port; returns once it is ready."""
    request = urllib.request.Request(f"{_env('SB_STACK_CONTROL_URL')}/restart-gateway", method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        pids = json.loads(response.read())
    assert pids["before"] and pids["after"] and pids["before"] != pids["after"], pids
