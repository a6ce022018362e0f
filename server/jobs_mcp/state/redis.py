"""The store shared by replicas: Redis (``--state redis://host:port/db`` or ``rediss://`` for TLS).

Proposals are made on one replica and confirmed on another, so pending records, spent marks and rate counters
live in Redis under ``{jobs-mcp}:``. Redis expires them itself (TTL = the proposal's expiry; a spent mark lives an
hour longer). ``take`` is one Lua script (GET, DEL, SET spent), which Redis runs atomically, so of any number
of replicas confirming one id exactly one gets the record; redis-py re-sends the script itself if a restarted
server has forgotten it. A sorted set indexed by expiry lists the pending records without scanning the
keyspace, and one per principal lists a person's own (their list costs what they have, not what everyone has).

Redis Cluster: every key the gate uses carries one hash tag (``{jobs-mcp}:``), so they all live in one slot and
the transactions and the script may touch several of them; the script names every key it touches in KEYS (a
cluster routes a script by its KEYS and refuses one that reaches a key of another slot).

When Redis is down every call raises ``StateUnavailable`` quickly (two short retries, not redis-py's default
of ten); the connection pool reconnects on the next call once it is back, so nothing needs restarting. A
retried ``take`` whose first answer was lost finds the record gone and returns None: the id counts as used,
never as usable twice.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from jobs_mcp.state import SPENT_GRACE, Clock, Record, StateUnavailable, window_of

T = TypeVar("T")

PREFIX = "{jobs-mcp}:"  # a hash tag: every key in one Redis Cluster slot

# KEYS: pending key, spent key, expiry index, the principal's index (read before: the record names the principal).
# ARGV: nonce, grace in ms, that principal. Returns the record or false. The principal's index loses the nonce only
# if the record is that principal's (always, as nonces are never reused; otherwise its entry expires by itself).
_TAKE = """
local record = redis.call('GET', KEYS[1])
if not record then return false end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local ok, decoded = pcall(cjson.decode, record)
if ok and type(decoded) == 'table' and decoded['principal'] == ARGV[3] then
  redis.call('ZREM', KEYS[4], ARGV[1])
