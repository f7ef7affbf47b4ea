"""A lean HTTP/1.1 load generator on asyncio: keep-alive connections at a fixed concurrency.

On a 2-core machine the client shares the cores with the server it measures, so its own cost
per request must stay far below the server's: a thread-per-client httpx loop spends ~1 ms of
CPU per request, this ~50 µs (raw streams, one connection per concurrent caller, uvloop when
installed). It speaks just what `shoplake serve` answers: Content-Length or chunked bodies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""

    @classmethod
    def json(
        cls, method: str, path: str, payload: object, headers: Sequence[tuple[str, str]] = ()
    ) -> Request:
        return cls(
            method, path, (*headers, ("Content-Type", "application/json")), orjson.dumps(payload)
        )

    @classmethod
    def form(
        cls, path: str, fields: dict[str, str], headers: Sequence[tuple[str, str]] = ()
    ) -> Request:
        from urllib.parse import urlencode

        body = urlencode(fields).encode()
        content = ("Content-Type", "application/x-www-form-urlencoded")
        return cls("POST", path, (*headers, content), body)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    began: float  # time.perf_counter() when the request was sent
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.began

    def json(self) -> object:
        return orjson.loads(self.body)


@dataclass
class Connection:
    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    host_header: str = field(init=False)

    def __post_init__(self) -> None:
        self.host_header = f"{self.host}:{self.port}"

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(self, request: Request) -> Response:
        reader, writer = await self._open()
        lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in request.headers]
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(request.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        began = time.perf_counter()
        writer.write(head + request.body)
        status_line = await reader.readline()
        if not status_line:
            self.close()
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length: int | None = None
        chunked = close = False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        ended = time.perf_counter()
        if close:
            self.close()
        return Response(status, body, began, ended)


def _arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed (it comes with uvicorn[standard]), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


async def _run_all(base: str, requests: Sequence[Request], concurrency: int) -> list[Response]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    results: list[Response | None] = [None] * len(requests)
    next_index = 0

    async def caller() -> None:
        nonlocal next_index
        connection = Connection(host, port)
        try:
            while next_index < len(requests):
                i = next_index
                next_index += 1
                try:
                    results[i] = await connection.send(requests[i])
                except (ConnectionError, asyncio.IncompleteReadError, OSError):
                    connection.close()  # one retry on a fresh connection (a keep-alive race)
                    results[i] = await connection.send(requests[i])
        finally:
            connection.close()

    callers = [caller() for _ in range(min(concurrency, len(requests)) or 1)]
    await _gathered(callers)
    return [r for r in results if r is not None]


async def _gathered(callers: Sequence[Awaitable[None]]) -> None:
    await asyncio.gather(*callers)


def run(base: str, requests: Sequence[Request], concurrency: int) -> tuple[list[Response], float]:
    """Send every request (in order, `concurrency` at a time, each caller on its own
    keep-alive connection); the responses in request order and the wall-clock seconds."""
    began = time.perf_counter()
    responses = _arun(_run_all(base, requests, concurrency))
    return responses, time.perf_counter() - began


def run_for(
    base: str, make: Callable[[int], Request], concurrency: int, seconds: float
) -> tuple[list[Response], float]:
    """Send `make(i)` for i = 0, 1, ... from `concurrency` callers for `seconds`."""

    async def main() -> list[Response]:
        parts = urlsplit(base)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        deadline = time.perf_counter() + seconds
        out: list[Response] = []
        counter = 0

        async def caller() -> None:
            nonlocal counter
            connection = Connection(host, port)
            try:
                while time.perf_counter() < deadline:
                    i = counter
                    counter += 1
                    out.append(await connection.send(make(i)))
            finally:
                connection.close()

        await _gathered([caller() for _ in range(concurrency)])
        return out

    began = time.perf_counter()
    responses = _arun(main())
    return responses, time.perf_counter() - began
