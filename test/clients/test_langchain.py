"""langchain-openai's ChatOpenAI against the gateway: invoke, stream, with_structured_output."""
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
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


def test_embeddings(gateway_url, api_key, marker):
    # LangChain's default (check_embedding_ctx_length) tokenises inputs with tiktoken and sends token arrays,
    # which the gateway refuses (400: send text) — and tiktoken fetches its encodings from the internet.
    embeddings = OpenAIEmbeddings(base_url=f"{gateway_url}/v1", api_key=api_key, model="embeddings", check_embedding_ctx_length=False, max_retries=0)
    vectors = embeddings.embed_documents([f"rye bread {marker}", f"sourdough {marker}"])
    assert [len(v) for v in vectors] == [1536, 1536]
    assert embeddings.embed_query(f"rye bread {marker}") == pytest.approx(vectors[0], abs=1e-6)


def test_tool_calls(llm, marker):
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "clear"

    message = llm.bind_tools([get_weather], tool_choice="get_weather").invoke(f"What is the weather in Lyon? ({marker})")
    assert message.tool_calls[0]["name"] == "get_weather" and isinstance(message.tool_calls[0]["args"]["city"], str)
