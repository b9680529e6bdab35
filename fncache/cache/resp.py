"""A small Redis client: RESP2 over one socket, for the remote tier's dozen commands.

Written by hand rather than imported because ``import redis`` costs ~160 ms (redis-py loads
``redis.asyncio`` and ``asyncio`` whatever you use): more than compiling a small function, so
a fresh worker's first remote hit would be slower than no remote tier at all. This module
imports in about a millisecond. It does only what the tier needs, the way the tier needs it:

* one connection per client, used under a lock (the tier's calls are short); any socket or
  protocol error closes it, so a half-read reply can never answer the next command, and the
  next call reconnects;
* no retries, and one deadline per command (or pipeline): connecting, sending and reading the
  whole reply take at most ``timeout`` seconds together, however slowly the server drips bytes
  (the tier owns retry and failure policy);
* a reply is parsed without recursion and within bounds (a bulk string of at most
  :data:`MAX_BULK` bytes, arrays of at most :data:`MAX_ARRAY` items nested at most
  :data:`MAX_DEPTH` deep, lines of at most :data:`MAX_LINE` bytes), and memory grows only with
  bytes actually received, so a hostile server can neither exhaust memory nor the stack;
* server error replies are :class:`RespError` (the connection stays usable); socket trouble
  is ``OSError``; a reply that is not RESP is :class:`ProtocolError`.

URLs are redis-py's, read by ``fncache.config.parse_remote_url``:
``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` for TLS (certificates verified against the system's CAs, or ``?ssl_ca_certs=/path/ca.pem``; a client
certificate with ``ssl_certfile=`` and ``ssl_keyfile=``; ``ssl_cert_reqs=none`` turns
verification off for self-signed test servers), ``unix:///path/to/socket[?db=N]``, and
``?db=N`` anywhere.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from typing import Any, Iterator, Sequence

from ..config import parse_remote_url

__all__ = [
    "RespClient",
    "RespError",
    "ProtocolError",
    "MAX_BULK",
    "MAX_ARRAY",
    "MAX_DEPTH",
    "MAX_LINE",
]

Reply = Any  # bytes | int | None | list[Reply] | RespError
_CRLF = b"\r\n"
#: Largest bulk string accepted: Redis's own default ``proto-max-bulk-len``.
MAX_BULK = 512 << 20
#: Most items in one array reply (HGETALL of an index of millions of entries still fits).
MAX_ARRAY = 1 << 24
#: Deepest nesting of arrays: the tier's replies nest two deep (EXEC of SCAN-like replies).
MAX_DEPTH = 8
#: Longest status, error or length line.
MAX_LINE = 64 << 10
_RECV = 1 << 16


class RespError(Exception):
    """An error reply from the server (``-ERR ...``, ``-OOM ...``, ``-NOSCRIPT ...``)."""


class ProtocolError(RespError):
    """The bytes received are not a RESP2 reply (the connection is closed)."""


def _encode(args: Sequence[Any]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            b = repr(a).encode()
        else:
            raise TypeError(f"Redis command argument {a!r}: expected bytes, str or a number")
        out += [b"$%d\r\n" % len(b), b, _CRLF]
    return b"".join(out)


def _number(digits: bytes, line: bytes) -> int:
    """An integer reply; only an optional sign and at most 20 digits (a 64-bit number)."""
    body = digits[1:] if digits[:1] in (b"-", b"+") else digits
    if not body.isdigit() or len(body) > 20:
        raise ProtocolError(f"not an integer in reply line {line[:60]!r}")
    return int(digits)


def _length(digits: bytes, line: bytes, limit: int, what: str) -> int:
    """A bulk or array length: -1 (null) up to ``limit``."""
    n = _number(digits, line)
    if n < -1 or n > limit:
        raise ProtocolError(f"{what} length {n} is out of bounds (-1 to {limit})")
    return n


class RespClient:
    """A Redis client for one URL; thread-safe (one connection, used under a lock)."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._cfg = parse_remote_url(url)
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._buf = bytearray()
        self._pos = 0
        self._deadline = 0.0
        self._scripts: dict[str, bytes] = {}

    # -- connection ----------------------------------------------------------------------------

    def _remaining(self) -> float:
        """Seconds left before this command's deadline; TimeoutError once it has passed."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete reply within {self.timeout:g}s")
        return left

    def _connect(self) -> None:
        cfg = self._cfg
        if cfg["unix"]:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self._remaining())
            try:
                sock.connect(cfg["unix"])
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((cfg["host"], cfg["port"]), timeout=self._remaining())
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if cfg["tls"]:
                import ssl  # only for rediss:// (ssl costs ~10 ms to import)

                ctx = ssl.create_default_context(cafile=cfg["ca"])
                if cfg["cert"]:
                    ctx.load_cert_chain(cfg["cert"], cfg["key"])
                if not cfg["verify"]:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                try:
                    sock.settimeout(self._remaining())
                    sock = ctx.wrap_socket(sock, server_hostname=cfg["host"])
                except OSError:
                    sock.close()
                    raise
        self._sock = sock
        self._buf.clear()
        self._pos = 0
        try:
            hello = []
            if cfg["password"] is not None:
                hello.append(
                    ("AUTH", cfg["username"], cfg["password"])
                    if cfg["username"]
                    else ("AUTH", cfg["password"])
                )
            if cfg["db"]:
                hello.append(("SELECT", cfg["db"]))
            for reply in self._roundtrip(hello):
                if isinstance(reply, RespError):
                    raise reply
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection (the next command opens a new one)."""
        s, self._sock = self._sock, None
        self._buf.clear()
        self._pos = 0
        if s is not None:
            try:
                s.close()
            except OSError:
                pass

    def _roundtrip(self, commands: Sequence[Sequence[Any]]) -> list[Reply]:
        if not commands:
            return []
        assert self._sock is not None
        self._sock.settimeout(self._remaining())
        self._sock.sendall(b"".join(_encode(cmd) for cmd in commands))
        return [self._read() for _ in commands]

    # -- reading, within the deadline and the bounds ---------------------------------------------

    def _fill(self, want: int) -> None:
        """Receive until at least ``want`` unread bytes are buffered (only what arrives is stored)."""
        assert self._sock is not None
        if self._pos and self._pos >= len(self._buf) // 2:  # drop what was read, now and then
            del self._buf[: self._pos]
            self._pos = 0
        while len(self._buf) - self._pos < want:
            self._sock.settimeout(self._remaining())
            chunk = self._sock.recv(max(_RECV, min(want - (len(self._buf) - self._pos), 1 << 22)))
            if not chunk:
                raise ProtocolError("the connection closed in the middle of a reply")
            self._buf += chunk

    def _line(self) -> bytes:
        """The next line, without its CRLF."""
        scanned = 0  # bytes after the read position known to hold no CRLF
        while True:
            end = self._buf.find(_CRLF, self._pos + scanned, self._pos + MAX_LINE + 2)
            if end >= 0:
                line = bytes(self._buf[self._pos : end])
                self._pos = end + 2
                return line
            buffered = len(self._buf) - self._pos
            if buffered > MAX_LINE:
                raise ProtocolError(
                    f"reply line longer than {MAX_LINE} bytes: "
                    f"{bytes(self._buf[self._pos : self._pos + 60])!r}"
                )
            scanned = max(buffered - 1, 0)  # a CR at the end may be followed by its LF
            self._fill(buffered + 1)

    def _read(self) -> Reply:
        """One reply, parsed with an explicit stack (no recursion however deep the server nests)."""
        stack: list[tuple[list[Reply], int]] = []  # arrays being filled, and their lengths
        while True:
            line = self._line()
            kind, rest = line[:1], line[1:]
            value: Reply
            if kind == b"+":
                value = rest
            elif kind == b"-":
                value = RespError(rest.decode(errors="replace"))
            elif kind == b":":
                value = _number(rest, line)
            elif kind == b"$":
                n = _length(rest, line, MAX_BULK, "bulk string")
                if n < 0:
                    value = None
                else:
                    self._fill(n + 2)
                    end = self._pos + n
                    if self._buf[end : end + 2] != _CRLF:
                        raise ProtocolError(f"bulk string of {n} bytes not followed by CRLF")
                    value = bytes(self._buf[self._pos : end])
                    self._pos = end + 2
            elif kind == b"*":
                n = _length(rest, line, MAX_ARRAY, "array")
                if n > 0:
                    if len(stack) >= MAX_DEPTH:
                        raise ProtocolError(f"arrays nested deeper than {MAX_DEPTH}")
                    stack.append(([], n))
                    continue
                value = None if n < 0 else []
            else:
                raise ProtocolError(f"unknown reply type {line[:60]!r}")
            while stack:  # hand the value to its array; a full array is itself a value
                items, n = stack[-1]
                items.append(value)
                if len(items) < n:
                    break
                stack.pop()
                value = items
            else:
                return value

    def _call(self, commands: Sequence[Sequence[Any]]) -> list[Reply]:
        """Send ``commands`` in one write and read their replies (errors as values), all within
        ``timeout`` seconds: waiting for the lock, connecting, sending and reading."""
        deadline = time.monotonic() + self.timeout
        if not self._lock.acquire(timeout=max(self.timeout, 0.0)):
            raise TimeoutError(f"the connection stayed busy for {self.timeout:g}s")
        try:
            self._deadline = deadline
            if self._sock is None:
                self._connect()
            return self._roundtrip(commands)
        except (OSError, ProtocolError):
            self.close()  # never reuse a connection whose state is unknown
            raise
        except ValueError as e:
            self.close()
            raise ProtocolError(f"malformed reply: {e}") from None
        finally:
            self._lock.release()

    # -- commands -----------------------------------------------------------------------------

    def execute(self, *args: Any) -> Reply:
        """One command; an error reply is raised as :class:`RespError`."""
        reply = self._call([args])[0]
        if isinstance(reply, RespError):
            raise reply
        return reply

    def pipeline(self, commands: Sequence[Sequence[Any]], transaction: bool = False) -> list[Reply]:
        """Many commands in one round trip; replies in order, error replies as values.

        ``transaction``: wrapped in MULTI/EXEC, so all or none apply; a command refused when
        queued (e.g. OOM) aborts the transaction and is raised."""
        if not transaction:
            return self._call(commands)
        replies = self._call([("MULTI",), *commands, ("EXEC",)])
        for r in replies[:-1]:
            if isinstance(r, RespError):
                raise r
        result = replies[-1]
        if isinstance(result, RespError):
            raise result
        if result is None:
            raise RespError("EXECABORT transaction discarded")
        return result

    def script(self, source: str, keys: Sequence[Any], args: Sequence[Any]) -> Reply:
        """EVALSHA, falling back to EVAL when the server does not know the script yet."""
        sha = self._scripts.get(source)
        if sha is None:
            sha = self._scripts[source] = hashlib.sha1(source.encode()).hexdigest().encode()
        reply = self._call([("EVALSHA", sha, len(keys), *keys, *args)])[0]
        if isinstance(reply, RespError) and str(reply).startswith("NOSCRIPT"):
            reply = self._call([("EVAL", source, len(keys), *keys, *args)])[0]
        if isinstance(reply, RespError):
            raise reply
        return reply

    def scan_iter(self, match: str, count: int = 1000) -> Iterator[bytes]:
        cursor: Any = b"0"
        while True:
            cursor, keys = self.execute("SCAN", cursor, "MATCH", match, "COUNT", count)
            yield from keys
            if cursor == b"0":
                return

    def hgetall(self, key: str) -> dict[bytes, bytes]:
        flat = self.execute("HGETALL", key)
        return dict(zip(flat[::2], flat[1::2]))

    def info(self) -> dict[str, Any]:
        """INFO as a dict; integer fields as ints."""
        out: dict[str, Any] = {}
        for line in self.execute("INFO").decode(errors="replace").splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                try:
                    out[k] = int(v)
                except ValueError:
                    out[k] = v
        return out
