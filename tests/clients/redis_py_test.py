#!/usr/bin/python3
"""redis-py (Debian's python3-redis, 4.3) against a running Vigil cluster: the ordinary calls
of a Python user, and the answers Vigil gives to the ones it does not support.

Usage: redis_py_test.py HOST PORT [HOST PORT ...]  (every node's client port; the first two
are used). Run by tests/integration/cluster_redis_py_test.cpp, which starts the cluster.
Exits 0 when every check passed; otherwise prints each failed check and exits 1.
"""

import sys
import time
import traceback

import redis


def check_strings(r, other):
    assert r.ping() is True
    assert r.set("py:s", "hello") is True
    assert r.get("py:s") == b"hello"
    assert other.get("py:s") == b"hello", "an acknowledged write is seen through another node"
    assert r.exists("py:s", "py:absent") == 1
    assert r.get("py:absent") is None
    assert r.delete("py:s", "py:absent") == 1
    assert other.get("py:s") is None
    big = b"x" * 60000
    assert r.set("py:big", big) is True
    assert other.get("py:big") == big


def check_mset_mget(r, other):
    assert r.mset({"py:m1": "a", "py:m2": "b", "py:m3": "c"}) is True
    assert other.mget("py:m1", "py:m2", "py:absent", "py:m3") == [b"a", b"b", None, b"c"]


def check_nx_xx_get(r, other):
    assert r.set("py:nx", "first", nx=True) is True
    assert other.set("py:nx", "second", nx=True) is None, "NX on a present key writes nothing"
    assert r.get("py:nx") == b"first"
    assert r.set("py:xx-absent", "v", xx=True) is None, "XX on an absent key writes nothing"
    assert other.get("py:xx-absent") is None
    assert other.set("py:nx", "third", xx=True) is True
    assert r.get("py:nx") == b"third"
    assert r.set("py:nx", "fourth", get=True) == b"third"
    assert r.set("py:get-absent", "v", get=True) is None
    assert other.get("py:get-absent") == b"v"
    r.delete("py:nx")
    assert other.set("py:nx", "after delete", nx=True) is True, "a deleted key is absent for NX"


def check_binary(r, other):
    key = bytes(range(256))
    value = bytes(reversed(range(256))) + b"\r\n\x00"
    assert r.set(key, value) is True
    assert other.get(key) == value
    assert r.mset({b"py:\x00bin": b"\xff\r\n"}) is True
    assert other.mget([b"py:\x00bin"]) == [b"\xff\r\n"]


def check_pipeline_without_transaction(r, other):
    pipe = r.pipeline(transaction=False)
    pipe.set("py:p", "1").get("py:p").set("py:p", "2").get("py:p").mget("py:p", "py:absent")
    assert pipe.execute() == [True, b"1", True, b"2", [b"2", None]], "read your writes"
    assert other.get("py:p") == b"2"


def check_pipeline_with_transaction_names_multi(r, other):
    pipe = r.pipeline()  # transaction=True by default: MULTI ... EXEC
    pipe.set("py:t", "1").get("py:t")
    try:
        pipe.execute()
    except redis.ResponseError as error:
        assert "MULTI/EXEC transactions are not supported by Vigil" in str(error), str(error)
        assert "use a pipeline without a transaction" in str(error), str(error)
    else:
        raise AssertionError("a transaction pipeline succeeded")
    assert other.get("py:t") is None, "nothing inside the refused transaction ran"
    assert r.get("py:t") is None, "the connection is usable after the refusal"


def expect_error(call, *fragments):
    try:
        call()
    except redis.ResponseError as error:
        for fragment in fragments:
            assert fragment in str(error), f"{fragment!r} not in {str(error)!r}"
        return
    raise AssertionError(f"no error; expected one with {fragments}")


