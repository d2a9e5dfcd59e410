"""The official Python `openai` SDK's Responses API (`client.responses`) against the gateway's POST /v1/responses."""
import json

import openai
import pytest
from conftest import ROUTE, restart_gateway
from pydantic import BaseModel


class Tagline(BaseModel):
    tagline: str
    words: int


def test_plain_streamed_and_continued_with_previous_response_id(client, marker):
    first = client.responses.create(model=ROUTE, input=f"My name is Ada ({marker}) [[say:nice to meet you Ada]]", user=marker)
    assert first.status == "completed" and first.output_text == "nice to meet you Ada"
    events = list(client.responses.create(model=ROUTE, previous_response_id=first.id, input=f"What is my name? ({marker}) [[say:your name is Ada]]", stream=True, user=marker))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "your name is Ada"
    assert events[-1].response.output_text == "your name is Ada"


def test_the_sdk_stream_helper_assembles_the_final_response(client, marker):
    with client.responses.stream(model=ROUTE, input=f"A tagline ({marker}) [[say:bread worth waking up for]]", user=marker) as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "bread worth waking up for"


def test_a_function_tool_call_and_its_output_in_the_next_turn(client, marker):
    tools = [{"type": "function", "name": "get_weather", "description": "The weather in a city", "strict": True,
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}]
    first = client.responses.create(model=ROUTE, input=f"What is the weather in Lyon? ({marker})", tools=tools, tool_choice="required", user=marker)
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "get_weather" and isinstance(json.loads(call.arguments)["city"], str)
    second = client.responses.create(
        model=ROUTE, previous_response_id=first.id, tools=tools, user=marker,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": json.dumps({"sky": "clear"})}],
    )
    assert second.status == "completed" and second.output_text


def test_structured_output_through_responses_parse(client, marker):
    parsed = client.responses.parse(model=ROUTE, input=f"A tagline for a bakery and its word count ({marker})", text_format=Tagline, user=marker)
    assert isinstance(parsed.output_parsed, Tagline) and parsed.output_parsed.tagline


def test_an_unknown_previous_response_id_is_not_found(client, marker):
    with pytest.raises(openai.NotFoundError) as error:
        client.responses.create(model=ROUTE, previous_response_id="resp_" + "0" * 48, input="hi", user=marker)
    assert error.value.code == "previous_response_not_found"


def test_a_chat_front_end_session_across_a_gateway_restart(client, marker):
    # What a chat front-end does: pick a model from the list, stream an answer, then go on with the
    # Responses API — and the conversation survives the gateway process it started on.
    model = next(m.id for m in client.models.list() if m.id == ROUTE)
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": f"Hello ({marker}) [[say:hello there]]"}], stream=True, user=marker) if c.choices)
    assert streamed == "hello there"
    first = client.responses.create(model=model, input=f"I bake rye ({marker}) [[say:rye it is]]", user=marker)
    restart_gateway()
    with client.responses.stream(model=model, previous_response_id=first.id, input=f"What do I bake? ({marker}) [[echo:prompt]]", user=marker) as stream:
        final = stream.get_final_response()
    # The second turn reached the vendor with the first turn's question and answer before it.
    assert "I bake rye" in final.output_text and "rye it is" in final.output_text
