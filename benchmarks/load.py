"""Load held: many concurrent clients running the whole request lifecycle against real processes.

``openpika serve`` (API only, SQLite job store) plus ``openpika worker`` processes rendering with the
``fixture:ok`` engine (pikaffects on a tiny data-URI image: real prepare, encode, store and
complete, at almost no render cost). CLIENTS clients each loop for DURATION seconds:

    submit -> poll status every INTERVAL s until COMPLETED -> fetch the result -> again

and every answer is checked (submit 200, status 200/202, result 200 with a video URL). Reported:
jobs completed per second, requests per second, p50/p99 latency of submit, status and result,
errors (target 0), and the API server's resident memory after warm-up, at the end and at its peak,
against a stated bound on growth (default 100 MiB: jobs live in SQLite, not in the server).

    python benchmarks/load.py [--clients 200] [--duration 60] [--interval 0.5] [--worker-processes 2]

Exit status 1 when there were errors or the memory bound was exceeded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENDPOINT = "fal-ai/pika/v1.5/pikaffects"


def tiny_png_uri() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass
class Stats:
    submit: list[float] = field(default_factory=list)
    status: list[float] = field(default_factory=list)
    result: list[float] = field(default_factory=list)
    jobs: list[float] = field(default_factory=list)  # submit-to-result seconds
    errors: list[str] = field(default_factory=list)


class Connection:
    """A minimal HTTP/1.1 keep-alive client, so the load generator costs far less than the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        match = re.search(rb"(?i)content-length:\s*(\d+)", header)
        return status, await self.reader.readexactly(int(match.group(1)) if match else 0)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def client(port: int, body: bytes, args: argparse.Namespace, stats: Stats, end: float) -> None:
    connection = Connection(port)
    await asyncio.sleep(random.uniform(0, args.interval))
    try:
        while time.monotonic() < end:
            submitted = time.perf_counter()
            code, answer = await connection.request("POST", f"/{ENDPOINT}", body)
            stats.submit.append(time.perf_counter() - submitted)
            if code != 200:
                stats.errors.append(f"submit {code} {answer[:120]!r}")
                return
            queued = json.loads(answer)
            status_path, result_path = _path(queued["status_url"]), _path(queued["response_url"])
            while True:
                await asyncio.sleep(args.interval)
                started = time.perf_counter()
                code, answer = await connection.request("GET", status_path)
                stats.status.append(time.perf_counter() - started)
                if code not in (200, 202):
                    stats.errors.append(f"status {code} {answer[:120]!r}")
                    return
                if json.loads(answer)["status"] == "COMPLETED":
                    break
                if time.monotonic() > end + args.drain:
                    return  # still queued when the run ended: not an error, not a completed job
            started = time.perf_counter()
            code, answer = await connection.request("GET", result_path)
            stats.result.append(time.perf_counter() - started)
            if code != 200 or "video" not in json.loads(answer):
                stats.errors.append(f"result {code} {answer[:160]!r}")
                return
            stats.jobs.append(time.perf_counter() - submitted)
    except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
        stats.errors.append(f"client: {exc!r}")
    finally:
        connection.close()


