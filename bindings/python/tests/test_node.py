"""Node: configuration, lifecycle, membership, routes, health checks, errors."""

from __future__ import annotations

import pytest
from conftest import NodeFactory, eventually, wait_converged

import lashup


def test_keyword_arguments_name_dotted_keys_with_underscores(nodes: NodeFactory) -> None:
    node = nodes.make("a", start=False, overlay_active_view_size=5, detector_probe_interval_ms=200)
    # A key the library refuses names itself in the message.
    with pytest.raises(lashup.InvalidArgument, match="overlay.active_view_size"):
        lashup.Node(node_name="x", overlay_active_view_size=500)
    assert node.name == "a"


def test_config_dict_takes_dotted_keys_and_lists(tmp_path) -> None:
    node = lashup.Node(
        {"node_name": "a", "data_dir": str(tmp_path), "tls": False, "listen_address": "127.0.0.1:0", "contact_nodes": ["b@127.0.0.1:1", "c@127.0.0.1:2"]}
    )
    node.close()
    with pytest.raises(lashup.InvalidArgument, match="no_such_key"):
        lashup.Node({"no_such_key": "1"})
    with pytest.raises(TypeError):
        lashup.Node(node_name=3.5)  # type: ignore[arg-type]


def test_config_file_then_arguments(tmp_path) -> None:
    path = tmp_path / "node.conf"
    path.write_text(f'node_name = from-file\ndata_dir = "{tmp_path}/d"\ntls = off\nlisten_address = 127.0.0.1:0\n')
    assert lashup.Node(config_file=path).name == "from-file"
    assert lashup.Node(config_file=path, node_name="override").name == "override"
    bad = tmp_path / "bad.conf"
    bad.write_text("overlay.active_view_size = lots\n")
    with pytest.raises(lashup.InvalidArgument, match="bad.conf"):
        lashup.Node(config_file=bad)
    with pytest.raises(lashup.IOFailure):
        lashup.Node(config_file=tmp_path / "missing.conf")


def test_node_without_name_is_refused_with_the_library_message() -> None:
    with pytest.raises(lashup.InvalidArgument) as raised:
        lashup.Node(data_dir="/tmp/x", tls=False)
    assert raised.value.code == -1
    assert "node_name" in str(raised.value)


def test_context_manager_starts_and_closes(nodes: NodeFactory) -> None:
    node = nodes.make("a", start=False)
    with node as running:
        assert running is node
        assert running.address.startswith("127.0.0.1:")
        assert running.incarnation > 0
    assert node.closed
    with pytest.raises(lashup.Closed):
        node.members()
    node.close()  # idempotent


def test_lifecycle_errors(nodes: NodeFactory) -> None:
    node = nodes.make("a", start=False)
    with pytest.raises(lashup.InvalidState):
        node.members()
    with pytest.raises(lashup.Closed):
        node.mc.publish("t", b"x")
    node.start()
    with pytest.raises(lashup.InvalidState):
        node.start()
    node.stop()
    node.stop()
    with pytest.raises(lashup.Closed):
        node.kv.update("k").counter_add("c").commit()


def test_members_reachability_and_routes(cluster: list[lashup.Node]) -> None:
    a, b, c = cluster
    members = a.members()
    assert [m.name for m in members] == ["a", "b", "c"]
    me = members[0]
    assert me.state is lashup.MemberState.REACHABLE
    assert me.distance == 0 and me.last_heard_ms == 0
    assert me.address == a.address and me.incarnation == a.incarnation
    assert all(m.distance is not None and m.distance >= 1 for m in members[1:])
    assert a.reachable("b") and not a.reachable("nobody")
    assert a.distance("a") == 0 and a.distance("b") >= 1
    with pytest.raises(lashup.NotFound):
        a.distance("nobody")
    with pytest.raises(KeyError):  # NotFound is a KeyError
        a.distance("nobody")
    # A tree rooted elsewhere follows the neighbours that members announced,
    # which may lag behind reachability for a moment.
    def full_tree() -> list[lashup.RouteEntry] | None:
        tree = a.route_tree("b")
        return tree if {e.node for e in tree} == {"a", "b", "c"} else None

    tree = eventually(full_tree, what="b's route tree covering the cluster")
    assert tree[0] == lashup.RouteEntry("b", None, 0)
    assert all(e.parent is not None for e in tree[1:])
    with pytest.raises(lashup.NotFound):
        a.route_tree("nobody")
    eventually(lambda: set(a.members()[0].neighbours) >= {"b", "c"}, what="a's neighbours announced")


def test_health_check_answers_alive_and_not(cluster: list[lashup.Node]) -> None:
    a, b, _ = cluster
    answer = a.health_check("b", timeout=10)
    assert answer.alive and answer.rtt_us > 0
    assert not a.health_check("nobody", timeout=10).alive


def test_metadata_reaches_other_members_and_is_bounded(cluster: list[lashup.Node]) -> None:
    a, b, _ = cluster
    a.set_metadata(b"role=db")
    eventually(lambda: next(m for m in b.members() if m.name == "a").metadata == b"role=db", what="metadata")
    with pytest.raises(lashup.TooLarge):
        a.set_metadata(b"x" * 100_000)


def test_member_events_report_a_node_that_stops(nodes: NodeFactory) -> None:
    a = nodes.make("a")
    events = a.member_events()
    b = nodes.make("b", contact=a)
    wait_converged([a, b])
    b.stop()
    seen: list[lashup.MemberEvent] = []
    while True:
        event = events.get(timeout=10)  # TimeoutError fails the test
        seen.append(event)
        # b's joining may be reported as reachable first.
        if event.type is lashup.EventType.REACHABILITY and event.node == "b" and event.state != 0:
            assert event.state == lashup.MemberState.UNREACHABLE
            break
    assert any(e.type is lashup.EventType.MEMBER_UPDATED and e.node == "b" for e in seen)
    events.close()


def test_stats(cluster: list[lashup.Node]) -> None:
    a = cluster[0]
    stats = a.stats()
    assert set(stats) == set(lashup.stat_names())
    eventually(lambda: a.stat("members") == 3, what="members stat")
    with pytest.raises(lashup.NotFound):
        a.stat("no.such.stat")


def test_version_and_keys() -> None:
    assert lashup.library_version() == lashup.__version__
    assert "node_name" in lashup.config_keys()


def test_error_hierarchy() -> None:
    assert issubclass(lashup.NotFound, KeyError)
    assert issubclass(lashup.InvalidArgument, ValueError)
    assert issubclass(lashup.TypeMismatch, TypeError)
    assert issubclass(lashup.PermissionDenied, PermissionError)
    for cls in (lashup.Conflict, lashup.Closed, lashup.TooLarge, lashup.TLSError):
        assert issubclass(cls, lashup.Error)
    error = lashup.NotFound("no key 'x'")
    assert str(error) == "no key 'x'" and error.code == -6


def test_leave_marks_the_node_left_on_the_others(nodes: NodeFactory) -> None:
    a = nodes.make("a")
    b = nodes.make("b", contact=a)
    wait_converged([a, b])
    b.leave()
    b.stop()

    def state_of_b() -> lashup.MemberState | None:
        found = [m for m in a.members() if m.name == "b"]
        return found[0].state if found else None

    # Left, or already forgotten after having left.
    eventually(lambda: state_of_b() in (lashup.MemberState.LEFT, None), what="b left")
    assert not a.reachable("b")
