"""Queue API latency under many concurrent pollers: submit and status p50/p99, throughput, errors.

A real ``openpika serve`` subprocess (SQLite job store, loopback, no in-process worker) is loaded
by N pollers, each on its own keep-alive connection, behaving like fal's clients: submit, poll the
status every INTERVAL seconds (the JS client's 0.5 s by default; a fixed schedule, so a slow answer
does not lower the offered load) until it answers 200 COMPLETED, fetch the result, start over.

A *drain* process plays a farm of workers through the same SQLite file: it claims every queued job
and completes it JOB_SECONDS later, so the store sees worker writes beside the API's and the queue
stays realistic. ``--no-drain`` instead lets the backlog grow (every job stays queued; status
then pays for queue positions over thousands of jobs).

The same load is run against a *peer*: a bare Starlette app on the same uvicorn settings that
answers constant JSON of the same size. Its latency is the floor of an HTTP round trip on this
machine; the ratio says what openpika's protocol work adds.

    python benchmarks/queue_api.py [--pollers 200] [--duration 20] [--interval 0.5] [--job-seconds 2]

Targets on a 2-core machine: submit p99 < 20 ms, status p99 < 10 ms, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ENDPOINT = "fal-ai/pika/v2.2/image-to-video"


def _input() -> bytes:
    """A real (tiny) image as a data URI, so that in-process workers can render the jobs too."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(buffer, "PNG")
    image = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return json.dumps({"image_url": image, "prompt": "slow dolly in", "duration": 5}).encode()


INPUT = _input()

PEER_APP = textwrap.dedent(
    """
    import sys, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    STATUS = b'{"status":"IN_QUEUE","request_id":"x","queue_position":3,"logs":null}' + b" " * 380
    async def status(request): return Response(STATUS, 202, media_type="application/json")
    async def submit(request):
        await request.body()
        return Response(STATUS, 200, media_type="application/json")
    async def result(request): return Response(b'{"video":{"url":"x"}}', 200, media_type="application/json")
    app = Starlette(routes=[Route("/{p:path}/status", status), Route("/{p:path}", submit, methods=["POST"]),
                            Route("/{p:path}", result, methods=["GET"])])
    print("peer ready", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
    """
)


