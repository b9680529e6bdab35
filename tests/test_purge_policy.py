"""The one purge policy (cache/purge_policy.py) that the compiledir and the remote tier both use;
the purge commands themselves are tested in test_cli.py and test_remote.py."""

from __future__ import annotations

import random

import pytest

from fncache.cache.purge_policy import PurgePolicy, parse_age

NOW = 1_000_000.0


def entries(*spec: tuple[str, int, float]) -> list[dict]:
    """Entries as (key, size, seconds since last use)."""
    return [{"key": k, "size": size, "last_used": NOW - age} for k, size, age in spec]


def chosen(policy: PurgePolicy, items: list[dict]) -> list[str]:
    return [
        e["key"]
        for e in policy.select(items, size=lambda e: e["size"], last_used=lambda e: e["last_used"], now=NOW)
    ]


ITEMS = entries(("new", 10, 60), ("old", 20, 40 * 86400), ("mid", 30, 5 * 86400), ("older", 40, 90 * 86400))


def test_all_takes_every_entry_least_recently_used_first():
    assert chosen(PurgePolicy.of(all=True), ITEMS) == ["older", "old", "mid", "new"]


def test_older_than_takes_the_entries_unused_that_long():
    assert chosen(PurgePolicy.of(older_than="30d"), ITEMS) == ["older", "old"]
    assert chosen(PurgePolicy.of(older_than=3600), ITEMS) == ["older", "old", "mid"]
    assert chosen(PurgePolicy.of(older_than="1000w"), ITEMS) == []


def test_max_size_takes_least_recently_used_until_the_rest_fits():
    assert chosen(PurgePolicy.of(max_size=100), ITEMS) == []
    assert chosen(PurgePolicy.of(max_size=60), ITEMS) == ["older"]
    assert chosen(PurgePolicy.of(max_size=59), ITEMS) == ["older", "old"]
    assert chosen(PurgePolicy.of(max_size=1), ITEMS) == ["older", "old", "mid", "new"]
    assert chosen(PurgePolicy.of(max_size="1KB"), ITEMS) == []


def test_age_then_size():
    # 30 days removes older and old (60 bytes); 40 remain, over a cap of 35: mid goes too.
    assert chosen(PurgePolicy.of(older_than="30d", max_size=35), ITEMS) == ["older", "old", "mid"]
    assert chosen(PurgePolicy.of(older_than="30d", max_size=40), ITEMS) == ["older", "old"]


def test_random_policies_keep_their_promises():
    rng = random.Random(7)
    for _ in range(300):
        items = entries(
            *(
                (f"k{i}", rng.randrange(0, 100), rng.uniform(0, 100 * 86400))
                for i in range(rng.randrange(0, 12))
            )
        )
        older = rng.choice([None, rng.uniform(0, 100 * 86400)])
        cap = rng.choice([None, rng.randrange(1, 600)])
        if older is None and cap is None:
            continue
        policy = PurgePolicy.of(older_than=older, max_size=cap)
        picked = policy.select(items, size=lambda e: e["size"], last_used=lambda e: e["last_used"], now=NOW)
        rest = [e for e in items if e not in picked]
        assert len({e["key"] for e in picked}) == len(picked)
        if older is not None:  # everything unused that long goes; what stays was used since
            assert all(e in picked for e in items if e["last_used"] < NOW - older)
        if cap is not None:
            assert sum(e["size"] for e in rest) <= cap
            if picked and older is None:  # no more than needed: without the last one taken, it would not fit
                assert sum(e["size"] for e in rest) + picked[-1]["size"] > cap
        # whatever the size rule took is older than whatever it left
        by_size = [e for e in picked if older is None or e["last_used"] >= NOW - older]
        if by_size and rest:
            assert max(e["last_used"] for e in by_size) <= min(e["last_used"] for e in rest)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "say what to remove"),
        ({"older_than": "soon"}, "expected an age such as 30d"),
        ({"older_than": -1}, "an age must be >= 0"),
        ({"max_size": "lots"}, "lots"),
        # cache_max_size=0 is no cap: the same number cannot mean "remove everything" here
        ({"max_size": 0}, r"a size of 0 is refused \(0\): cache_max_size=0 means no cap.*use all=True"),
        ({"max_size": "0GB", "older_than": "1d"}, "a size of 0 is refused"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PurgePolicy.of(**kwargs)


def test_parse_age_units():
    assert [parse_age(v) for v in ("45s", "15m", "12h", "30d", "2w", "1.5", 7)] == [
        45,
        900,
        43200,
        30 * 86400,
        14 * 86400,
        1.5,
        7.0,
    ]
