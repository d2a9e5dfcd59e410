"""langchain-openai's ChatOpenAI against the gateway: invoke, stream, with_structured_output."""
import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

ROUTE = "chat-default"


class Tagline(BaseModel):
    tagline: str
    words: int


@pytest.fixture()
def llm(gateway_url, api_key, marker):
    return ChatOpenAI(base_url=f"{gateway_url}/v1", api_key=api_key, model=ROUTE, max_retries=0, timeout=60, model_kwargs={"user": marker})


def test_invoke(llm, marker):
    assert llm.invoke(f"Write a tagline for a bakery ({marker})").content


def test_stream(llm, marker):
    pieces = [chunk.content for chunk in llm.stream(f"Write a tagline for a bakery ({marker})")]
    assert "".join(pieces)


def test_structured_output(llm, marker):
    result = llm.with_structured_output(Tagline).invoke(f"A tagline for a bakery and its word count ({marker})")
    assert isinstance(result, Tagline) and result.tagline
