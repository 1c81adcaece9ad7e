"""Explained scores over HTTP: leadscore's server against `mlflow models serve`, side by side.

Run after `make demo` (it needs the registered champion):

    .venv/bin/python benchmarks/serve.py [--requests 4000] [--connections 8] [--workers 2]

Starts both servers on 127.0.0.1, drives each with the same bounded load (one lead per request,
8 connections) from a separate process, prints req/s, p50 and p99 for each, and ends with the
ratios. Both return the same thing: score, top-5 reasons and recommendation. It stops what it
started. The prediction log is off here (it writes off the request path in any case).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import httpx

from serving.schemas import EXAMPLE_LEAD

MODEL_URI = "models:/lead-scoring@champion"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen:
    """A server in its own process group; its output goes to `log`, shown if it fails."""
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def _output(process: subprocess.Popen) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read().decode(errors="replace")[-3000:]  # type: ignore[attr-defined]


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early: {process.args}\n{_output(process)}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server not ready after {seconds} s: {url}\n{_output(process)}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


async def drive(url: str, body: bytes, requests: int, connections: int) -> list[float]:
    """`requests` POSTs over `connections` keep-alive connections; latency of each, in seconds.

    A bare HTTP/1.1 client on asyncio streams: the request bytes are built once, so the load
    generator spends little of the two cores it shares with the servers under test.
    """
    parsed = httpx.URL(url)
    request = (
        f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    remaining = [requests]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1]
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                answer = await reader.readexactly(length)
                if status != b"200":
                    raise SystemExit(f"{url} answered {status.decode()}: {answer[:500]!r}")
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies


def load_in_child(url: str, body: str, requests: int, connections: int) -> dict[str, float]:
    """Drive the load from another process, so the client does not share our interpreter."""
    code = (
        "import asyncio, json, sys, time; from benchmarks.serve import drive; "
        "a = json.loads(sys.argv[1]); drive_ = drive(a['url'], a['body'].encode(), 200, "
        "a['connections']); asyncio.run(drive_); t = time.perf_counter(); "
        "lat = asyncio.run(drive(a['url'], a['body'].encode(), a['requests'], a['connections'])); "
        "print(json.dumps({'seconds': time.perf_counter() - t, 'latencies': lat}))"
    )
    args = json.dumps({"url": url, "body": body, "requests": requests, "connections": connections})
    out = subprocess.run(
        [sys.executable, "-c", code, args], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parents[1],
    )  # fmt: skip
    result = json.loads(out.stdout)
    latencies = sorted(result["latencies"])
    return {
        "rps": len(latencies) / result["seconds"],
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--mlflow-requests", type=int, default=400)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "LEADSCORE_PREDICTION_DB": "", "LEADSCORE_MODEL_POLL_SECONDS": "0"}
    env.setdefault("LEADSCORE_MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    env["MLFLOW_TRACKING_URI"] = env["LEADSCORE_MLFLOW_TRACKING_URI"]
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    lead = {k: v for k, v in EXAMPLE_LEAD.items()}
    ours_port, mlflow_port = free_port(), free_port()
    with ExitStack() as stack:
        ours = start(
            [sys.executable, "-m", "uvicorn", "serving.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(ours_port), "--workers", str(args.workers),
             "--log-level", "warning", "--no-access-log",
             "--http", "serving.server:NoDelayHttpToolsProtocol", "--loop", "uvloop"],
            env, stack.enter_context(tempfile.TemporaryFile()),
        )  # fmt: skip
        stack.callback(stop, ours)
        theirs = start(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", MODEL_URI,
             "--env-manager", "local", "--host", "127.0.0.1", "--port", str(mlflow_port),
             "--workers", str(args.workers)],
            env, stack.enter_context(tempfile.TemporaryFile()),
        )  # fmt: skip
        stack.callback(stop, theirs)
        wait_ready(f"http://127.0.0.1:{ours_port}/readyz", ours)
        wait_ready(f"http://127.0.0.1:{mlflow_port}/ping", theirs)
        results = {
            "leadscore": load_in_child(
                f"http://127.0.0.1:{ours_port}/v1/score", json.dumps(lead), args.requests,
                args.connections,
            ),
            "mlflow models serve": load_in_child(
                f"http://127.0.0.1:{mlflow_port}/invocations",
                json.dumps({"dataframe_records": [lead]}), args.mlflow_requests, args.connections,
            ),
        }  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:>20}: {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms"
        )
    ours_rps, theirs_rps = results["leadscore"]["rps"], results["mlflow models serve"]["rps"]
    print(f"explained req/s (leadscore, {args.connections} connections): {ours_rps:.0f}")
    print(f"ratio leadscore / mlflow models serve: {ours_rps / theirs_rps:.1f}x")


if __name__ == "__main__":
    main()