def check_expiry(r, other):
    assert r.set("py:e", "v", ex=100) is True
    assert 98 <= other.ttl("py:e") <= 100, "the expiry travels with the value"
    assert 0 < other.pttl("py:e") <= 100000
    assert r.persist("py:e") is True
    assert other.ttl("py:e") == -1
    assert r.expire("py:e", 50) is True
    assert 48 <= other.ttl("py:e") <= 50
    assert r.set("py:e", "w", keepttl=True) is True
    assert other.get("py:e") == b"w" and 48 <= other.ttl("py:e") <= 50, "KEEPTTL keeps it"
    assert r.set("py:e", "x") is True
    assert other.ttl("py:e") == -1, "a plain SET clears the expiry, as in Redis"
    assert r.ttl("py:absent") == -2
    assert r.expire("py:absent", 10) is False
    assert r.setex("py:short", 1, "gone soon") is True
    assert r.psetex("py:shorter", 300, "gone sooner") is True
    assert other.get("py:shorter") == b"gone sooner"
    assert r.pexpire("py:e", 200) is True
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
            other.exists(k) for k in ("py:shorter", "py:short", "py:e")):
        time.sleep(0.1)
    assert other.get("py:shorter") is None and other.get("py:short") is None, "expired"
    assert other.get("py:e") is None and r.ttl("py:e") == -2
    assert r.set("py:e", "back", nx=True) is True, "an expired key is absent for NX"
    assert r.expire("py:e", 0) is True, "a time in the past deletes the key"
    assert other.get("py:e") is None
    expect_error(lambda: r.set("py:e", "v", ex=0), "invalid expire time in 'set' command")
    expect_error(lambda: r.execute_command("EXPIRE", "py:e", "ten"), "not an integer")
    expect_error(lambda: r.execute_command("EXPIRE", "py:e", "10", "NX", "XX"),
                 "not compatible")


def check_counters(r, other):
    assert r.incr("py:c") == 1
    assert other.incrby("py:c", 10) == 11
    assert r.decr("py:c") == 10
    assert other.decrby("py:c", 4) == 6
    assert r.get("py:c") == b"6", "GET answers a counter as a decimal string"
    for i in range(20):
        (r if i % 2 else other).incr("py:c")
    assert other.get("py:c") == b"26"
    assert r.set("py:ci", "41") is True and r.incr("py:ci") == 42
    assert r.set("py:cs", "text") is True
    expect_error(lambda: r.incr("py:cs"), "value is not an integer or out of range")
    expect_error(lambda: r.incrbyfloat("py:c", 1.5), "incrbyfloat is not supported")


def check_clear_refusals(r, other):
    expect_error(r.flushdb, "not supported by Vigil", "DEL")
    expect_error(r.flushall, "not supported by Vigil")
    expect_error(lambda: r.msetnx({"py:n1": "1"}), "msetnx is not supported by Vigil")
    expect_error(lambda: r.execute_command("WATCH", "py:w"), "not supported by Vigil")


def check_command_introspection(r, other):
    commands = r.command()  # COMMAND, parsed by redis-py: name -> arity, flags, keys
    names = set(commands)
    assert r.command_count() == len(names)
    assert commands["mset"]["arity"] == -3 and commands["mset"]["step_count"] == 2, commands["mset"]
    assert {"get", "set", "mset", "mget", "vget", "vset"} <= names, names
    assert not names & {"multi", "exec", "flushdb", "watch", "msetnx"}, names
    assert r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "redis-py") in (b"OK", True)


def check_scan_keys_dbsize(r, other):
    r.mset({f"py:scan:{i}": str(i) for i in range(120)})
    seen = list(other.scan_iter(match="py:scan:*", count=25))
    assert len(seen) == len(set(seen)) == 120, (len(seen), len(set(seen)))
    assert set(seen) == {f"py:scan:{i}".encode() for i in range(120)}
    assert sorted(r.keys("py:scan:1?")) == sorted(f"py:scan:1{i}".encode() for i in range(10))
    assert r.dbsize() > 0
    assert "estimate" in r.info("keyspace")["db0"], r.info("keyspace")
    expect_error(lambda: r.scan(17), "invalid cursor")


CHECKS = [
    check_strings,
    check_mset_mget,
    check_nx_xx_get,
    check_binary,
    check_expiry,
    check_counters,
    check_pipeline_without_transaction,
    check_pipeline_with_transaction_names_multi,
    check_clear_refusals,
    check_command_introspection,
    check_scan_keys_dbsize,
]


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    clients = [
        redis.Redis(host=argv[i], port=int(argv[i + 1]), socket_timeout=10,
                    socket_connect_timeout=10)
        for i in (1, 3)
    ]
    failed = 0
    for check in CHECKS:
        try:
            check(*clients)
            print(f"ok   {check.__name__}")
        except Exception:  # noqa: BLE001 - every failure is reported, then the next check runs
            failed += 1
            print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
    print(f"redis-py {redis.__version__}: {len(CHECKS) - failed} of {len(CHECKS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
