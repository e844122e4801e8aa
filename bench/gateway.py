"""Event gateway benchmark: deliveries per second and publish→receive latency over WebSockets.

    python bench/gateway.py                          # 50 and 200 clients, both setups
    python bench/gateway.py --clients 200 --rate 200 --seconds 10
    python bench/gateway.py --setups single          # skip the Redis setup

Two setups, each on real ``meadhall serve`` processes and a database created for the run (and
dropped at the end):

* ``single``: one server with the in-process bus; every client connects to it.
* ``redis``: servers A and B sharing events through Redis (a unique key prefix, deleted at the
  end); the publisher talks to A, half the clients are on A and half on B.

How events are raised: an admin ``POST /api/events/announcements`` on server A at a steady rate
(the same path a real announcement takes: HTTP, authentication, bus, gateway). It needs an admin
token, so it opens nothing new to anyone. Each announcement carries the wall-clock time it was
sent; clients subscribe to ``announcements`` and compute latency on receipt. Clients run in
``--client-procs`` worker processes so the client side is less of a bottleneck; on a small
machine the clients, the servers, PostgreSQL and Redis still share the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from _database import DEFAULT_URL, bench_database  # bench/ is the script's folder

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/events"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_server(database_url: str, data_dir: Path, secret: str, **env: str) -> Server:
    import httpx

    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MEADHALL_")}
    environment.update(
        {
            "MEADHALL_DATABASE_URL": database_url,
            "MEADHALL_DATA_DIR": str(data_dir),
            "MEADHALL_SECRET_KEY": secret,
            "MEADHALL_HOST": "127.0.0.1",
            "MEADHALL_PORT": str(port),
            "MEADHALL_LOG_LEVEL": "warning",
            "MEADHALL_WORKERS_IN_PROCESS": "false",
            **env,
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "meadhall", "serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(process=process, url=f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited during start")
        try:
            httpx.get(f"{server.url}/health", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("server did not start")


def insert_user(database_url: str, secret: str, *, is_admin: bool) -> str:
    """A user row and a 60-minute access token for it."""
    import psycopg

    from meadhall.platform.accounts.security import create_access_token

    user_id = uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, display_name, password_hash, is_admin) "
            "VALUES (%s, %s, %s, %s, %s)",
            (user_id, f"{user_id.hex[:8]}@bench.example", "bench", "!", is_admin),
        )
    token, _ = create_access_token(key=secret, user_id=user_id, token_version=0, minutes=60)
    return token


# Clients (in worker processes) ---------------------------------------------------------------


async def _client(
    url: str, ready: asyncio.Event, stop: asyncio.Event, out: list[tuple[float, float]]
) -> int:
    import websockets

    received = 0
    async with websockets.connect(url, open_timeout=30, max_queue=None) as ws:
        json.loads(await ws.recv())  # ready
        await ws.send(json.dumps({"type": "subscribe", "topics": ["announcements"]}))
        json.loads(await ws.recv())  # subscribed
        ready.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            message = json.loads(raw)
            if message["type"] != "event":
                continue
            received += 1
            sent = float(message["data"]["message"].split()[1])
            published = datetime.fromisoformat(message["at"]).timestamp()
            out.append((now - sent, now - published))
    return received


def client_worker(urls: list[str], conn: Any, seconds_after_go: float) -> None:
    """Hold ``urls`` connections; report (deliveries, latencies) once the run ends."""

    async def main() -> None:
        latencies: list[tuple[float, float]] = []
        stop = asyncio.Event()
        readies = [asyncio.Event() for _ in urls]
        tasks = [
            asyncio.create_task(_client(url, r, stop, latencies))
            for url, r in zip(urls, readies, strict=True)
        ]
        await asyncio.gather(*(r.wait() for r in readies))
        conn.send("ready")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)  # "stop": the publisher is done
        await asyncio.sleep(seconds_after_go)
        stop.set()
        counts = await asyncio.gather(*tasks)
        conn.send((sum(counts), latencies))

    asyncio.run(main())


# Publisher -------------------------------------------------------------------------------


async def publish(server: Server, token: str, rate: float, seconds: float) -> tuple[int, float]:
    """Announcements at a steady ``rate`` for ``seconds``; (how many, elapsed)."""
    import httpx

    total = int(rate * seconds)
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=16),
    ) as http:

        async def one(seq: int) -> None:
            async with limit:
                response = await http.post(
                    "/api/events/announcements", json={"message": f"{seq} {time.time():.6f}"}
                )
                response.raise_for_status()

        start = time.perf_counter()
        tasks = []
        for seq in range(total):
            delay = start + seq / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(seq)))
        await asyncio.gather(*tasks)
        return total, time.perf_counter() - start


@dataclass
class Result:
    setup: str
    clients: int
    events: int
    delivered: int
    seconds: float
    latencies: list[tuple[float, float]]

    def row(self) -> str:
        http_p50, http_p99 = _percentiles([a for a, _ in self.latencies])
        bus_p50, bus_p99 = _percentiles([b for _, b in self.latencies])
        expected = self.events * self.clients
        return (
            f"| {self.setup:<22} | {self.clients:>7} | {self.events:>6} | "
            f"{self.delivered:>9}/{expected:<9} | {self.delivered / self.seconds:>12,.0f} | "
            f"{http_p50:>6.1f} / {http_p99:<7.1f} | {bus_p50:>6.1f} / {bus_p99:<7.1f} |"
        )


def _percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(values) or [float("nan")]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def run_case(
    setup: str,
    publisher: Server,
    client_servers: list[Server],
    user_token: str,
    admin_token: str,
    clients: int,
    rate: float,
    seconds: float,
    procs: int,
) -> Result:
    urls = [
        f"{client_servers[i % len(client_servers)].ws}?token={user_token}" for i in range(clients)
    ]
    context = mp.get_context("spawn")
    pipes, workers = [], []
    for p in range(procs):
        parent, child = context.Pipe()
        worker = context.Process(target=client_worker, args=(urls[p::procs], child, 2.0))
        worker.start()
        pipes.append(parent)
        workers.append(worker)
    for parent in pipes:
        assert parent.recv() == "ready"
    events, elapsed = asyncio.run(publish(publisher, admin_token, rate, seconds))
    for parent in pipes:
        parent.send("stop")
    delivered, latencies = 0, []
    for parent in pipes:
        count, lat = parent.recv()
        delivered += count
        latencies.extend(lat)
    for worker in workers:
        worker.join(10)
    return Result(setup, clients, events, delivered, elapsed, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="maintenance database URL")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--clients", default="50,200", help="comma-separated client counts")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="publishing time per case")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--setups", default="single,redis", help="single, redis or both")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    setups = {s.strip() for s in args.setups.split(",")}

    secret = secrets.token_urlsafe(48)
    results: list[Result] = []
    with bench_database(args.database_url) as database, tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        if "single" in setups:
            server = start_server(database, data, secret)
            try:
                admin = insert_user(database, secret, is_admin=True)
                user = insert_user(database, secret, is_admin=False)
                for n in counts:
                    results.append(
                        run_case(
                            "1 process, in-process",
                            server,
                            [server],
                            user,
                            admin,
                            n,
                            args.rate,
                            args.seconds,
                            args.client_procs,
                        )
                    )
            finally:
                server.stop()
        if "redis" in setups:
            prefix = f"meadhall-bench:{secrets.token_hex(4)}:"
            env = {"MEADHALL_REDIS_URL": args.redis_url, "MEADHALL_REDIS_KEY_PREFIX": prefix}
            a = start_server(database, data, secret, **env)
            b = start_server(database, data, secret, **env)
            try:
                admin = insert_user(database, secret, is_admin=True)
                user = insert_user(database, secret, is_admin=False)
                for n in counts:
                    results.append(
                        run_case(
                            "2 processes, Redis",
                            a,
                            [a, b],
                            user,
                            admin,
                            n,
                            args.rate,
                            args.seconds,
                            args.client_procs,
                        )
                    )
            finally:
                a.stop()
                b.stop()
                import redis

                client = redis.Redis.from_url(args.redis_url)
                keys = list(client.scan_iter(match=f"{prefix}*"))
                if keys:
                    client.delete(*keys)
                client.close()

    print(
        f"\nrate {args.rate:g} events/s for {args.seconds:g} s per case; "
        f"{args.client_procs} client processes; {os.cpu_count()} CPU cores\n"
    )
    print(
        "| setup                  | clients | events | delivered/expected  | deliveries/s |"
        " POST→client p50/p99 ms | bus→client p50/p99 ms |"
    )
    print(
        "|------------------------|---------|--------|---------------------|--------------|"
        "------------------------|-----------------------|"
    )
    for result in results:
        print(result.row())


if __name__ == "__main__":
    main()
