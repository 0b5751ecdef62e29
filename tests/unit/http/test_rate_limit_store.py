"""The limiter's store is bounded: by a count of buckets, and by their window."""

from __future__ import annotations

from ipaddress import ip_network

from entrypoints.http.limits import BucketStore, client_address


class _Timer:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_many_distinct_callers_never_hold_more_than_the_bound() -> None:
    store = BucketStore(max_buckets=1000, window_seconds=60)
    for n in range(50_000):
        await store.set(f"caller-{n}", b"{}")
    assert store.bucket_count() == 1000
    assert await store.get("caller-49999") == b"{}"
    assert await store.get("caller-0") is None


async def test_buckets_are_dropped_once_their_window_has_passed() -> None:
    timer = _Timer()
    store = BucketStore(max_buckets=1000, window_seconds=60, timer=timer)
    for n in range(500):
        await store.set(f"caller-{n}", "{}")
    timer.now = 61.0
    assert store.bucket_count() == 0
    assert await store.get("caller-1") is None


def test_a_window_counts_up_to_its_limit_and_refuses_without_counting() -> None:
    store = BucketStore(max_buckets=10, window_seconds=60)
    counted = [store.spend("user:a", 3, now=1000)[1] for _ in range(5)]
    window, _ = store.spend("user:a", 3, now=1000)
    assert counted == [True, True, True, False, False]
    assert (window.spent, window.reset) == (3, 1060)
    assert store.spend("user:b", 3, now=1000)[1]  # each caller its own budget


def test_a_new_window_starts_when_the_last_one_ended() -> None:
    store = BucketStore(max_buckets=10, window_seconds=60)
    for _ in range(3):
        store.spend("user:a", 3, now=1000)
    assert not store.spend("user:a", 3, now=1059)[1]
    window, counted = store.spend("user:a", 3, now=1060)
    assert counted and (window.spent, window.reset) == (1, 1120)


def test_the_limiter_windows_are_bounded_like_any_bucket() -> None:
    timer = _Timer()
    store = BucketStore(max_buckets=100, window_seconds=60, timer=timer)
    for n in range(1000):
        store.spend(f"addr:{n}", 3, now=1000)
    assert store.bucket_count() == 100
    timer.now = 61.0
    assert store.bucket_count() == 0


PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    assert client_address("198.51.100.7", "203.0.113.1", ()) == "198.51.100.7"
    assert client_address("198.51.100.7", "203.0.113.1", PROXIES) == "198.51.100.7"
    assert client_address("10.1.2.3", "203.0.113.1", PROXIES) == "203.0.113.1"
    assert client_address("10.1.2.3", None, PROXIES) == "10.1.2.3"


def test_the_client_is_the_last_hop_no_trusted_proxy_added() -> None:
    """A client can write any X-Forwarded-For; only what our proxies appended counts."""
    forged = "1.2.3.4, 203.0.113.9, 10.0.0.5"
    assert client_address("10.1.2.3", forged, PROXIES) == "203.0.113.9"
    assert client_address("::1", "10.0.0.9, 10.0.0.8", PROXIES) == "10.0.0.9"