end
redis.call('SET', KEYS[2], '1', 'PX', ttl + tonumber(ARGV[2]))
return record
"""


def redact(url: str) -> str:
    """The URL without user name or password, for messages and logs."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class RedisStore:
    """Pending proposals, spent nonces and rate counters in Redis, shared by every replica."""

    def __init__(
        self, url: str, *, clock: Clock = time.time, prefix: str = PREFIX, connect_timeout: float = 2.0
    ) -> None:
        self._where = redact(url)
        self._clock = clock
        self._prefix = prefix
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=connect_timeout,
            socket_timeout=5.0,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.25), retries=2),
        )
        self._take = self._redis.register_script(_TAKE)
        self._index = f"{prefix}pending-by-expiry"
        self._by_principal = f"{prefix}pending-by-principal:"

    def _pending(self, nonce: str) -> str:
        return f"{self._prefix}pending:{nonce}"

    def _mine(self, principal: str) -> str:
        return f"{self._by_principal}{principal}"

    def _spent(self, nonce: str) -> str:
        return f"{self._prefix}spent:{nonce}"

    async def _call(self, op: Awaitable[T]) -> T:
        try:
            return await op
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise StateUnavailable(
                f"The gate's state store, Redis at {self._where}, is unreachable ({exc}). Pending proposals live "
                "there, so none can be made or confirmed until it is back. Check that redis-server is running and "
                "reachable from this server; calls work again by themselves once it is."
            ) from exc
        except RedisError as exc:
            raise StateUnavailable(
                f"The gate's state store, Redis at {self._where}, refused the operation ({exc}). Check the Redis "
                "server's logs (memory, persistence errors, read-only replica)."
            ) from exc

    # --- the contract ------------------------------------------------------------------------------------

    async def put(self, nonce: str, record: Record, expires: float) -> None:
        blob = json.dumps(record)
        now = self._clock()
        ttl_ms = math.ceil((expires - now) * 1000)
        async with self._redis.pipeline(transaction=True) as pipe:
            if ttl_ms <= 0:  # already expired: nothing to keep
                pipe.delete(self._pending(nonce))
                pipe.zrem(self._index, nonce)
            else:
                pipe.set(self._pending(nonce), blob, px=ttl_ms)
                pipe.zadd(self._index, {nonce: expires})
            principal = record.get("principal")
            if isinstance(principal, str):  # the principal's own index: their list costs what they have
                mine = self._mine(principal)
                if ttl_ms > 0:
                    pipe.zadd(mine, {nonce: expires})
                    pipe.pexpire(mine, ttl_ms + 60_000)  # proposals share one TTL: the newest lasts longest
                pipe.zremrangebyscore(mine, "-inf", now)
            pipe.zremrangebyscore(self._index, "-inf", now)
            await self._call(pipe.execute())

    async def get(self, nonce: str) -> Record | None:
        blob = await self._call(self._redis.get(self._pending(nonce)))
        return _load(blob) if blob is not None else None

    async def take(self, nonce: str) -> Record | None:
        seen = await self._call(self._redis.get(self._pending(nonce)))
        if seen is None:
            return None
        principal = _principal(seen)
        keys = [self._pending(nonce), self._spent(nonce), self._index, self._mine(principal)]
        args: list[str | int] = [nonce, int(SPENT_GRACE * 1000), principal]
        blob: str | None = await self._call(self._take(keys=keys, args=args))
        return _load(blob) if blob is not None else None

    async def was_spent(self, nonce: str) -> bool:
        found: int = await self._call(self._redis.exists(self._spent(nonce)))
        return found > 0

    async def all(self, principal: str | None = None) -> list[Record]:
        index = self._index if principal is None else self._mine(principal)
        # decode_responses=True: every reply is str, which redis-py's types cannot know
        nonces = cast(list[str], await self._call(self._redis.zrangebyscore(index, f"({self._clock()}", "+inf")))
        if not nonces:
            return []
        blobs = await self._call(self._redis.mget([self._pending(n) for n in nonces]))
        records = [_load(blob) for blob in blobs if blob is not None]  # None: expired by Redis meanwhile
        return [r for r in records if principal is None or r.get("principal") == principal]

    async def hit(self, key: str, window_seconds: float) -> int:
        now = self._clock()
        index, ends = window_of(now, window_seconds)
        counter = f"{self._prefix}hit:{window_seconds:g}:{key}:{index}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(counter)
            pipe.pexpire(counter, math.ceil((ends - now) * 1000) + 1000)
            results: list[Any] = await self._call(pipe.execute())
        count: int = results[0]
        return count

    async def put_task(self, task_id: str, doc: Record, expires: float) -> None:
        ttl_ms = math.ceil((expires - self._clock()) * 1000)
        key = f"{self._prefix}task:{task_id}"
        if ttl_ms <= 0:
            await self._call(self._redis.delete(key))
        else:
            await self._call(self._redis.set(key, json.dumps(doc), px=ttl_ms))

    async def get_task(self, task_id: str) -> Record | None:
        blob = await self._call(self._redis.get(f"{self._prefix}task:{task_id}"))
        return _load(blob) if blob is not None else None

    async def ping(self) -> None:
        await self._call(self._redis.ping())

    async def aclose(self) -> None:
        await self._redis.aclose()

    def describe(self) -> str:
        return f"redis {self._where}"


def _principal(blob: str | bytes) -> str:
    """The principal a stored record names ("" if none, or if it cannot be read: then no index holds it)."""
    try:
        principal = json.loads(blob).get("principal")
    except (ValueError, AttributeError):
        return ""
    return principal if isinstance(principal, str) else ""


def _load(blob: str | bytes) -> Record:
    record: Record = json.loads(blob)
    return record
