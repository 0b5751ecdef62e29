"""``serve --workers``: every connection a worker accepts has Nagle's algorithm off.

With it on, a response written as head then body waited for the client's delayed ACK
(about 40 ms on Linux), which capped two workers at ~360 requests/s.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket

import uvicorn

from entrypoints.serving import tcp_listener


def _nodelay_of_accepted(listener: socket.socket) -> int:
    """Accept one connection through asyncio, as uvicorn does; its TCP_NODELAY."""

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        host, port = listener.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


def _in_worker(listener: socket.socket, answers: multiprocessing.Queue[int]) -> None:
    listener.listen()
    answers.put(_nodelay_of_accepted(listener))


def _config() -> uvicorn.Config:
    return uvicorn.Config("benchmarks.bare_app:create", host="127.0.0.1", port=0, workers=2)


def test_the_listening_socket_is_a_tcp_socket() -> None:
    listener = tcp_listener(_config())
    try:
        assert listener.proto == socket.IPPROTO_TCP
        assert listener.get_inheritable()
    finally:
        listener.close()


def test_a_connection_accepted_in_a_spawned_worker_has_nodelay() -> None:
    """The socket reaches the worker as uvicorn sends it: pickled into a spawned process."""
    listener = tcp_listener(_config())
    context = multiprocessing.get_context("spawn")
    answers: multiprocessing.Queue[int] = context.Queue()
    worker = context.Process(target=_in_worker, args=(listener, answers))
    try:
        worker.start()
        assert answers.get(timeout=20) != 0
    finally:
        worker.join(10)
        listener.close()
