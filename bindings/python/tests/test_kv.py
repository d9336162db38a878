"""node.kv: writes, reads and subscriptions across a three-node cluster;
compare-and-set; errors."""

from __future__ import annotations

import pytest
from conftest import eventually

import lashup
from lashup import FieldType


def test_write_on_one_node_reads_on_the_others(cluster: list[lashup.Node]) -> None:
    a, b, c = cluster
    with a.kv.update("svc/web") as u:
        u.counter_add("hits", 2)
        u.set_add("tags", "blue")
        u.register_set("owner", b"team-a")
        u.flag_enable("enabled")
        u.counter_add("limits/rps", 100)
    assert u.result is not None and u.result["hits"] == 2
    for node in (b, c):
        value = eventually(lambda n=node: n.kv.get("svc/web"), what=f"svc/web on {node.name}")
        assert value["hits"] == 2
        assert value.set("tags") == {b"blue"}
        assert value.register("owner") == b"team-a"
        assert value.flag("enabled") is True
        limits = value.map("limits")
        assert limits is not None and limits.counter("rps") == 100 and limits.context is None
        assert value.field("owner", FieldType.REGISTER).timestamp > 0  # type: ignore[union-attr]


def test_concurrent_counter_adds_converge(cluster: list[lashup.Node]) -> None:
    for node in cluster:
        with node.kv.update(b"god_counter") as u:
            u.counter_add("n", 5)
    for node in cluster:
        eventually(lambda n=node: (n.kv.get("god_counter") or {}).get("n") == 15, what=f"15 on {node.name}")


def test_subscription_on_another_node_sees_dump_then_changes(cluster: list[lashup.Node]) -> None:
    a, b, _ = cluster
    with a.kv.update("app/one") as u:
        u.counter_add("x", 1)
    eventually(lambda: "app/one" in b.kv, what="app/one on b")
    with b.kv.subscribe("app/") as sub:
        first = sub.get(timeout=10)
        assert first.initial and first.key == "app/one" and first.value is not None
        sub.wait_dump_done(timeout=10)
        assert sub.dump_done
        with a.kv.update("app/two") as u:
            u.counter_add("x", 7)
        change = sub.get(timeout=10)
        assert not change.initial and change.key == "app/two"
        assert change.value is not None and change.value["x"] == 7
        a.kv.delete("app/one")
        deleted = sub.get(timeout=10)
        assert deleted.key == "app/one" and deleted.deleted
        with a.kv.update("other/key") as u:
            u.counter_add("x", 1)
        with pytest.raises(TimeoutError):
            sub.get(timeout=0.3)  # not covered by the prefix
    assert sub.closed


def test_glob_subscription_and_keys(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    for key in ("svc/a/conf", "svc/b/conf", "svc/b/deep/conf", "other"):
        a.kv.update(key).counter_add("n").commit()
    assert a.kv.keys("svc/") == ["svc/a/conf", "svc/b/conf", "svc/b/deep/conf"]
    assert a.kv.keys(glob="svc/*/conf") == ["svc/a/conf", "svc/b/conf"]
    assert a.kv.keys(glob="svc/**") == ["svc/a/conf", "svc/b/conf", "svc/b/deep/conf"]
    with a.kv.subscribe(glob="svc/*/conf") as sub:
        sub.wait_dump_done(timeout=10)
        assert sorted(sub.get(timeout=0).key for _ in range(2)) == ["svc/a/conf", "svc/b/conf"]


def test_compare_and_set_conflict(cluster: list[lashup.Node]) -> None:
    a, b, _ = cluster
    a.kv.update("cas").register_set("v", "1").commit()
    seen = a.kv["cas"]
    a.kv.update("cas", expected=seen).register_set("v", "2").commit()
    with pytest.raises(lashup.Conflict) as raised:
        a.kv.update("cas", expected=seen).register_set("v", "3").commit()
    assert raised.value.code == -11 and str(raised.value)
    assert a.kv["cas"].register("v") == b"2"
    # A context from a KV_CHANGED event works as a token too, on another node.
    eventually(lambda: (b.kv.get("cas") or {}).get("v") == b"2", what="cas on b")
    fresh = b.kv["cas"]
    with b.kv.update("cas", expected=fresh.context) as u:
        u.register_set("v", "4")
    assert u.result is not None and u.result.register("v") == b"4"


def test_update_is_not_applied_when_the_block_raises(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    with pytest.raises(RuntimeError):
        with a.kv.update("never") as u:
            u.counter_add("n", 1)
            raise RuntimeError("abandon")
    assert a.kv.get("never") is None
    assert u.result is None


def test_permission_error_for_another_nodes_namespace(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    with pytest.raises(lashup.PermissionDenied, match="nodes/b/"):
        with a.kv.update("nodes/b/status") as u:
            u.counter_add("n", 1)
    with pytest.raises(PermissionError):
        a.kv.update("nodes/b/status").counter_add("n").commit()
    a.kv.update("nodes/a/status").counter_add("n").commit()


def test_bad_arguments(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    with pytest.raises(lashup.InvalidArgument):
        a.kv.get("")
    with pytest.raises(lashup.TooLarge):
        a.kv.get("k" * 5000)
    with pytest.raises(TypeError):
        a.kv.get(42)  # type: ignore[arg-type]
    update = a.kv.update("k")
    for bad_path in ("", "/x", "a//b", "x/"):
        with pytest.raises(lashup.InvalidArgument):
            update.counter_add(bad_path, 1)
    with pytest.raises(ValueError):  # InvalidArgument is a ValueError
        update.remove_field("x", 9)
    with pytest.raises(lashup.InvalidArgument):
        update.register_set("r", b"v", timestamp=-1)
    assert len(update) == 0
    update.counter_add("n", 1).commit()
    with pytest.raises(lashup.InvalidArgument):
        update.commit()
    # A field is named by (name, type): the map "n" is another field than the
    # counter "n" (so LASHUP_ERR_TYPE cannot come from a write; docs/KV.md).
    both = a.kv.update("k").set_add("n/deeper", "x").commit()
    assert both.counter("n") == 1 and both.map("n") is not None
    with pytest.raises(lashup.NotFound):
        a.kv.update("k").set_remove("tags", "absent").commit()
    with pytest.raises(lashup.NotFound):
        a.kv.update("k").remove_field("nothing", FieldType.FLAG).commit()
    with pytest.raises(lashup.NotFound):
        a.kv.delete("no-such-key")
    with pytest.raises(KeyError):
        a.kv["no-such-key"]
    with pytest.raises(lashup.InvalidArgument):
        a.kv.subscribe(maxsize=0)


def test_value_with_one_name_of_two_types(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    value = a.kv.update("two").counter_add("x", 3).set_add("x", "e").commit()
    assert value.counter("x") == 3 and value.set("x") == {b"e"}
    assert list(value) == ["x"] and len(value.fields) == 2
    with pytest.raises(lashup.TypeMismatch, match="counter, set"):
        value["x"]
    value = a.kv.update("two").remove_field("x", FieldType.SET).commit()
    assert dict(value) == {"x": 3}


def test_keys_that_are_not_utf8_round_trip(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    a.kv.update(b"raw/\xff\xfe").counter_add("n").commit()
    (key,) = a.kv.keys("raw/")
    assert a.kv.get(key) is not None
    assert key.encode("utf-8", "surrogateescape") == b"raw/\xff\xfe"


def test_async_completion_api_is_bound() -> None:
    # lashup_kv_update_async is used by Update.commit_async (test_asyncio).
    assert isinstance(lashup._lashup.HAVE_KV_UPDATE_ASYNC, bool)
