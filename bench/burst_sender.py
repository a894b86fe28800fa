"""Sends pre-signed webhook deliveries as one burst and prints each acknowledgement's status and time.

Run as its own process (`python -m bench.burst_sender < spec.json`) by bench/bench_webhooks.py:
an asyncio loop keeps `connections` keep-alive connections busy until every delivery is sent,
so the figures are the server's, not those of a sender competing for the same interpreter
as the fake Webex (as a pool of Python threads in the bench process would). The spec is JSON
`{"url": ..., "connections": N, "deliveries": [[body, signature], ...]}`; the output is JSON
`{"seconds": S, "answers": [[status, milliseconds, duplicate], ...]}`, answers in the order they
came, `duplicate` being the 202 body's flag (null otherwise) and status 0 a failed connection.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


async def _connection(host: str, port: int, path: str, queue: asyncio.Queue, answers: list) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not queue.empty():
            body, signature = queue.get_nowait()
            request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                       f"X-Spark-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
            start = time.perf_counter()
            writer.write(request)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            elapsed = (time.perf_counter() - start) * 1000
            answer = await reader.readexactly(length)
            duplicate = json.loads(answer).get("duplicate") if status == 202 else None
            answers.append((status, elapsed, duplicate))
    except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
        answers.append((0, (time.perf_counter() - start) * 1000, None))
    finally:
        writer.close()


async def send(url: str, deliveries: list[tuple[str, str]], connections: int) -> list[tuple[int, float, bool]]:
    parts = urlsplit(url)
    queue: asyncio.Queue = asyncio.Queue()
    for body, signature in deliveries:
        queue.put_nowait((body.encode(), signature))
    answers: list[tuple[int, float, bool]] = []
    await asyncio.gather(*(_connection(parts.hostname, parts.port, parts.path, queue, answers)
                           for _ in range(connections)))
    return answers


def main() -> None:
    spec = json.load(sys.stdin)
    start = time.perf_counter()
    answers = asyncio.run(send(spec["url"], spec["deliveries"], spec["connections"]))
    json.dump({"seconds": time.perf_counter() - start, "answers": answers}, sys.stdout)


if __name__ == "__main__":
    main()
