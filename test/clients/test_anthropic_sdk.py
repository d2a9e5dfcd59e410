"""The official Python `anthropic` SDK against the gateway's /v1/messages."""
import anthropic
import pytest

ROUTE = "chat-default"


@pytest.fixture()
def client(gateway_url, api_key):
    return anthropic.Anthropic(base_url=gateway_url, api_key=api_key, max_retries=0, timeout=60)


def test_message(client, marker):
    message = client.messages.create(model=ROUTE, max_tokens=200, messages=[{"role": "user", "content": f"Write a tagline ({marker})"}], metadata={"user_id": marker})
    assert message.content[0].type == "text" and message.content[0].text
    assert message.stop_reason == "end_turn"


def test_streamed_message(client, marker):
    with client.messages.stream(model=ROUTE, max_tokens=200, messages=[{"role": "user", "content": f"Write a tagline ({marker})"}], metadata={"user_id": marker}) as stream:
        deltas = [text for text in stream.text_stream]
        final = stream.get_final_message()
    assert "".join(deltas) == final.content[0].text
    assert final.content[0].text


def test_errors_arrive_as_the_sdk_exception_types(gateway_url, client, marker):
    bad = anthropic.Anthropic(base_url=gateway_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.messages.create(model=ROUTE, max_tokens=50, messages=[{"role": "user", "content": marker}])
    # An unknown model is a 404 not_found_error, as Anthropic answers it.
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="no-such-route", max_tokens=50, messages=[{"role": "user", "content": marker}], metadata={"user_id": marker})
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model=ROUTE, max_tokens=0, messages=[{"role": "user", "content": marker}], metadata={"user_id": marker})