def rss_mib(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(
    data_dir: str, args: argparse.Namespace
) -> tuple[subprocess.Popen[str], subprocess.Popen[str], int]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OPENPIKA_")},
        "PYTHONPATH": str(REPO / "src"),
        "OPENPIKA_ENGINE": "fixture:ok",
        "OPENPIKA_DATA_DIR": data_dir,
        "OPENPIKA_HOST": "127.0.0.1",
    }
    cli = [sys.executable, "-m", "openpika.cli.main"]
    serve = [*cli, "serve", "--port", "0", "--queue-port", "0", "--log-level", "warning"]
    serve += ["--workers", str(args.workers)] if args.workers else ["--no-worker"]
    server = subprocess.Popen(serve, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    port = 0
    for line in server.stdout:
        match = re.search(r"queue \(queue\.fal\.run\)\s+http://[^:]+:(\d+)", line)
        if match:
            port = int(match.group(1))
            break
    if not port:
        raise RuntimeError("openpika serve did not start")
    # Keep reading the server's output so a full pipe can never stall it.
    threading.Thread(target=lambda: [None for _ in server.stdout or ()], daemon=True).start()
    workers = subprocess.Popen(
        [*cli, "worker", "--count", str(args.worker_processes)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return server, workers, port


async def warm_up(port: int, body: bytes) -> None:
    """Wait until the server answers and one job made the whole trip (imports, first encode)."""
    for _ in range(400):
        try:
            connection = Connection(port)
            code, answer = await connection.request("POST", f"/{ENDPOINT}", body)
            break
        except OSError:
            await asyncio.sleep(0.05)
    else:
        raise RuntimeError("server not ready")
    status_path = _path(json.loads(answer)["status_url"])
    for _ in range(600):
        code, answer = await connection.request("GET", status_path)
        if code == 200:
            connection.close()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"warm-up job did not complete: {answer[:200]!r}")


async def run_load(port: int, body: bytes, args: argparse.Namespace) -> tuple[Stats, float]:
    stats = Stats()
    started = time.monotonic()
    end = started + args.duration
    await asyncio.gather(*(client(port, body, args, stats, end) for _ in range(args.clients)))
    return stats, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.5, help="status poll interval (JS client: 0.5 s)")
    parser.add_argument("--drain", type=float, default=30.0, help="extra seconds to let started jobs finish")
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="in-process workers of `serve` (default none)")
    parser.add_argument("--max-rss-growth-mib", type=float, default=100.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    body = json.dumps({"image_url": tiny_png_uri(), "pikaffect": "Squish"}).encode()

    with tempfile.TemporaryDirectory(prefix="openpika-load-") as data_dir:
        server, workers, port = start(data_dir, args)
        try:
            asyncio.run(warm_up(port, body))
            rss_start = rss_mib(server.pid)
            stats, seconds = asyncio.run(run_load(port, body, args))
            rss_end, rss_peak = rss_mib(server.pid), rss_mib(server.pid, "VmHWM")
        finally:
            for process in (workers, server):
                process.terminate()
            for process in (workers, server):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    requests = len(stats.submit) + len(stats.status) + len(stats.result)
    figures = {
        "clients": args.clients,
        "duration_s": round(seconds, 1),
        "jobs_completed": len(stats.jobs),
        "jobs_per_s": round(len(stats.jobs) / seconds, 2),
        "requests_per_s": round(requests / seconds, 1),
        "submit_p50_ms": round(percentile(stats.submit, 0.5), 2),
        "submit_p99_ms": round(percentile(stats.submit, 0.99), 2),
        "status_p50_ms": round(percentile(stats.status, 0.5), 2),
        "status_p99_ms": round(percentile(stats.status, 0.99), 2),
        "result_p50_ms": round(percentile(stats.result, 0.5), 2),
        "result_p99_ms": round(percentile(stats.result, 0.99), 2),
        "job_p50_s": round(percentile(stats.jobs, 0.5) / 1000, 2),
        "job_p99_s": round(percentile(stats.jobs, 0.99) / 1000, 2),
        "errors": len(stats.errors),
        "server_rss_start_mib": round(rss_start, 1),
        "server_rss_end_mib": round(rss_end, 1),
        "server_rss_peak_mib": round(rss_peak, 1),
        "rss_growth_bound_mib": args.max_rss_growth_mib,
    }
    print(
        f"{args.clients} clients, {seconds:.0f} s, poll every {args.interval} s, "
        f"{args.worker_processes} worker process(es) + {args.workers} in-process, engine fixture:ok"
    )
    print(
        f"jobs completed {figures['jobs_completed']} ({figures['jobs_per_s']}/s), "
        f"{figures['requests_per_s']} req/s, job latency p50 {figures['job_p50_s']} s p99 {figures['job_p99_s']} s"
    )
    for name in ("submit", "status", "result"):
        print(
            f"  {name:6s} p50 {figures[f'{name}_p50_ms']:8.2f} ms   p99 {figures[f'{name}_p99_ms']:8.2f} ms"
        )
    growth = rss_end - rss_start
    print(
        f"server RSS start {rss_start:.1f} MiB, end {rss_end:.1f} MiB (growth {growth:+.1f}, "
        f"bound {args.max_rss_growth_mib:.0f}), peak {rss_peak:.1f} MiB"
    )
    print(f"errors: {len(stats.errors)}")
    for error in stats.errors[:10]:
        print("   ", error)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = not stats.errors and growth <= args.max_rss_growth_mib
    print("targets (0 errors, RSS growth within bound):", "MET" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
