"""Faults under load: does the prediction log keep every score the server answered?

Run from the repository root (it needs the PostgreSQL server at 127.0.0.1:5432, database
`test`, user `postgres`; it trains its own small model, so `make demo` is not needed):

    .venv/bin/python benchmarks/faults.py [--rate 500] [--connections 4] [--seconds 6]

It trains a model on a few thousand generated leads into a temporary MLflow store, then, for
each fault in turn, starts `leadscore serve` (1 worker) with its own spool file and its own
PostgreSQL table, reached through a loopback TCP proxy so the database can be cut for this
server alone. It drives paced single-lead POST /v1/score requests with unique lead ids over
keep-alive connections, records every lead id answered 200, applies the fault mid-load,
recovers, waits (bounded) for /readyz to say `spool_depth` 0, and counts the table's rows:

1. sigterm: the database is cut a second before a clean stop (SIGTERM) mid-load, so the stop
   leaves rows in the spool; the database comes back and the server restarts on the same spool
   (`--backlog-seconds 0` leaves the database up through the stop);
2. sigkill: the same with kill -9: every score committed to the spool before its answer must
   reach the database after the restart;
3. outage: the database is cut for 5 s under load, then comes back;
4. full disk: `LEADSCORE_PREDICTION_SPOOL_MAX_MB=1` and the database cut, so the spool fills and
   scoring answers 503 `prediction_log_full`; then the database comes back (and a WARNING
   line says so if /readyz still answers 503 once the spool is empty);
5. poison: one lead id among the load holds a NUL byte, which PostgreSQL refuses in text; the
   log stores it without the NUL byte (counted as kept when the cleaned id is there), and every
   other row must arrive.

One row per fault: scores answered 200 and 503, transport errors (connections cut by the
fault), rows left in the spool at the stop or the resume, rows in the database, rows lost
(answered 200 but not in the database), extra rows (in the database but never answered 200:
a score committed to the spool whose answer a stop cut off), lead ids stored twice, rows
quarantined, seconds from the recovery (restart or database back) until the spool was empty,
and what /readyz said then.

The promise is 0 lost for every fault, kill -9 included: a score is committed to the spool
(SQLite, WAL) before it is answered, and a committed WAL frame survives the process (only an
operating-system crash or power loss can take the commits since the last checkpoint, which
this does not simulate). It exits 1 if any fault lost a row, stored one twice, did not drain
in time, or did not happen (no 503 with the spool capped, say). It takes 1 to 2 minutes and
drops the tables it made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy

# Run as `python benchmarks/faults.py`, the script's folder is on sys.path, not the repository.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.serve import free_port, start, wait_ready  # noqa: E402
from serving.schemas import EXAMPLE_LEAD  # noqa: E402
from tests.helpers import TcpProxy  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:{port}/test"
REQUEST_TIMEOUT = 10.0
STOP_TIMEOUT = 30.0


class Load:
    """Paced single-lead scores with unique lead ids over keep-alive connections, from a thread.

    Lead ids are `L-<fault>-<n>`: few digits, so none reads as a phone number (which the log
    would store as its keyed hash). A connection the server cuts ends its worker: what it had
    in flight is not counted as answered.
    """

    def __init__(
        self,
        port: int,
        fault: str,
        *,
        requests: int,
        rate: float,
        connections: int,
        poison_at: int | None = None,
        stop_after_refused: int | None = None,
    ) -> None:
        self.port, self.fault = port, fault
        self.requests, self.rate, self.connections = requests, rate, connections
        self.poison_at, self.stop_after_refused = poison_at, stop_after_refused
        self.answered: list[str] = []
        self.refused = 0
        self.errors = 0
        self.other: Counter[str] = Counter()
        self.poison_status: str | None = None
        self._next = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> Load:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def at(self, seconds: float) -> None:
        """Sleep until `seconds` after the load started."""
        time.sleep(max(0.0, self.started + seconds - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        self._thread.join(timeout=self.requests / self.rate + 2 * REQUEST_TIMEOUT + 5)
        if self._thread.is_alive():
            raise SystemExit(f"{self.fault}: the load did not end")

    def lead_id(self, n: int) -> str:
        return f"L-{self.fault}-{n}" + ("-nul\x00byte" if n == self.poison_at else "")

    async def _run(self) -> None:
        await asyncio.gather(*(self._worker(i) for i in range(self.connections)))

    async def _worker(self, index: int) -> None:
        interval = self.connections / self.rate
        next_at = time.monotonic() + index * interval / self.connections
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), REQUEST_TIMEOUT
            )
        except (OSError, TimeoutError):
            self.errors += 1
            return
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                if self._stop.is_set() or self._next >= self.requests:
                    break
                n, self._next = self._next, self._next + 1
                lead_id = self.lead_id(n)
                status, answer = await asyncio.wait_for(
                    self._post(reader, writer, lead_id), REQUEST_TIMEOUT
                )
                if n == self.poison_at:
                    self.poison_status = status
                if status == "200":
                    self.answered.append(lead_id)
                elif status == "503" and b"prediction_log_full" in answer:
                    self.refused += 1
                    if self.stop_after_refused and self.refused >= self.stop_after_refused:
                        self._stop.set()
                else:
                    self.other[f"{status} {answer[:120]!r}"] += 1
        except (OSError, EOFError, TimeoutError, ValueError):
            self.errors += 1  # the fault cut the connection
        finally:
            writer.close()

    async def _post(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, lead_id: str
    ) -> tuple[str, bytes]:
        body = json.dumps({**EXAMPLE_LEAD, "lead_id": lead_id}).encode()
        writer.write(
            b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return head.split(b" ", 2)[1].decode(), await reader.readexactly(length)


@dataclass
class Outcome:
    fault: str
    answered: int = 0
    refused: int = 0
    errors: int = 0
    backlog: int | None = None  # rows in the spool at the stop, or when the database came back
    rows: int = 0
    lost: int = 0
    extra: int = 0
    duplicates: int = 0
    quarantined: int | None = None
    drain_seconds: float | None = None
    readyz: str = "?"
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Bench:
    """What every fault shares: the trained store's environment, PostgreSQL and a scratch dir."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str], scratch: Path) -> None:
        self.args, self.env, self.scratch = args, env, scratch
        self.engine = sqlalchemy.create_engine(POSTGRES.format(port=5432))

    @contextmanager
    def setup(self, fault: str, **env: str) -> Iterator[Fault]:
        """A proxy to PostgreSQL, a table and a spool of this fault's own; dropped after."""
        proxy = TcpProxy(5432)
        table = f"faults_{fault.replace(' ', '_')}_{uuid.uuid4().hex[:8]}"
        folder = self.scratch / fault.replace(" ", "-")
        folder.mkdir()
        server_env = {
            **self.env,
            "LEADSCORE_PREDICTION_DB": POSTGRES.format(port=proxy.port),
            "LEADSCORE_PREDICTION_TABLE": table,
            "LEADSCORE_PREDICTION_SPOOL": str(folder / "spool.db"),
            **env,
        }
        with ExitStack() as stack:
            stack.callback(self._drop, table)
            stack.callback(proxy.close)
            yield stack.enter_context(Fault(fault, self, proxy, table, folder, server_env))

    def _drop(self, table: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{table}"'))

    def stored(self, table: str) -> Counter[str]:
        """Lead ids in `table`, with how many rows each has."""
        with self.engine.connect() as connection:
            if not sqlalchemy.inspect(connection).has_table(table):
                return Counter()
            rows = connection.execute(sqlalchemy.text(f'SELECT lead_id FROM "{table}"'))
            return Counter(lead_id for (lead_id,) in rows)


class Fault:
    """One fault's servers (one at a time), its proxy, and its outcome."""

    def __init__(
        self, name: str, bench: Bench, proxy: TcpProxy, table: str, folder: Path,
        env: dict[str, str],
    ) -> None:  # fmt: skip
        self.name, self.bench, self.proxy, self.table = name, bench, proxy, table
        self.folder, self.env = folder, env
        self.spool = folder / "spool.db"
        self.outcome = Outcome(name)
        self.loads: list[Load] = []
        self.probes: list[str] = []  # lead ids answered 200 outside the load
        self.process: subprocess.Popen | None = None
        self._logs: list[Path] = []

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self) -> None:
        """Start `leadscore serve` (1 worker) on this fault's spool and table; wait for /readyz."""
        self.port = free_port()
        log = self.folder / f"server-{len(self._logs)}.log"
        self._logs.append(log)
        self.process = start(
            [str(Path(sys.executable).parent / "leadscore"), "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            self.env, open(log, "w+b"),  # noqa: SIM115  # closed when the process is reaped
        )  # fmt: skip
        wait_ready(f"{self.url}/readyz", self.process, seconds=120)

    def signal(self, signum: signal.Signals) -> float:
        """Send `signum` to the server; seconds until it exited (its code noted if not 0)."""
        assert self.process is not None
        sent = time.monotonic()
        os.killpg(self.process.pid, signum)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait()
            self.outcome.problems.append(f"{signum.name} did not stop it in {STOP_TIMEOUT:.0f} s")
        self.process.log.close()  # type: ignore[attr-defined]
        # uvicorn raises the signal again once it has shut down cleanly: -15 is a clean stop.
        if signum == signal.SIGTERM and code not in (0, -signal.SIGTERM):
            self.outcome.problems.append(f"exit code {code} after SIGTERM")
        return time.monotonic() - sent

    def load(self, seconds: float, *, rate: float | None = None, **options: Any) -> Load:
        args = self.bench.args
        rate = rate or args.rate
        load = Load(
            self.port, self.name.replace(" ", ""), requests=int(rate * seconds), rate=rate,
            connections=args.connections, **options,
        )  # fmt: skip
        self.loads.append(load)
        return load.start()

    def health(self) -> tuple[int, str, int | None, int | None]:
        """/readyz: status, state, spool depth and rows quarantined; when it answers 503 (a full
        spool), the depth and quarantined rows come from /metrics."""
        ready = httpx.get(f"{self.url}/readyz", timeout=5)
        if ready.status_code == 200:
            log = ready.json()["prediction_log"]
            return 200, log["state"], log["spool_depth"], log["quarantined"]
        code = ready.json().get("error", {}).get("code", "?")
        metrics = httpx.get(f"{self.url}/metrics", timeout=5).text
        found = dict(re.findall(r"^(leadscore_prediction_\w+) (\S+)$", metrics, re.MULTILINE))

        def gauge(name: str) -> int | None:
            value = found.get(f"leadscore_prediction_{name}")
            return None if value is None else int(float(value))

        return ready.status_code, code, gauge("spool_depth"), gauge("rows_quarantined")

    def drain(self, since: float) -> None:
        """Wait (bounded) for an empty spool; note the seconds since `since` and /readyz."""
        deadline = time.monotonic() + self.bench.args.drain_seconds
        while True:
            status, state, depth, quarantined = self.health()
            if depth == 0:
                self.outcome.drain_seconds = time.monotonic() - since
                break
            if time.monotonic() > deadline:
                self.outcome.problems.append(
                    f"the spool still held {depth} rows {self.bench.args.drain_seconds:.0f} s "
                    "after the recovery"
                )
                break
            time.sleep(0.05)
        self.outcome.quarantined = quarantined
        self.outcome.readyz = f"{status} {state}"

    def probe(self) -> int:
        """One score outside the load: its status."""
        lead_id = f"L-{self.name.replace(' ', '')}-probe-{len(self.probes)}"
        lead = {**EXAMPLE_LEAD, "lead_id": lead_id}
        status = httpx.post(f"{self.url}/v1/score", json=lead, timeout=REQUEST_TIMEOUT).status_code
        if status == 200:
            self.probes.append(lead_id)
        return status

    def spool_rows(self) -> int | None:
        """Rows in the spool file, read without writing to it, with no server running."""
        try:
            with sqlite3.connect(f"file:{self.spool}?mode=ro", uri=True) as spool:
                return spool.execute("SELECT count(*) FROM spool").fetchone()[0]
        except sqlite3.Error as error:
            self.outcome.notes.append(f"spool unreadable after the stop: {error}")
            return None

    def stop(self) -> None:
        """A clean stop of the current server."""
        self.signal(signal.SIGTERM)

    def count(self) -> Outcome:
        """Compare what was answered 200 with what the table holds (NUL bytes cleaned)."""
        outcome = self.outcome
        answered = [lead_id for load in self.loads for lead_id in load.answered] + self.probes
        expected = {lead_id.replace("\x00", "") for lead_id in answered}
        stored = self.bench.stored(self.table)
        outcome.answered = len(answered)
        outcome.refused = sum(load.refused for load in self.loads)
        outcome.errors = sum(load.errors for load in self.loads)
        outcome.rows = sum(stored.values())
        outcome.lost = len(expected - set(stored))
        outcome.extra = len(set(stored) - expected)
        outcome.duplicates = sum(1 for n in stored.values() if n > 1)
        if outcome.lost:
            sample = sorted(expected - set(stored))[:5]
            outcome.problems.append(f"lost {outcome.lost} answered rows, e.g. {sample}")
            outcome.notes.append(self.log_lines())
        if outcome.duplicates:
            outcome.problems.append(f"{outcome.duplicates} lead ids stored more than once")
        for load in self.loads:
            for what, n in load.other.items():
                outcome.notes.append(f"{n} answered {what}")
        return outcome

    def log_lines(self, pattern: str = r'"level": "(warning|error)"', keep: int = 8) -> str:
        """The servers' last warning and error lines, for a fault that went wrong."""
        lines = [
            line
            for log in self._logs
            for line in log.read_text(errors="replace").splitlines()
            if re.search(pattern, line)
        ]
        return "server log: " + (" | ".join(lines[-keep:]) or "no warnings")


def stop_with(bench: Bench, name: str, signum: signal.Signals) -> Outcome:
    """SIGTERM or kill -9 mid-load, with the database cut just before so the spool holds rows;
    then the database back, and a restart on the same spool and table."""
    args = bench.args
    with bench.setup(name) as fault:
        fault.serve()
        load = fault.load(args.seconds)
        at = args.seconds / 2
        if args.backlog_seconds:
            load.at(at - args.backlog_seconds)
            fault.proxy.pause()
        load.at(at)
        stopping = fault.signal(signum)
        load.stop()
        load.join()
        fault.outcome.backlog = fault.spool_rows()
        fault.outcome.notes.append(f"{signum.name} at {at:.1f} s: exited in {stopping:.1f} s")
        if args.backlog_seconds:
            fault.proxy.resume()
        since = time.monotonic()
        fault.serve()
        fault.outcome.notes.append(f"restarted, ready in {time.monotonic() - since:.1f} s")
        fault.drain(since)
        fault.stop()
        return fault.count()


def outage(bench: Bench) -> Outcome:
    """The database away for `--outage-seconds` under load, then back."""
    args = bench.args
    with bench.setup("outage") as fault:
        fault.serve()
        load = fault.load(args.outage_seconds + 2)
        load.at(1)
        fault.proxy.pause()
        load.at(1 + args.outage_seconds)
        fault.outcome.backlog = fault.health()[2]
        fault.proxy.resume()
        since = time.monotonic()
        load.join()
        fault.drain(since)
        fault.stop()
        return fault.count()


def full_disk(bench: Bench) -> Outcome:
    """A 1 MB spool and the database away: scoring must answer 503 once the spool is full."""
    args = bench.args
    with bench.setup("full disk", LEADSCORE_PREDICTION_SPOOL_MAX_MB="1") as fault:
        fault.serve()
        rate = args.rate * 2
        load = fault.load(args.full_seconds, rate=rate, stop_after_refused=args.refusals)
        load.at(0.5)
        fault.proxy.pause()
        load.join()
        status, state, depth, _ = fault.health()
        fault.outcome.backlog = depth
        fault.outcome.notes.append(f"/readyz with the spool full: {status} {state}")
        fault.proxy.resume()
        since = time.monotonic()
        fault.drain(since)
        if load.refused == 0:
            fault.outcome.problems.append("no 503: the spool never filled")
        # The spool is empty and the database back: is the server ready again, or only after
        # a score goes through?
        time.sleep(2)
        status, state, *_ = fault.health()
        if status != 200:
            scored = fault.probe()
            after = fault.health()
            fault.outcome.notes.append(
                f"WARNING: /readyz still said {status} {state} 2 s after the spool drained, "
                f"with the database back and the spool empty; one score then answered {scored}, "
                f"and /readyz {after[0]} {after[1]}"
            )
            drained = fault.outcome.drain_seconds
            fault.drain(time.monotonic())  # the probe's row
            fault.outcome.drain_seconds, fault.outcome.readyz = drained, f"{status} {state}"
        fault.stop()
        return fault.count()


def poison(bench: Bench) -> Outcome:
    """One lead id with a NUL byte in the middle of the load."""
    args = bench.args
    with bench.setup("poison") as fault:
        fault.serve()
        load = fault.load(args.seconds, poison_at=int(args.rate * args.seconds) // 2)
        load.join()
        fault.drain(time.monotonic())
        fault.stop()
        outcome = fault.count()
        if load.poison_status != "200":
            outcome.problems.append(f"the NUL lead id was answered {load.poison_status}")
        outcome.notes.append(f"NUL lead id answered {load.poison_status}")
        return outcome


def train(scratch: Path, leads: int) -> dict[str, str]:
    """A model on `leads` generated leads, registered as champion in a store under `scratch`;
    the environment a server needs to serve it (and nothing else of ours)."""
    from leadscore.cli import DEMO_POLICY
    from leadscore.demo_data import generate, write
    from scoring import Settings
    from training import load_policy, train_and_register

    warnings.filterwarnings("ignore")
    for name in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    data = scratch / "demo"
    write(generate(leads, seed=7), data, seed=7)
    settings = Settings(
        mlflow_tracking_uri=f"sqlite:///{scratch / 'mlflow.db'}",
        mlflow_artifact_root=scratch / "artifacts",
        data_dir=data,
        gate_bootstrap_rounds=60,
    )
    chatter = io.StringIO()  # MLflow prints its registration; shown only if training fails
    try:
        with contextlib.redirect_stderr(chatter):
            train_and_register(settings, policy=load_policy(DEMO_POLICY))
    except Exception:
        print(chatter.getvalue(), file=sys.stderr)
        raise
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSCORE_")}
    return {
        **env,
        "LEADSCORE_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "LEADSCORE_MLFLOW_ARTIFACT_ROOT": str(settings.mlflow_artifact_root),
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "LEADSCORE_MODEL_POLL_SECONDS": "0",
        "LEADSCORE_WORKERS": "1",
        "LEADSCORE_SECRET_KEY": uuid.uuid4().hex,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }


COLUMNS = (
    ("fault", "{:<10}", "fault"),
    ("200", "{:>6}", "answered"),
    ("503", "{:>6}", "refused"),
    ("cut", "{:>4}", "errors"),
    ("spooled", "{:>8}", "backlog"),
    ("rows", "{:>6}", "rows"),
    ("lost", "{:>5}", "lost"),
    ("extra", "{:>6}", "extra"),
    ("dups", "{:>5}", "duplicates"),
    ("quar.", "{:>6}", "quarantined"),
    ("drain s", "{:>8}", "drain_seconds"),
    ("readyz", "  {:<14}", "readyz"),
)


def row(outcome: Outcome) -> str:
    cells = []
    for _, form, name in COLUMNS:
        value = getattr(outcome, name)
        if value is None:
            value = "-"
        elif isinstance(value, float):
            value = f"{value:.1f}"
        cells.append(form.format(value))
    return " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=3000, help="generated leads to train on")
    parser.add_argument("--rate", type=float, default=500, help="requests per second")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6, help="load per fault")
    parser.add_argument(
        "--backlog-seconds", type=float, default=1.0,
        help="the database is cut this long before SIGTERM and kill -9; 0 leaves it up",
    )  # fmt: skip
    parser.add_argument("--outage-seconds", type=float, default=5)
    parser.add_argument("--full-seconds", type=float, default=10, help="longest full-disk load")
    parser.add_argument("--refusals", type=int, default=300, help="full disk: 503s, then stop")
    parser.add_argument("--drain-seconds", type=float, default=60, help="longest drain wait")
    args = parser.parse_args()
    began = time.monotonic()
    faults: list[tuple[str, Callable[[Bench], Outcome]]] = [
        ("sigterm", lambda b: stop_with(b, "sigterm", signal.SIGTERM)),
        ("sigkill", lambda b: stop_with(b, "sigkill", signal.SIGKILL)),
        ("outage", outage),
        ("full disk", full_disk),
        ("poison", poison),
    ]
    with tempfile.TemporaryDirectory(prefix="leadscore-faults-") as folder:
        scratch = Path(folder)
        env = train(scratch, args.leads)
        print(f"trained on {args.leads:,} generated leads in {time.monotonic() - began:.0f} s")
        bench = Bench(args, env, scratch)
        print(" ".join(form.format(title) for title, form, _ in COLUMNS))
        outcomes = []
        for _, run in faults:
            outcome = run(bench)
            outcomes.append(outcome)
            print(row(outcome), flush=True)
        bench.engine.dispose()
    print()
    for outcome in outcomes:
        for note in outcome.notes + [f"PROBLEM: {p}" for p in outcome.problems]:
            print(f"{outcome.fault}: {note}")
    answered = sum(o.answered for o in outcomes)
    lost = sum(o.lost for o in outcomes)
    failed = [o.fault for o in outcomes if o.problems]
    print(
        f"\n{answered:,} scores answered 200 across {len(outcomes)} faults, {lost} lost "
        f"(promise: 0, kill -9 included), {sum(o.duplicates for o in outcomes)} stored twice, "
        f"{sum(o.refused for o in outcomes):,} refused with 503; "
        f"{time.monotonic() - began:.0f} s in all"
    )
    if failed:
        raise SystemExit(f"FAILED: {', '.join(failed)}")
    print("OK: every answered score reached the database")


if __name__ == "__main__":
    main()
