"""Redis-backed caches and counters."""

import redis

cache = redis.Redis.from_url("redis://cache:6379/0", socket_timeout=2)


def remember_profile(user_id: int, profile_json: str) -> None:
    cache.set(f"profile:{user_id}", profile_json)


def count_visit(user_id: int) -> int:
    visits = cache.incr(f"visits:{user_id}")
    cache.expire(f"visits:{user_id}", 86400)
    return visits


def remember_cart(user_id: int, items: list[str]) -> None:
    cache.rpush(f"cart:{user_id}", *items)


def store_session(token: str, user_id: int) -> None:
    cache.set(f"session:{token}", user_id, ex=1800)


def cached_profile(user_id: int) -> str | None:
    try:
        return cache.get(f"profile:{user_id}")
    except redis.RedisError:
        return None


def clear_profiles() -> None:
    for key in cache.keys("profile:*"):
        cache.delete(key)