@dataclass
class Stats:
    submit: list[float] = field(default_factory=list)
    status: list[float] = field(default_factory=list)
    result: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost far less than the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        match = re.search(rb"(?i)content-length:\s*(\d+)", header)
        length = int(match.group(1)) if match else 0
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def poller(port: int, args: argparse.Namespace, stats: Stats, end: float, peer: bool) -> None:
    connection = Connection("127.0.0.1", port)
    measure_from = end - args.duration
    next_at = time.monotonic() + random.uniform(0, args.interval)
    # The peer never completes: it is "done" after as many polls as a real job needs.
    peer_polls = max(1, round(args.job_seconds / args.interval) + 1)

    async def timed(kind: list[float], method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        started = time.perf_counter()
        answer = await connection.request(method, path, body)
        if time.monotonic() >= measure_from:  # the warm-up (connections opening, first calls) is not counted
            kind.append(time.perf_counter() - started)
        return answer

    try:
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= end:
                return
            code, body = await timed(stats.submit, "POST", f"/{ENDPOINT}", INPUT)
            if code != 200:
                stats.errors.append(f"submit {code} {body[:120]!r}")
                return
            handle = {"status_url": "/x/y/requests/z/status", "response_url": "/x/y/requests/z"}
            if not peer:
                handle = json.loads(body)
            for poll in range(args.max_polls):
                next_at += args.interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if time.monotonic() >= end:
                    return
                query = "?logs=1" if poll % 2 else ""
                code, body = await timed(stats.status, "GET", _path(handle["status_url"]) + query)
                if code not in (200, 202):
                    stats.errors.append(f"status {code} {body[:120]!r}")
                if code == 200 or (peer and poll + 1 >= peer_polls):
                    break
            else:
                next_at += args.interval
                continue  # gave up on this job (no drain): submit the next one
            code, body = await timed(stats.result, "GET", _path(handle["response_url"]))
            if code != 200:
                stats.errors.append(f"result {code} {body[:120]!r}")
            next_at += args.interval
    except (OSError, asyncio.IncompleteReadError) as exc:
        stats.errors.append(f"connection: {exc!r}")
    finally:
        connection.close()


def drain(db_path: str, job_seconds: float, stop: Any) -> None:
    """A worker farm through the same SQLite file: claim everything, complete it ``job_seconds`` later."""
    sys.path.insert(0, str(REPO / "src"))
    from openpika.jobs.sqlite import SQLiteJobStore

    store = SQLiteJobStore(Path(db_path))
    running: list[tuple[float, str, int]] = []
    output = {"video": {"url": "http://127.0.0.1/files/k/output.mp4", "content_type": "video/mp4"}}
    while not stop.is_set():
        job = store.claim("bench-drain", 600, 3)
        if job is not None:
            running.append((time.monotonic() + job_seconds, job.id, job.attempt))
            continue
        now = time.monotonic()
        for item in [item for item in running if item[0] <= now]:
            store.complete(item[1], item[2], output)
            running.remove(item)
        time.sleep(0.01)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def load(port: int, args: argparse.Namespace, peer: bool) -> tuple[Stats, float]:
    stats = Stats()
    started = time.monotonic()
    end = started + args.warmup + args.duration
    await asyncio.gather(*(poller(port, args, stats, end, peer) for _ in range(args.pollers)))
    return stats, time.monotonic() - started - args.warmup


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def start_openpika(data_dir: str, workers: int) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OPENPIKA_ENGINE": "fixture:ok"}
    command = [
        sys.executable,
        "-m",
        "openpika.cli.main",
        "serve",
        "--port",
        "0",
        "--queue-port",
        "0",
        "--workers",
        str(workers),
        "--data-dir",
        data_dir,
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"queue \(queue\.fal\.run\)\s+http://[^:]+:(\d+)", line)
        if match:
            return process, int(match.group(1))
    raise RuntimeError("openpika serve did not start")


def start_peer() -> tuple[subprocess.Popen[str], int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen([sys.executable, "-c", PEER_APP, str(port)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()
    return process, port


async def wait_ready(port: int) -> None:
    for _ in range(200):
        try:
            connection = Connection("127.0.0.1", port)
            await connection.request("GET", "/health")
            connection.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("server not ready")


def report(name: str, stats: Stats, seconds: float) -> dict[str, float]:
    total = len(stats.submit) + len(stats.status) + len(stats.result)
    figures = {
        "submit_p50_ms": percentile(stats.submit, 0.50),
        "submit_p99_ms": percentile(stats.submit, 0.99),
        "status_p50_ms": percentile(stats.status, 0.50),
        "status_p99_ms": percentile(stats.status, 0.99),
        "result_p99_ms": percentile(stats.result, 0.99),
        "throughput_rps": total / seconds,
        "errors": float(len(stats.errors)),
    }
    print(
        f"{name:9s} requests={total:6d} submits={len(stats.submit):5d} "
        f"submit p50={figures['submit_p50_ms']:6.2f} ms p99={figures['submit_p99_ms']:6.2f} ms | "
        f"status p50={figures['status_p50_ms']:6.2f} ms p99={figures['status_p99_ms']:6.2f} ms | "
        f"result p99={figures['result_p99_ms']:6.2f} ms | "
        f"{figures['throughput_rps']:7.1f} req/s | errors={len(stats.errors)}"
    )
    for error in stats.errors[:5]:
        print("   ", error)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between one poller's requests")
    parser.add_argument("--job-seconds", type=float, default=2.0, help="how long the drain holds each job")
    parser.add_argument("--no-drain", action="store_true", help="no worker at all: the backlog grows")
    parser.add_argument("--max-polls", type=int, default=10, help="polls before a poller gives up on a job")
    parser.add_argument("--workers", type=int, default=0, help="in-process workers (fixture:ok engine)")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--tmp", default=None, help="where the server's data dir goes (e.g. /dev/shm)")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="openpika-bench-", dir=args.tmp) as data_dir:
        server, port = start_openpika(data_dir, args.workers)
        stop = multiprocessing.Event()
        drainer = None
        if not args.no_drain:
            drainer = multiprocessing.Process(
                target=drain, args=(f"{data_dir}/jobs.db", args.job_seconds, stop)
            )
            drainer.start()
        try:
            asyncio.run(wait_ready(port))
            stats, seconds = asyncio.run(load(port, args, peer=False))
        finally:
            stop.set()
            if drainer is not None:
                drainer.join(timeout=20)
            server.terminate()
            server.wait(timeout=20)
    drained = (
        "no drain (backlog grows)" if args.no_drain else f"jobs complete {args.job_seconds} s after claim"
    )
    print(
        f"{args.pollers} pollers, one request each every {args.interval} s, {drained}, "
        f"{args.duration:.0f} s, in-process workers={args.workers}"
    )
    ours = report("openpika", stats, seconds)
    if not args.no_peer:
        peer, peer_port = start_peer()
        try:
            asyncio.run(wait_ready(peer_port))
            peer_stats, peer_seconds = asyncio.run(load(peer_port, args, peer=True))
        finally:
            peer.terminate()
            peer.wait(timeout=20)
        theirs = report("peer", peer_stats, peer_seconds)
        print(
            f"ratio openpika/peer: submit p99 x{ours['submit_p99_ms'] / theirs['submit_p99_ms']:.2f}, "
            f"status p99 x{ours['status_p99_ms'] / theirs['status_p99_ms']:.2f}"
        )
    ok = ours["submit_p99_ms"] < 20 and ours["status_p99_ms"] < 10 and ours["errors"] == 0
    print("targets (submit p99 < 20 ms, status p99 < 10 ms, no errors):", "MET" if ok else "NOT MET")


if __name__ == "__main__":
    main()
