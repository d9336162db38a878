"""asyncio: subscriptions as async iterators driven by the node's event
descriptor (loop.add_reader), asynchronous writes and health checks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import FAST, NodeFactory, wait_converged

import lashup


def test_async_iteration_of_kv_and_multicast(cluster: list[lashup.Node]) -> None:
    a, b, _ = cluster

    async def main() -> tuple[list[str], list[bytes]]:
        kv_sub = b.kv.subscribe("jobs/")
        mc_sub = b.mc.subscribe("tick")
        keys: list[str] = []
        messages: list[bytes] = []

        async def read_kv() -> None:
            async for event in kv_sub:
                if event.initial:
                    continue
                keys.append(event.key)
                if len(keys) == 3:
                    return

        async def read_mc() -> None:
            async for message in mc_sub:
                messages.append(message.data)
                if len(messages) == 3:
                    return

        readers = asyncio.gather(read_kv(), read_mc())
        for i in range(3):
            async with a.kv.update(f"jobs/{i}") as u:
                u.counter_add("n", i + 1)
            a.mc.publish("tick", str(i))
        await asyncio.wait_for(readers, 10)
        kv_sub.close()
        mc_sub.close()
        return keys, messages

    keys, messages = asyncio.run(main())
    assert sorted(keys) == ["jobs/0", "jobs/1", "jobs/2"]
    assert messages == [b"0", b"1", b"2"]


def test_async_update_reports_errors_and_applies(cluster: list[lashup.Node]) -> None:
    a = cluster[0]

    async def main() -> None:
        update = a.kv.update("async/key").counter_add("n", 4)
        await update.commit_async()
        assert a.kv["async/key"]["n"] == 4
        try:
            await a.kv.update("nodes/b/x").counter_add("n").commit_async()
        except lashup.PermissionDenied as error:
            assert "nodes/b/" in str(error)
        else:
            raise AssertionError("PermissionDenied not raised")
        stale = a.kv["async/key"]
        await a.kv.update("async/key").counter_add("n").commit_async()
        try:
            await a.kv.update("async/key", expected=stale).counter_add("n").commit_async()
        except lashup.Conflict:
            pass
        else:
            raise AssertionError("Conflict not raised")
        answer = await a.health_check_async("c", timeout=10)
        assert answer.alive

    asyncio.run(main())
    assert a.kv["async/key"]["n"] == 5


def test_get_async_times_out_then_receives(cluster: list[lashup.Node]) -> None:
    a, b, _ = cluster

    async def main() -> bytes:
        sub = b.mc.subscribe("later")
        try:
            await sub.get_async(timeout=0.2)
        except TimeoutError:
            pass
        else:
            raise AssertionError("TimeoutError not raised")
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, a.mc.publish, "later", b"now")
        message = await sub.get_async(timeout=10)
        sub.close()
        return message.data

    assert asyncio.run(main()) == b"now"


def test_async_with_node_and_close_ends_iteration(tmp_path: Path) -> None:
    async def main() -> list[lashup.Message]:
        async with lashup.Node(
            FAST, node_name="solo", data_dir=str(tmp_path / "solo"), listen_address="127.0.0.1:0", tls=False
        ) as node:
            sub = node.mc.subscribe("t")

            async def collect() -> list[lashup.Message]:
                return [m async for m in sub]

            task = asyncio.create_task(collect())
            node.mc.publish_seq("t", b"1")
            # The collector is waiting in the loop's reader; give it the message.
            await asyncio.sleep(0.2)
        # Leaving the block closed the node: the iteration ends.
        return await asyncio.wait_for(task, 10)

    messages = asyncio.run(main())
    assert [m.data for m in messages] == [b"1"]


def test_two_event_loops_in_turn(nodes: NodeFactory) -> None:
    a = nodes.make("a")
    b = nodes.make("b", contact=a)
    wait_converged([a, b])
    sub = b.mc.subscribe("t")
    for i in range(2):
        a.mc.publish("t", str(i))
        message = asyncio.run(sub.get_async(timeout=10))
        assert message.data == str(i).encode()
