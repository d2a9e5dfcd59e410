"""The official Python `openai` SDK's `client.embeddings` against the gateway's POST /v1/embeddings (the local config's `embeddings` route)."""
import openai
import pytest

ROUTE = "embeddings"


def test_the_route_is_listed_with_its_embedding_model(client):
    entries = (client.models.retrieve(ROUTE).model_extra or {})["switchboard"]["entries"]
    assert [e["model"] for e in entries] == ["text-embedding-3-small"]


def test_embeds_one_text_as_the_vendor_does(client, marker, vendor):
    response = client.embeddings.create(model=ROUTE, input=f"hello {marker}", encoding_format="float", user=marker)
    assert len(response.data) == 1 and response.usage.prompt_tokens > 0
    direct = vendor.openai().embeddings.create(model=response.model, input=f"hello {marker}", encoding_format="float").data[0].embedding
    assert response.data[0].embedding == pytest.approx(direct, abs=1e-5)


def test_embeds_100_texts_in_order_while_an_organisation_is_down(client, marker, vendor):
    vendor.set_fault({"organisation": "openai/org-a", "promptContains": marker, "fault": {"kind": "status", "status": 503}})
    texts = [f"chunk {i} of the handbook {marker}" for i in range(100)]
    # The SDK's default encoding (base64), decoded by the SDK itself.
    response = client.embeddings.create(model=ROUTE, input=texts, user=marker)
    assert [d.index for d in response.data] == list(range(100))
    # What reached org-a failed there; every vector came from a healthy organisation.
    seen = [r for r in vendor.requests(marker) if r["path"] == "/v1/embeddings"]
    assert all(r["status"] == 503 for r in seen if r["organisation"] == "openai/org-a")
    assert any(r["status"] == 200 for r in seen)
    for i in (0, 37, 99):
        direct = vendor.openai().embeddings.create(model=response.model, input=texts[i], encoding_format="float").data[0].embedding
        assert response.data[i].embedding == pytest.approx(direct, abs=1e-5)


def test_an_idempotency_key_embeds_once(client, marker, vendor):
    headers = {"Idempotency-Key": f"index-{marker}"}
    first = client.embeddings.create(model=ROUTE, input=[f"a {marker}", f"b {marker}"], encoding_format="float", user=marker, extra_headers=headers)
    second = client.embeddings.create(model=ROUTE, input=[f"a {marker}", f"b {marker}"], encoding_format="float", user=marker, extra_headers=headers)
    assert [d.embedding for d in second.data] == [d.embedding for d in first.data]
    assert len([r for r in vendor.requests(marker) if r["status"] == 200]) == 1


def test_errors_arrive_as_the_sdk_exception_types(client, marker):
    with pytest.raises(openai.NotFoundError) as route_error:
        client.embeddings.create(model="no-such-route", input=marker, user=marker)
    assert route_error.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as tokens_error:
        client.embeddings.create(model=ROUTE, input=[[1, 2, 3]], user=marker)
    assert tokens_error.value.param == "input"
