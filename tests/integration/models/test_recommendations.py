"""Train → register → publish → serve on the real stack (MLflow, Redis, Postgres) with a small
simulated history; the champion rule, the publish switch under concurrent readers, the
fallbacks, and bad input."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from fastapi.testclient import TestClient

from models import tracking
from models.features import RecsData, recs_data
from models.recommendations.factorization import FactorParams
from models.recommendations.publish import Lists, publish, write
from models.recommendations.train import RecsRun, load_champion, train
from serving.app import create_app
from serving.recommendations import store
from serving.security import Role, issue_token
from shoplake.config import Settings
from shoplake.recommendations import GLOBAL_CATEGORY, ListedItem, ListKind, Publication, Reason
from shoplake.stack import Stack
from shoplake.stack.process import free_port
from tests.support.api import generous_limits
from tests.support.histories import LANDING_TIMEOUT, HistoryLake

pytestmark = LANDING_TIMEOUT


@dataclass
class Trained:
    data: RecsData
    run: RecsRun
    model_name: str
    settings: Settings


@pytest.fixture(scope="module")
def trained(stack: Stack, settings: Settings, history_lake: HistoryLake) -> Trained:
    data = recs_data(history_lake.root)
    name = f"test-recs-{uuid.uuid4().hex[:8]}"
    run = train(settings, data, FactorParams(factors=16), model_name=name)
    return Trained(data, run, name, settings)


def test_training_registers_a_champion_that_beats_popularity(trained: Trained) -> None:
    run = trained.run
    assert run.decision.promote, run.decision
    client = tracking.client(trained.settings)
    held = tracking.champion(client, trained.model_name)
    assert held is not None and held.version == run.version
    assert held.metrics["ndcg_at_10"] > held.metrics["baseline_ndcg_at_10"]
    artifacts = {a.path for a in client.list_artifacts(run.run_id)}
    assert {"sample_lists.json", "evaluation.json"} <= artifacts


def test_a_worse_version_never_takes_the_champion_alias(trained: Trained) -> None:
    worse = train(
        trained.settings,
        trained.data,
        FactorParams(factors=2, iterations=1, regularization=50.0),
        model_name=trained.model_name,
    )
    assert worse.version != trained.run.version
    assert not worse.decision.promote, worse.decision
    held = tracking.champion(tracking.client(trained.settings), trained.model_name)
    assert held is not None and held.version == trained.run.version


@pytest.fixture(scope="module")
def published(trained: Trained) -> Iterator[TestClient]:
    bundle, version, run_id = load_champion(trained.settings, trained.model_name)
    done = publish(
        trained.settings,
        trained.data,
        bundle,
        model_name=trained.model_name,
        model_version=version,
        run_id=run_id,
    )
    assert done.users > 100 and done.event_sent
    with TestClient(create_app(generous_limits(trained.settings))) as client:
        yield client


def _shopper(trained: Trained) -> tuple[str, dict[str, str]]:
    user = str(trained.data.interactions.user_id.value_counts().index[0])
    token, _ = issue_token(trained.settings, user, Role.CUSTOMER, "access")
    return user, {"Authorization": f"Bearer {token}"}


def test_a_known_shopper_gets_personal_items_with_reasons(
    published: TestClient, trained: Trained
) -> None:
    user, headers = _shopper(trained)
    answer = published.get("/v1/recommendations", params={"limit": 20}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["strategy"] == "personal" and body["recommendation_id"]
    assert len(body["items"]) == 20
    assert all(item["reason_text"] for item in body["items"])
    seen = trained.data.interactions
    bought = set(seen[(seen.kind == "purchase") & (seen.user_id == user)].sku)
    assert not bought & {item["sku"] for item in body["items"]}


def test_recent_views_rerank_the_list(published: TestClient, trained: Trained) -> None:
    _, headers = _shopper(trained)
    session = uuid.uuid4().hex
    before = published.get("/v1/recommendations", headers=headers).json()["items"]
    viewed = str(trained.data.products.sku.iloc[-1])
    sent = published.post(
        "/v1/events/behaviour",
        json={"events": [{"type": "ProductViewed", "session_id": session, "sku": viewed}]},
        headers=headers,
    )
    assert sent.status_code == 202
    after = published.get(
        "/v1/recommendations", headers={**headers, "X-Session-Id": session}
    ).json()["items"]
    assert [i["sku"] for i in after] != [i["sku"] for i in before]
    assert any(i["reason"] == "because_you_viewed" and i["about"] == viewed for i in after)


def test_cold_shoppers_fall_back_to_category_then_global_popularity(
    published: TestClient, trained: Trained
) -> None:
    anonymous = published.get("/v1/recommendations", params={"limit": 5}).json()
    assert anonymous["strategy"] == "popular"
    assert [i["reason"] for i in anonymous["items"]] == ["popular"] * 5
    sku = str(trained.data.products.sku.iloc[0])
    category = str(trained.data.products.category.iloc[0])
    page = published.get("/v1/recommendations", params={"context": "cart", "sku": sku}).json()
    assert page["items"] and sku not in {i["sku"] for i in page["items"]}
    fill = [i for i in page["items"] if i["reason"] == "popular_in"]
    assert all(i["about"] == category for i in fill)


def test_similar_and_bought_together_per_product(published: TestClient, trained: Trained) -> None:
    sku = str(trained.data.products.sku.iloc[0])
    similar = published.get(f"/v1/products/{sku}/similar", params={"limit": 5})
    together = published.get(f"/v1/products/{sku}/bought-together", params={"limit": 5})
    assert similar.status_code == together.status_code == 200
    assert len(similar.json()["items"]) == 5
    assert all(item["sku"] != sku for item in together.json()["items"])


def test_bad_input_is_a_clear_4xx_or_a_sensible_list(published: TestClient) -> None:
    assert published.get("/v1/recommendations", params={"limit": 10_000}).status_code == 422
    assert published.get("/v1/recommendations", params={"context": "moon"}).status_code == 422
    missing = published.get("/v1/recommendations", params={"context": "product"})
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "RECOMMENDATIONS_SKU_REQUIRED"
    unknown = published.get("/v1/products/NO-SUCH-SKU/similar")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "RECOMMENDATIONS_UNKNOWN_PRODUCT"
    stranger = str(uuid.uuid4())
    token, _ = issue_token(generous_limits(Settings()), stranger, Role.CUSTOMER, "access")
    cold = published.get("/v1/recommendations", headers={"Authorization": f"Bearer {token}"})
    assert cold.status_code == 200 and cold.json()["items"]


def test_redis_down_serves_the_baseline_from_memory_then_a_clear_503(
    published: TestClient,
) -> None:
    assert published.get("/v1/recommendations").status_code == 200  # memory filled
    state = published.app.state  # type: ignore[attr-defined]
    real = state.redis
    state.redis = redis.Redis(port=free_port(), socket_connect_timeout=0.2, decode_responses=True)
    try:
        answer = published.get("/v1/recommendations", params={"limit": 3})
        assert answer.status_code == 200, answer.text
        assert answer.json()["strategy"] == "memory" and len(answer.json()["items"]) == 3
        state.recommendations_memory.items = []
        down = published.get("/v1/recommendations")
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "RECOMMENDATIONS_UNAVAILABLE"
    finally:
        state.redis = real


def _lists(tag: str) -> Lists:
    items = [ListedItem(sku=f"{tag}-{i}", score=1.0, reason=Reason.POPULAR) for i in range(30)]
    return Lists(
        users={f"user-{u}": items for u in range(200)},
        similar={},
        bought_together={},
        popular={GLOBAL_CATEGORY: items},
        categories={f"{tag}-0": "c"},
        names={},
    )


def test_readers_never_see_a_mix_of_two_publications(settings: Settings, stack: Stack) -> None:
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    stop = threading.Event()
    seen: list[str] = []
    problems: list[str] = []

    def read() -> None:
        reader = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
        while not stop.is_set():
            publication = store.current(reader)
            if publication is None or not publication.startswith("mixtest"):
                continue
            lists, _ = store.read(
                reader,
                publication,
                [(ListKind.USER, "user-7"), (ListKind.POPULAR, GLOBAL_CATEGORY)],
            )
            tags = {item.sku.split("-")[0] for found in lists for item in found}
            if len(tags) != 1 or any(len(found) != 30 for found in lists):
                problems.append(f"{publication}: {tags} {[len(f) for f in lists]}")
            seen.append(publication)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for i in range(12):
            tag = "A" if i % 2 == 0 else "B"
            name = f"mixtest{i:03d}{uuid.uuid4().hex[:6]}"
            meta = Publication(
                publication=name,
                model_name="t",
                published_at="now",
                users=200,
                items=30,
                categories=1,
            )
            write(client, _lists(tag), meta, ttl_s=600)
    finally:
        stop.set()
        for thread in readers:
            thread.join(10)
    assert not problems, problems[:5]
    assert len(set(seen)) >= 3  # the readers did overlap several switches
    client.delete("recs:current")


@pytest.fixture(autouse=True, scope="module")
def _clean_pointer(settings: Settings) -> Iterator[None]:
    yield
    with redis.Redis.from_url(settings.redis_endpoint) as client:
        client.delete("recs:current")
