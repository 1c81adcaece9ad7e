"""Explained scores over HTTP: leadscore's server against `mlflow models serve`, side by side.

Run after `make demo` (it needs the registered champion):

    .venv/bin/python benchmarks/serve.py [--requests 6000] [--connections 8] [--workers 2]

Starts `leadscore serve` and `mlflow models serve` on 127.0.0.1 with the same registered model
and the same number of workers (2, then 1), and drives each with the same bounded load (one lead
per request over 8 keep-alive connections, in rounds of fresh connections) from a separate
process: req/s, p50 and p99 for each.
Both return the same thing: score, top-5 reasons and recommendation. Ours also answers a lead
below SQL, whose answer carries 3 next steps (the search runs), with the same load. Then it sends
1,000-lead
batches to /v1/score/batch, and runs `leadscore score` on 200,000 generated leads, in explained
leads/s. It stops what it started, and ends with the explained req/s and the ratio to MLflow.
The prediction log is on, as in production: every answered score is committed to its local
spool (SQLite, in a temporary folder) before it is answered, and shipped to an SQLite database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import httpx

from leadscore.demo_data import generate, write
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


def load_in_child(
    url: str, body: str, requests: int, connections: int, warmup: int, rounds: int = 1
) -> dict[str, Any]:
    """Drive the load from another process, so the client does not share our interpreter.

    Each round opens fresh connections, so it also samples how the server spreads them over
    its workers; the round with the median req/s is reported, with every round's req/s.
    """
    code = (
        "import asyncio, json, sys, time; from benchmarks.serve import drive; "
        "a = json.load(sys.stdin); body = a['body'].encode(); "
        "asyncio.run(drive(a['url'], body, a['warmup'], a['connections'])); out = []\n"
        "for _ in range(a['rounds']):\n"
        "    t = time.perf_counter()\n"
        "    lat = asyncio.run(drive(a['url'], body, a['requests'], a['connections']))\n"
        "    out.append({'seconds': time.perf_counter() - t, 'latencies': lat})\n"
        "print(json.dumps(out))"
    )
    task = {"url": url, "body": body, "requests": requests, "connections": connections,
            "warmup": warmup, "rounds": rounds}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(task), capture_output=True, text=True,
        check=True, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    measured = []
    for result in json.loads(out.stdout):
        latencies = sorted(result["latencies"])
        measured.append(
            {
                "rps": len(latencies) / result["seconds"],
                "p50_ms": statistics.median(latencies) * 1000,
                "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000,
            }
        )
    measured.sort(key=lambda r: r["rps"])
    return {**measured[len(measured) // 2], "rounds": [r["rps"] for r in measured]}


def demo_batch(n_leads: int) -> dict[str, list[dict[str, Any]]]:
    """`n_leads` generated demo leads with their activities, as a /v1/score/batch body."""
    export = generate(n_leads, seed=7)
    fields = ["lead_id", "created_at", "source", "campaign", "country", "industry",
              "company_size", "job_title", "email_domain"]  # fmt: skip
    leads = export.leads[fields].astype(object).where(export.leads[fields].notna(), None)
    activities: dict[str, list[dict[str, str]]] = {}
    for lead_id, kind, when in export.activities[
        ["lead_id", "activity_type", "occurred_at"]
    ].itertuples(index=False):
        activities.setdefault(lead_id, []).append(
            {"activity_type": kind, "occurred_at": when.isoformat()}
        )
    as_of = export.exported_at.isoformat()
    batch = []
    for lead in leads.to_dict("records"):
        lead["created_at"] = lead["created_at"].isoformat()
        lead["company_size"] = None if lead["company_size"] is None else int(lead["company_size"])
        batch.append({**lead, "activities": activities.get(lead["lead_id"], []), "as_of": as_of})
    return {"leads": batch}


def lead_with_next_steps(base: str) -> dict[str, Any]:
    """A demo lead below SQL whose answer carries next steps, found by asking the server."""
    leads = demo_batch(300)["leads"]
    answers = httpx.post(f"{base}/v1/score/batch?next_steps=3", json={"leads": leads}, timeout=60)
    for lead, answer in zip(leads, answers.json()["scores"], strict=True):
        if answer.get("next_steps"):
            return lead
    raise SystemExit("no demo lead got next steps: is the champion trained with `make demo`?")


def score_command(env: dict[str, str], n_leads: int) -> dict[str, float]:
    """`leadscore score` on `n_leads` generated leads: its own leads/s, and over the wall clock."""
    with tempfile.TemporaryDirectory() as folder:
        write(generate(n_leads, seed=11), Path(folder))
        started = time.perf_counter()
        out = subprocess.run(
            [str(Path(sys.executable).parent / "leadscore"), "score",
             "--input", f"{folder}/leads.parquet", "--activities", f"{folder}/activities.parquet",
             "--out", f"{folder}/scores.parquet"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
    reported = re.search(r"\(([\d,]+) leads/s", out.stdout + out.stderr)
    if reported is None:
        raise SystemExit(f"leadscore score printed no leads/s:\n{out.stdout}\n{out.stderr}")
    return {"leads_per_s": float(reported.group(1).replace(",", "")), "wall_per_s": n_leads / wall}


def single_lead(args: argparse.Namespace, env: dict[str, str], workers: int) -> dict[str, Any]:
    """Both servers with `workers` workers each, the same single-lead load, side by side; with
    the servers up, also 1,000-lead batches to ours when `args.batches` is set."""
    lead = json.dumps(EXAMPLE_LEAD)
    ours_port, mlflow_port = free_port(), free_port()
    with ExitStack() as stack:
        ours = start(
            [str(Path(sys.executable).parent / "leadscore"), "serve", "--host", "127.0.0.1",
             "--port", str(ours_port)],
            {**env, "LEADSCORE_WORKERS": str(workers)},
            stack.enter_context(tempfile.TemporaryFile()),
        )  # fmt: skip
        stack.callback(stop, ours)
        theirs = start(
            [sys.executable, "-m", "mlflow", "models", "serve", "-m", MODEL_URI,
             "--env-manager", "local", "--host", "127.0.0.1", "--port", str(mlflow_port),
             "--workers", str(workers)],
            env, stack.enter_context(tempfile.TemporaryFile()),
        )  # fmt: skip
        stack.callback(stop, theirs)
        wait_ready(f"http://127.0.0.1:{ours_port}/readyz", ours)
        wait_ready(f"http://127.0.0.1:{mlflow_port}/ping", theirs)
        below_sql = json.dumps(lead_with_next_steps(f"http://127.0.0.1:{ours_port}"))
        results = {
            "leadscore": load_in_child(
                f"http://127.0.0.1:{ours_port}/v1/score", lead, args.requests, args.connections,
                warmup=200, rounds=args.rounds,
            ),
            "leadscore, next steps": load_in_child(
                f"http://127.0.0.1:{ours_port}/v1/score?next_steps=3", below_sql, args.requests,
                args.connections, warmup=200, rounds=args.rounds,
            ),
            "mlflow models serve": load_in_child(
                f"http://127.0.0.1:{mlflow_port}/invocations",
                json.dumps({"dataframe_records": [EXAMPLE_LEAD]}), args.mlflow_requests,
                args.connections, warmup=20, rounds=args.rounds,
            ),
        }  # fmt: skip
        stop(theirs)
        if args.batches:
            results["batch"] = load_in_child(
                f"http://127.0.0.1:{ours_port}/v1/score/batch", json.dumps(demo_batch(1000)),
                args.batches, args.connections, warmup=args.connections,
            )  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--mlflow-requests", type=int, default=300)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="single-lead rounds per server")
    parser.add_argument("--batches", type=int, default=40, help="batches of 1,000 leads")
    parser.add_argument("--command-leads", type=int, default=200_000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="leadscore-serve-"))
    env = {
        **os.environ,
        "LEADSCORE_PREDICTION_DB": f"sqlite:///{scratch / 'predictions.db'}",
        "LEADSCORE_PREDICTION_SPOOL": str(scratch / "spool.db"),
        "LEADSCORE_SECRET_FILE": str(scratch / "leadscore.secret"),
        "LEADSCORE_MODEL_POLL_SECONDS": "0",
    }
    env.setdefault("LEADSCORE_MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    env["MLFLOW_TRACKING_URI"] = env["LEADSCORE_MLFLOW_TRACKING_URI"]
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    results = single_lead(args, env, args.workers)
    # One worker each as well: no luck in how a server spreads connections over its workers.
    alone = single_lead(argparse.Namespace(**{**vars(args), "batches": 0}), env, 1)
    command = score_command(env, args.command_leads)
    for label, measured in ((f"{args.workers} workers", results), ("1 worker", alone)):
        for name in ("leadscore", "leadscore, next steps", "mlflow models serve"):
            r = measured[name]
            rounds = ", ".join(f"{rps:.0f}" for rps in r["rounds"])
            print(
                f"{name:>20} ({label}): {r['rps']:6.0f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                f"p99 {r['p99_ms']:6.1f} ms  (median of rounds: {rounds})"
            )
    batch = results["batch"]
    print(
        f"{'batch of 1,000':>20}: {batch['rps'] * 1000:8.0f} explained leads/s over HTTP "
        f"({args.connections} connections, p50 {batch['p50_ms']:.0f} ms a batch)"
    )
    print(
        f"{'leadscore score':>20}: {command['leads_per_s']:8.0f} explained leads/s as it reports "
        f"(reading and writing included), {command['wall_per_s']:.0f} over the whole command "
        f"with start-up, on {args.command_leads:,} leads"
    )
    ours, theirs = results["leadscore"], results["mlflow models serve"]
    ours_one, theirs_one = alone["leadscore"], alone["mlflow models serve"]
    spread = ", ".join(f"{rps:.0f}" for rps in theirs["rounds"])
    print(
        f"explained req/s (leadscore, {args.connections} connections): {ours['rps']:.0f} with "
        f"{args.workers} workers, {ours_one['rps']:.0f} with 1 worker"
    )
    steps, steps_one = results["leadscore, next steps"], alone["leadscore, next steps"]
    print(
        f"explained req/s with 3 next steps (a lead below SQL): {steps['rps']:.0f} with "
        f"{args.workers} workers, {steps_one['rps']:.0f} with 1 worker (target >= 1,000: "
        f"{steps_one['rps'] / 1000:.2f} of it with 1 worker); "
        f"{steps_one['rps'] / ours_one['rps']:.2f}x the answer without"
    )
    print(
        f"ratio leadscore / mlflow models serve: {ours_one['rps'] / theirs_one['rps']:.1f}x "
        f"with 1 worker each; {ours['rps'] / theirs['rps']:.1f}x with {args.workers} workers "
        f"each (median rounds; mlflow's rounds {spread} req/s, by how its uvicorn spread the "
        f"connections: {ours['rps'] / max(theirs['rounds']):.1f}x against its best)"
    )


if __name__ == "__main__":
    main()
