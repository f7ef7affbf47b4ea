"""A checkout load against a running API, and a record of every answer it got.

Shared by the fault-injection suite (`tests/faults/`) and the outage benchmark
(`benchmarks/outages.py`): one product with stock, `shoppers` signed-in shoppers each with one
unit in their cart, then `concurrency` clients that check each shopper out with their own
Idempotency-Key. A client behaves as a careful one does: on a 503, a 202 (payment pending) or
a connection error it tries again with the same key after a pause, so no retry can charge
twice, until it gets a final answer or its patience runs out. Every attempt is recorded with
its start and end times, its status or the connection error, so a test can say which answers
came when (503s only inside an outage, no 500, no reset connection...).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import httpx

from shoplake.config import Settings

ADDRESS = {
    "full_name": "Load Shopper",
    "line1": "1 Queue Street",
    "city": "Lyon",
    "postal_code": "69001",
    "country": "FR",
}
# Answers after which a careful client tries again with the same key.
RETRYABLE = {202, 409, 503}


@dataclass(frozen=True)
class Attempt:
    """One HTTP request of the load: when, for which key, and what came back."""

    key: str
    started: float  # time.monotonic()
    ended: float
    status: int | None  # None: no answer (the connection failed)
    error: str | None = None  # the connection error's type, when there was no answer
    code: str | None = None  # the error code of a JSON error answer


@dataclass
class LoadRecord:
    attempts: list[Attempt] = field(default_factory=list)
    final: dict[str, int] = field(default_factory=dict)  # key -> last status (0: no answer)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

    def statuses(self, between: tuple[float, float] | None = None) -> Counter[str]:
        """Status codes (or connection errors by type) of the attempts started in a window."""
        counts: Counter[str] = Counter()
        for a in self.attempts:
            if between is None or between[0] <= a.started <= between[1]:
                counts[str(a.status) if a.status is not None else f"no answer ({a.error})"] += 1
        return counts

    def first_success_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the end of the first 2xx checkout started after it."""
        ends = [
            a.ended
            for a in self.attempts
            if a.started >= moment and a.status is not None and 200 <= a.status < 300
        ]
        return min(ends) - moment if ends else None


def admin_headers(base_url: str, email: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/v1/auth/token", data={"username": email, "password": password}, timeout=60
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class CheckoutLoad:
    """Shoppers with a unit each in their cart; `run` checks them all out."""

    def __init__(
        self,
        base_url: str,
        settings: Settings,
        *,
        admin: dict[str, str],
        shopper_headers: Callable[[], dict[str, str]],
        shoppers: int,
        units: int,
        concurrency: int = 8,
        patience_s: float = 60.0,
        sku_prefix: str = "LOAD",
    ) -> None:
        self.base_url = base_url
        self.settings = settings
        self.concurrency = concurrency
        self.patience_s = patience_s
        self.sku = f"{sku_prefix}-{uuid.uuid4().hex[:10]}"
        self.units = units
        self.http = httpx.Client(
            base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=concurrency + 4)
        )
        self._admin = admin
        self.shoppers = [shopper_headers() for _ in range(shoppers)]
        self.keys = [f"load-{uuid.uuid4().hex}" for _ in range(shoppers)]
        self.record = LoadRecord()

    def close(self) -> None:
        self.http.close()

    def prepare(self) -> None:
        product = {
            "sku": self.sku,
            "name": "Load lantern",
            "brand": "Acme",
            "category_path": ["outdoor"],
            "price_cents": 1999,
        }
        self.http.post("/v1/admin/products", json=product, headers=self._admin).raise_for_status()
        self.http.post(
            f"/v1/admin/inventory/{self.sku}/WH-1/receipts",
            json={"quantity": self.units, "reference": "LOAD"},
            headers=self._admin,
        ).raise_for_status()
        for headers in self.shoppers:
            self.fill(headers)

    def fill(self, headers: dict[str, str]) -> None:
        self.http.post(
            "/v1/cart/items", json={"sku": self.sku, "quantity": 1}, headers=headers
        ).raise_for_status()

    def one_more(self, headers: dict[str, str]) -> int:
        """A new shopper checks out (after an outage: does it work again?); the final status."""
        self.shoppers.append(headers)
        self.keys.append(f"load-{uuid.uuid4().hex}")
        self.fill(headers)
        index = len(self.shoppers) - 1
        self._shopper(index)
        return self.record.final[self.keys[index]]

    def _attempt(self, index: int) -> Attempt:
        key = self.keys[index]
        began = time.monotonic()
        try:
            response = self.http.post(
                "/v1/checkout",
                json={"payment_token": "tok_ok", "shipping_address": ADDRESS},
                headers={**self.shoppers[index], "Idempotency-Key": key},
            )
        except httpx.TransportError as exc:
            attempt = Attempt(key, began, time.monotonic(), None, type(exc).__name__)
        else:
            code = None
            try:
                body = response.json()
                if isinstance(body, dict) and isinstance(body.get("error"), dict):
                    code = str(body["error"].get("code"))
            except ValueError:
                code = "NOT_JSON"
            attempt = Attempt(key, began, time.monotonic(), response.status_code, code=code)
        self.record.add(attempt)
        return attempt

    def _shopper(self, index: int) -> None:
        deadline = time.monotonic() + self.patience_s
        while True:
            attempt = self._attempt(index)
            status = attempt.status
            done = status is not None and status not in RETRYABLE
            # A 409 is final unless it says the checkout is still being placed.
            if status == 409 and attempt.code not in {"PAYMENT_PENDING"}:
                done = True
            if done or time.monotonic() > deadline:
                with self.record.lock:
                    self.record.final[attempt.key] = status or 0
                return
            time.sleep(0.25)

    def run(
        self,
        indices: Iterable[int] | None = None,
        pace_s: float = 0.0,
        stop: threading.Event | None = None,
    ) -> LoadRecord:
        """Check the shoppers out with `concurrency` clients; `pace_s` spaces out the starts
        so that a short load covers a longer window; once `stop` is set no new shopper starts
        (those under way finish)."""
        queue = list(indices if indices is not None else range(len(self.shoppers)))
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not queue or (stop is not None and stop.is_set()):
                        return
                    index = queue.pop(0)
                self._shopper(index)
                if pace_s:
                    time.sleep(pace_s)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.record
