"""The response cache stays within its byte budget."""

from __future__ import annotations

from lahella_bridge.http_layer import CachedResponse, ResponseCache


def entry(size: int) -> CachedResponse:
    return CachedResponse(200, [], b"x" * size, b'"e"', 0.0)


def test_cache_evicts_oldest_entries_to_stay_within_its_byte_budget() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=1000, max_entry_bytes=600, ttl_s=1e12)
    for n in range(5):
        cache.put((n,), entry(300))
    assert cache.size <= 1000
    assert cache.get((0,)) is None and cache.get((4,)) is not None
    cache.put(("big",), entry(700))  # over the per-entry limit: not cached at all
    assert cache.get(("big",)) is None and cache.size <= 1000
    cache.put((4,), entry(100))  # replacing an entry releases its old size
    assert cache.size == sum(len(e.body) for e in cache._entries.values())
