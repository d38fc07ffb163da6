"""moto_server, answering one request at a time.

DynamoDB applies each write to an item atomically: a conditional write and an `ADD` counter
never see a concurrent write to the same item half done. moto 5.2's threaded server does not
(ten concurrent `UpdateItem ... ADD` lose updates), so tests of exactly those guarantees (one
winner among concurrent refreshes, every login attempt counted) would fail now and then for
moto's sake. Serialising requests gives DynamoDB's per-item semantics; connections are still
served on threads, so idle keep-alive connections never block anyone.

Arguments are moto_server's.
"""
import threading

from moto import server

_lock = threading.Lock()
_dispatch = server.DomainDispatcherApplication.__call__


def _one_at_a_time(self, environ, start_response):
    with _lock:
        return _dispatch(self, environ, start_response)


server.DomainDispatcherApplication.__call__ = _one_at_a_time

if __name__ == "__main__":
    server.main()
