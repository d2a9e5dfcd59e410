"""The official Python `openai` SDK's chat completions and models against the gateway: what a team's existing code does, unchanged but for base_url.

The Responses API and embeddings have files of their own (test_openai_responses.py, test_openai_embeddings.py).
"""
import json

import openai
import pytest
from conftest import ROUTE, ask


def test_lists_and_retrieves_the_routes_as_models(client):
    ids = [m.id for m in client.models.list()]
    assert ROUTE in ids
    assert client.models.retrieve(ROUTE).id == ROUTE
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-route")


def test_chat_completion(client, marker, vendor):
    completion = client.chat.completions.create(model=ROUTE, messages=ask(marker), user=marker)
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens > 0
    assert len(vendor.requests(marker)) == 1


def test_streamed_chat_completion(client, marker):
    chunks = list(client.chat.completions.create(model=ROUTE, messages=ask(marker), stream=True, user=marker))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]


def test_tool_call(client, marker):
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }]
    completion = client.chat.completions.create(
        model=ROUTE, messages=ask(marker, "What is the weather in Lyon?"), tools=tools,
        tool_choice={"type": "function", "function": {"name": "get_weather"}}, user=marker,
    )
    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)


def test_structured_output_with_json_schema(client, marker):
    schema = {"type": "object", "properties": {"tagline": {"type": "string"}, "words": {"type": "integer"}}, "required": ["tagline", "words"], "additionalProperties": False}
    completion = client.chat.completions.create(
        model=ROUTE, messages=ask(marker), user=marker,
        response_format={"type": "json_schema", "json_schema": {"name": "tagline", "schema": schema, "strict": True}},
    )
    parsed = json.loads(completion.choices[0].message.content)
    assert isinstance(parsed["tagline"], str) and isinstance(parsed["words"], int)


def test_idempotency_key_returns_the_same_answer_paid_once(client, marker, vendor):
    headers = {"Idempotency-Key": f"order-{marker}"}
    first = client.chat.completions.create(model=ROUTE, messages=ask(marker), user=marker, extra_headers=headers)
    second = client.chat.completions.create(model=ROUTE, messages=ask(marker), user=marker, extra_headers=headers)
    assert second.id == first.id
    assert second.choices[0].message.content == first.choices[0].message.content
    assert len(vendor.requests(marker)) == 1


def test_errors_arrive_as_the_sdk_exception_types(gateway_url, client, marker):
    bad_key = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.chat.completions.create(model=ROUTE, messages=ask(marker))
    with pytest.raises(openai.BadRequestError) as n_error:
        client.chat.completions.create(model=ROUTE, messages=ask(marker), n=2, user=marker)
    assert "n" in str(n_error.value)
    # An unknown model is a 404, as OpenAI answers it.
    with pytest.raises(openai.NotFoundError) as route_error:
        client.chat.completions.create(model="no-such-route", messages=ask(marker), user=marker)
    assert route_error.value.code == "model_not_found"
    # chat-default may fall back to Anthropic, which has no logprobs: a 400 rather than an answer without them.
    with pytest.raises(openai.BadRequestError) as logprobs_error:
        client.chat.completions.create(model=ROUTE, messages=ask(marker), logprobs=True, user=marker)
    assert logprobs_error.value.param == "logprobs"


def test_an_organisation_down_is_invisible_to_the_caller(client, marker, vendor):
    # org-a (weight 2 of 4) answers every request with 503: the pool's other organisations answer.
    vendor.set_fault({"organisation": "openai/org-a", "promptContains": marker, "fault": {"kind": "status", "status": 503}})
    for i in range(6):
        completion = client.chat.completions.create(model=ROUTE, messages=ask(marker, f"Tagline {i}."), user=marker)
        assert completion.choices[0].message.content


def test_a_vendor_down_falls_back_within_the_stream(client, marker, vendor):
    # Every OpenAI organisation fails before its first token: the route's Anthropic entry answers the stream.
    for org in ("openai/org-a", "openai/org-b", "openai/org-c"):
        vendor.set_fault({"organisation": org, "promptContains": marker, "fault": {"kind": "status", "status": 503}})
    chunks = list(client.chat.completions.create(model=ROUTE, messages=ask(marker), stream=True, user=marker))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert any(r["organisation"] == "anthropic/org-a" for r in vendor.requests(marker))


def test_a_stream_survives_its_organisation_pulled_mid_stream(client, marker, vendor):
    # org-b cuts every stream of this test after two tokens; the call resumes on another
    # organisation and the caller sees one whole answer. Which organisation a call tries first
    # is the pool's choice, so streams go on until one of them went through the cut.
    text = "fresh bread every morning from our stone oven"
    vendor.set_fault({"organisation": "openai/org-b", "promptContains": marker, "stream": True, "fault": {"kind": "stream_cut", "afterChunks": 2}})
    for i in range(12):
        chunks = list(client.chat.completions.create(model=ROUTE, messages=ask(marker, f"Stream {i} [[say:{text}]]"), stream=True, user=marker))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
        if any(r["fault"] == "stream_cut" for r in vendor.requests(marker)):
            return
    pytest.fail("no stream of 12 was sent to openai/org-b")
