"""One contract for the gate's state stores, run against every backend: memory, SQLite and a real redis-server.

Plus what only one backend can show: SQLite state outliving its store object and two connections (and two
processes) racing on one file; Redis going away mid-run and coming back; and the gate's key file.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from jobs_mcp.state import KeyFileError, StateStore, StateUnavailable, load_or_create_key, open_store
from jobs_mcp.state.memory import MemoryStore
from jobs_mcp.state.sqlite import SqliteStore
from support import needs_module, needs_redis

pytestmark = pytest.mark.anyio

BACKENDS = [
    "memory",
    "sqlite",
    pytest.param("redis", marks=pytest.mark.slow),  # a redis-server subprocess
    pytest.param("redis-cluster", marks=pytest.mark.slow),  # one redis-server as a whole Redis Cluster (all slots)
]


class Clock:
    """Real time plus an offset a test can move forward (Redis still expires keys by its own clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A throwaway redis-server: no persistence, its files in the test's tmp_path."""

    def __init__(self, exe: str, where: Path, *, cluster: bool = False) -> None:
        self.exe = exe
        self.cluster = cluster
        self.where = where
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        where.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        args = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if self.cluster:  # a cluster of one node: it refuses what a real cluster refuses (CROSSSLOT keys)
            args += ["--cluster-enabled", "yes", "--cluster-config-file", str(self.where / "nodes.conf")]
            args += ["--cluster-port", str(free_port())]  # not port + 10000, which may be past 65535
        with (self.where / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen([*args, "--dir", str(self.where)], stdout=log, stderr=log)
        probe = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited: {(self.where / 'redis.log').read_text()[-500:]}")
                try:
                    if probe.ping():
                        if self.cluster:
                            self._serve_every_slot(probe)
                        return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            probe.close()

    def _serve_every_slot(self, probe: Any) -> None:
        probe.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + 10
        while b"cluster_state:ok" not in probe.execute_command("CLUSTER", "INFO"):
            if time.monotonic() > deadline:
                raise RuntimeError("the one-node Redis Cluster did not come up")
            time.sleep(0.02)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(needs_redis(), tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock, anyio_backend: str) -> AsyncIterator[Any]:
    kind = request.param
    if kind == "memory":
        made = open_store("memory", default_dir=tmp_path, clock=clock)
    elif kind == "sqlite":
        made = open_store(None, default_dir=tmp_path, clock=clock)
    elif kind == "redis":
        made = open_store(request.getfixturevalue("redis_server").url, default_dir=tmp_path, clock=clock)
    else:
        server = RedisServer(needs_redis(), tmp_path / "redis-cluster", cluster=True)
        server.start()
        request.addfinalizer(server.kill)
        made = open_store(server.url, default_dir=tmp_path, clock=clock)
    yield made
    await made.aclose()


def rec(n: int, principal: str | None = None, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"id": f"pause:lytics/acme/{n}", "tool": "pause_job", "args": {"job_id": n}, **extra}
    if principal is not None:
        record["principal"] = principal
    return record


# --- the contract, on every backend ----------------------------------------------------------------------


async def test_put_get_round_trip(store: StateStore) -> None:
    record = rec(
        1, changes=[{"field": "status", "before": "running", "after": "paused"}], note="ünïcode ✓", nothing=None
    )
    await store.put("n1", record, time.time() + 60)
    got = await store.get("n1")
    assert got == record
    assert got is not record
    got["tool"] = "kill_job"  # what a caller does to its copy changes nothing stored
    assert await store.get("n1") == record
    assert await store.get("nope") is None


async def test_put_refuses_what_is_not_json(store: StateStore) -> None:
    with pytest.raises(TypeError):
        await store.put("n1", {"args": {1, 2}}, time.time() + 60)
    assert await store.get("n1") is None


async def test_take_once_then_replay_is_named_spent(store: StateStore) -> None:
    await store.put("n1", rec(1), time.time() + 60)
    assert not await store.was_spent("n1")
    assert await store.take("n1") == rec(1)
    assert await store.take("n1") is None
    assert await store.get("n1") is None
    assert await store.was_spent("n1")
    assert await store.all() == []
    assert await store.take("never-issued") is None
    assert not await store.was_spent("never-issued")


async def test_concurrent_takes_have_one_winner(store: StateStore) -> None:
    await store.put("n1", rec(1), time.time() + 60)
    results: list[dict[str, Any] | None] = []

    async def take() -> None:
        results.append(await store.take("n1"))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(take)
    assert len(results) == 50
    assert [r for r in results if r is not None] == [rec(1)]
    assert await store.was_spent("n1")


async def test_expiry(store: StateStore) -> None:
    now = time.time()
    await store.put("short", rec(1), now + 0.25)
    await store.put("long", rec(2), now + 60)
    await store.put("taken", rec(3), now + 0.25)
    assert await store.take("taken") == rec(3)
    assert await store.get("short") == rec(1)
    await anyio.sleep(0.35)
    assert await store.get("short") is None
    assert await store.take("short") is None
    assert not await store.was_spent("short")  # it expired; it was never spent
    assert await store.all() == [rec(2)]
    assert await store.was_spent("taken")  # the spent mark outlives the expiry, so a late replay is named
    await store.put("past", rec(4), time.time() - 1)  # already expired: never pending
    assert await store.get("past") is None


async def test_tasks_are_kept_replaced_and_expire(store: StateStore) -> None:
    """MCP Tasks' documents (jobs_mcp.tasks): kept apart from proposals, replaced in place, gone at expiry."""
    now = time.time()
    await store.put_task("t1", {"status": "working"}, now + 60)
    await store.put_task("t1", {"status": "completed", "result": {"x": [1, "é"]}}, now + 60)
    await store.put_task("t2", {"status": "working"}, now + 0.25)
    assert await store.get_task("t1") == {"status": "completed", "result": {"x": [1, "é"]}}
    assert await store.get("t1") is None and await store.all() == []  # not a proposal
    await anyio.sleep(0.35)
    assert await store.get_task("t2") is None and await store.get_task("never") is None
    await store.put_task("t3", {"status": "working"}, time.time() - 1)  # already expired
    assert await store.get_task("t3") is None


async def test_all_filters_by_principal_soonest_first(store: StateStore) -> None:
    now = time.time()
    await store.put("b", rec(2, "bob"), now + 30)
    await store.put("a2", rec(3, "alice"), now + 50)
    await store.put("a1", rec(1, "alice"), now + 20)
    await store.put("x", rec(4), now + 40)
    assert await store.all() == [rec(1, "alice"), rec(2, "bob"), rec(4), rec(3, "alice")]
    assert await store.all("alice") == [rec(1, "alice"), rec(3, "alice")]
    assert await store.all("bob") == [rec(2, "bob")]
    assert await store.all("carol") == []
    await store.take("a1")
    assert await store.all("alice") == [rec(3, "alice")]


async def _spoil(store: StateStore, nonce: str) -> None:
    """Overwrite one stored record with text that is not JSON, under the store's own API."""
    if isinstance(store, MemoryStore):
        store._pending[nonce] = (store._pending[nonce][0], "{not json")
    elif isinstance(store, SqliteStore):
        await store._run(lambda c: c.execute("UPDATE pending SET record = '{not json' WHERE nonce = ?", (nonce,)))
    else:
        await store._redis.set(f"{{jobs-mcp}}:pending:{nonce}", "{not json", keepttl=True)  # type: ignore[attr-defined]


async def test_a_users_list_reads_only_their_own_records(store: StateStore) -> None:
    """Alice's list costs what Alice has: with every other user's records unreadable, hers still lists (a list
    that read everyone's and filtered would fail on the first spoiled one)."""
    now = time.time()
    await store.put("a1", rec(1, "alice"), now + 60)
    for n in range(200):
        await store.put(f"o{n}", rec(100 + n, f"user{n % 20}"), now + 30 + n)
    await store.put("n0", rec(99), now + 45)  # a record with no principal at all
    for n in range(200):
        await _spoil(store, f"o{n}")
    assert await store.all("alice") == [rec(1, "alice")]
    assert await store.all("nobody") == []
    with pytest.raises(json.JSONDecodeError):
        await store.all()
    await store.take("a1")
    assert await store.all("alice") == []


async def test_hit_counts_per_key_per_window(store: StateStore, clock: Clock) -> None:
    clock.offset = 3600 - time.time() % 3600 + 1  # just past a window's start, so none ends mid-test
    assert [await store.hit("alice", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.hit("bob", 60) == 1
    assert await store.hit("alice", 3600) == 1  # another window length is another counter
    clock.offset += 60
    assert await store.hit("alice", 60) == 1
    assert await store.hit("alice", 60) == 2
    assert await store.hit("alice", 3600) == 2  # the hour is not over


async def test_ping_and_describe(store: StateStore) -> None:
    await store.ping()
    assert store.describe().split()[0] in ("memory", "sqlite", "redis")


# --- SQLite: a file shared over time and between processes -----------------------------------------------


async def test_sqlite_state_survives_a_new_store(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "state.db")
    await first.put("n1", rec(1), time.time() + 60)
    await first.put("n2", rec(2), time.time() + 60)
    await first.take("n2")
    await first.aclose()
    second = open_store(str(tmp_path / "state.db"), default_dir=tmp_path / "unused")
    try:
        assert await second.get("n1") == rec(1)
        assert await second.was_spent("n2")
        assert await second.take("n1") == rec(1)
    finally:
        await second.aclose()
    assert not (tmp_path / "unused").exists()
    assert stat.S_IMODE((tmp_path / "state.db").stat().st_mode) == 0o600


async def test_sqlite_two_stores_race_one_winner(tmp_path: Path) -> None:
    stores = [SqliteStore(tmp_path / "state.db"), SqliteStore(tmp_path / "state.db")]
    try:
        await stores[0].put("n1", rec(1), time.time() + 60)
        results: list[dict[str, Any] | None] = []

        async def take(s: SqliteStore) -> None:
            results.append(await s.take("n1"))

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(take, stores[i % 2])
        assert [r for r in results if r is not None] == [rec(1)]
        assert await stores[1].was_spent("n1")
    finally:
        for s in stores:
            await s.aclose()


@pytest.mark.slow
async def test_sqlite_two_processes_take_each_id_once(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    nonces = [f"n{i}" for i in range(200)]
    setup = SqliteStore(db)
    for n in nonces:
        await setup.put(n, {"nonce": n}, time.time() + 60)
    await setup.aclose()
    child = textwrap.dedent(
        f"""
        import anyio, random
        from pathlib import Path
        from jobs_mcp.state.sqlite import SqliteStore
        async def main():
            s = SqliteStore(Path({str(db)!r}))
            print("ready", flush=True)
            order = {nonces!r}
            random.Random(2).shuffle(order)
            won = [n for n in order if await s.take(n) is not None]
            await s.aclose()
            print(" ".join(won))
        anyio.run(main)
        """
    )
    mine: list[str] = []
    here = SqliteStore(db)
    with subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"  # start together
            for n in random.Random(1).sample(nonces, len(nonces)):  # both try every id, in different orders
                if await here.take(n) is not None:
                    mine.append(n)
            out, err = proc.communicate(timeout=60)
        finally:
            await here.aclose()
            if proc.returncode is None:
                proc.kill()
    assert proc.returncode == 0, err.decode()
    theirs = out.decode().split()
    assert not set(mine) & set(theirs)
    assert sorted(mine + theirs) == sorted(nonces)


# --- Redis: down and back -----------------------------------------------------------------------------------


@pytest.mark.slow
async def test_redis_down_then_back(redis_server: RedisServer, tmp_path: Path) -> None:
    store = open_store(redis_server.url, default_dir=tmp_path)
    try:
        await store.put("n1", rec(1), time.time() + 60)
        redis_server.kill()
        started = time.monotonic()
        with pytest.raises(StateUnavailable) as down:
            await store.ping()
        assert time.monotonic() - started < 3, "a down Redis must fail fast, not hang"
        message = str(down.value)
        assert f"127.0.0.1:{redis_server.port}" in message
        assert "unreachable" in message
        assert "redis-server is running" in message
        for op in (store.get("n1"), store.take("n1"), store.was_spent("n1"), store.all(), store.hit("k", 60)):
            with pytest.raises(StateUnavailable):
                await op
        with pytest.raises(StateUnavailable):
            await store.put("n2", rec(2), time.time() + 60)

        redis_server.start()  # same port; an empty server (no persistence)
        await store.ping()
        assert await store.get("n1") is None
        await store.put("n2", rec(2), time.time() + 60)
        assert await store.take("n2") == rec(2)  # the take script is loaded again by itself
        assert await store.was_spent("n2")
        assert await store.hit("k", 60) == 1
    finally:
        await store.aclose()


@pytest.mark.slow
async def test_redis_keys_are_prefixed_and_expire(redis_server: RedisServer, tmp_path: Path) -> None:
    import redis.asyncio as aioredis

    store = open_store(redis_server.url, default_dir=tmp_path)
    raw = aioredis.Redis(port=redis_server.port, decode_responses=True)
    try:
        await store.put("n1", rec(1), time.time() + 60)
        await store.put("n2", rec(2), time.time() + 60)
        await store.take("n2")
        await store.hit("alice", 60)
        keys = sorted(str(k) for k in await raw.keys("*"))  # decode_responses: str already
        assert keys and all(k.startswith("{jobs-mcp}:") for k in keys), keys
        assert 55_000 < await raw.pttl("{jobs-mcp}:pending:n1") <= 60_000
        assert 3_655_000 < await raw.pttl("{jobs-mcp}:spent:n2") <= 3_660_000
    finally:
        await raw.aclose()
        await store.aclose()


def test_redis_describe_hides_the_password(tmp_path: Path) -> None:
    needs_module("redis", "pip install -e '.[redis]'")
    store = open_store("rediss://user:s3cret-pw@cache.internal:6380/2", default_dir=tmp_path)
    assert store.describe() == "redis rediss://cache.internal:6380/2"
    assert open_store("redis://localhost:6379/0", default_dir=tmp_path).describe() == "redis redis://localhost:6379/0"


# --- choosing a store --------------------------------------------------------------------------------------


async def test_open_store_specs(tmp_path: Path) -> None:
    made: list[StateStore] = []
    try:
        for spec, expected in [
            (None, f"sqlite {tmp_path / 'default' / 'state.db'}"),
            ("", f"sqlite {tmp_path / 'default' / 'state.db'}"),
            ("memory", "memory (this process only)"),
            (f"sqlite://{tmp_path / 'a.db'}", f"sqlite {tmp_path / 'a.db'}"),
            (str(tmp_path / "b.db"), f"sqlite {tmp_path / 'b.db'}"),
            (str(tmp_path), f"sqlite {tmp_path / 'state.db'}"),  # a folder gets state.db inside
        ]:
            made.append(open_store(spec, default_dir=tmp_path / "default"))
            assert made[-1].describe() == expected, spec
        assert isinstance(made[2], MemoryStore)
        with pytest.raises(ValueError, match="redis://host:port/db"):
            open_store("postgres://db/x", default_dir=tmp_path)
    finally:
        for s in made:
            await s.aclose()


# --- the gate's key file -------------------------------------------------------------------------------------


def test_key_is_made_once_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "gate.key"
    key = load_or_create_key(path)
    assert len(bytes.fromhex(key.decode())) == 32  # 64 hex digits
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["gate.key"]  # no temp file left behind


def test_key_made_by_racing_threads_is_one_key(tmp_path: Path) -> None:
    path = tmp_path / "gate.key"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_key(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gate.key"
    key = load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError) as refused:
        load_or_create_key(path)
    assert f"chmod 600 {path}" in str(refused.value)
    assert key.decode() not in str(refused.value)
    os.chmod(path, 0o600)
    assert load_or_create_key(path) == key


def test_key_too_short_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gate.key"
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="too short"):
        load_or_create_key(path)


def test_the_take_script_touches_only_keys_it_is_given() -> None:
    """A Redis Cluster routes a script by its KEYS: a key the script builds itself may live on another node."""
    from jobs_mcp.state.redis import _TAKE

    calls = re.findall(r"redis\.call\('(\w+)',\s*([^,)]+)", _TAKE)
    assert calls and all(re.fullmatch(r"KEYS\[\d\]", key) for _, key in calls), calls
