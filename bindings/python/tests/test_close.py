"""Closing a node while other threads use it; the GIL is released while a
thread waits for events."""

from __future__ import annotations

import gc
import threading
import time

import pytest
from conftest import NodeFactory, eventually

import lashup


def test_close_wakes_a_thread_waiting_for_events(nodes: NodeFactory) -> None:
    node = nodes.make("a")
    sub = node.mc.subscribe("t")
    outcome: list[object] = []

    def wait_forever() -> None:
        try:
            sub.get()  # no timeout
        except BaseException as error:  # noqa: BLE001 — recorded for the assertion
            outcome.append(error)

    waiter = threading.Thread(target=wait_forever)
    waiter.start()
    time.sleep(0.2)  # let it block in lashup_node_poll
    assert waiter.is_alive()
    node.close()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], lashup.Closed)
    # Everything afterwards raises Closed, nothing crashes.
    with pytest.raises(lashup.Closed):
        node.members()
    with pytest.raises(lashup.Closed):
        node.fileno()
    with pytest.raises(lashup.Closed):
        sub.get(timeout=0)
    sub.close()
    node.close()


def test_close_ends_iterations_in_several_threads(nodes: NodeFactory) -> None:
    node = nodes.make("a")
    subs = [node.mc.subscribe("t"), node.kv.subscribe(""), node.member_events()]
    node.mc.publish_seq("t", b"before close")
    results: dict[int, list[object]] = {i: [] for i in range(len(subs))}

    def drain(index: int) -> None:
        for item in subs[index]:  # ends when the node closes
            results[index].append(item)

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(subs))]
    for thread in threads:
        thread.start()
    eventually(lambda: len(results[0]) == 1, what="the message taken by its thread")
    node.close()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert [m.data for m in results[0]] == [b"before close"]  # type: ignore[attr-defined]


def test_close_while_threads_call_the_node(nodes: NodeFactory) -> None:
    a = nodes.make("a")
    b = nodes.make("b", contact=a)
    eventually(lambda: a.reachable("b"), what="b reachable")
    errors: list[BaseException] = []
    stop = threading.Event()

    def hammer() -> None:
        i = 0
        while not stop.is_set():
            try:
                a.kv.update(f"k/{i % 10}").counter_add("n").commit()
                a.members()
                a.kv.keys("k/")
                a.mc.publish("t", b"x")
                i += 1
            except lashup.Closed:
                return
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
                return

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    a.close()  # waits for the calls in progress
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
        assert not thread.is_alive()
    assert errors == []


def test_waiting_thread_releases_the_gil(nodes: NodeFactory) -> None:
    node = nodes.make("a")
    sub = node.mc.subscribe("quiet")

    def count_while(wait: object) -> int:
        counted = 0
        done = threading.Event()

        def count() -> None:
            nonlocal counted
            while not done.is_set():
                counted += 1

        counter = threading.Thread(target=count)
        counter.start()
        try:
            wait()  # type: ignore[operator]
        finally:
            done.set()
            counter.join()
        return counted

    def wait_for_event() -> None:
        with pytest.raises(TimeoutError):
            sub.get(timeout=0.5)

    # Measured: about 1.0 of the baseline; with the GIL held in
    # lashup_node_poll, about 0.1 (the counter runs only between poll
    # slices). Three tries, for a machine busy with other work.
    ratios = []
    for _ in range(3):
        baseline = count_while(lambda: time.sleep(0.5))  # time.sleep releases the GIL
        during_poll = count_while(wait_for_event)
        ratios.append(during_poll / max(baseline, 1))
        if ratios[-1] > 0.4:
            return
    pytest.fail(f"a thread waiting for events held the GIL: counter ratios {ratios}")


def test_node_dropped_without_close_is_freed_by_the_garbage_collector(tmp_path) -> None:
    settings = dict(node_name="a", data_dir=str(tmp_path), listen_address="127.0.0.1:0", tls=False)
    node = lashup.Node(**settings)
    node.start()
    node.mc.subscribe("t")  # a subscription refers back to the node
    with pytest.raises(lashup.StorageError, match="in use"):
        lashup.Node(**settings).start()  # one node per data dir
    del node
    gc.collect()
    again = lashup.Node(**settings)
    again.start()  # the first node's store was closed
    again.close()
