from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openpika.jobs.memory import MemoryJobStore
from openpika.jobs.redis_store import RedisJobStore
from openpika.jobs.sqlite import SQLiteJobStore
from openpika.jobs.store import JobStore

BACKENDS = ["memory", "sqlite", "redis"]


class FakeClock:
    """A clock the test moves by hand, so lease and deadline tests never sleep."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


StoreFactory = Callable[..., JobStore]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Builds stores of one backend. For sqlite and redis, every store made by one factory shares the
    same database file or server, like separate worker processes do."""
    made: list[JobStore] = []
    redis_server = None
    if request.param == "redis":
        fakeredis = pytest.importorskip(
            "fakeredis", reason="the redis backend is tested with fakeredis ([dev])"
        )
        redis_server = fakeredis.FakeServer()

    def factory(clock: Callable[[], float] | None = None) -> JobStore:
        kwargs = {} if clock is None else {"clock": clock}
        store: JobStore
        if request.param == "memory":
            if made:  # one process only: "another process" is the same object
                return made[0]
            store = MemoryJobStore(**kwargs)
        elif request.param == "redis":
            import fakeredis

            store = RedisJobStore(fakeredis.FakeRedis(server=redis_server), **kwargs)
        else:
            store = SQLiteJobStore(tmp_path / "jobs.db", **kwargs)
        made.append(store)
        return store

    yield factory
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory, clock: FakeClock) -> JobStore:
    return make_store(clock)
