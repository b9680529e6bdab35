"""A small Redis client: RESP2 over one socket, for the remote tier's dozen commands.

Written by hand rather than imported because ``import redis`` costs ~160 ms (redis-py loads
``redis.asyncio`` and ``asyncio`` whatever you use): more than compiling a small function, so
a fresh worker's first remote hit would be slower than no remote tier at all. This module
imports in about a millisecond. It does only what the tier needs, the way the tier needs it:

* one connection per client, used under a lock (the tier's calls are short); any socket or
  protocol error closes it, so a half-read reply can never answer the next command, and the
  next call reconnects;
* no retries and no waiting beyond ``timeout`` on any socket operation (the tier owns retry
  and failure policy);
* server error replies are :class:`RespError` (the connection stays usable); socket trouble
  is ``OSError``; a reply that is not RESP is :class:`ProtocolError`.

URLs are redis-py's: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` for TLS
(certificates verified against the system's CAs, or ``?ssl_ca_certs=/path/ca.pem``; a client
certificate with ``ssl_certfile=`` and ``ssl_keyfile=``; ``ssl_cert_reqs=none`` turns
verification off for self-signed test servers), ``unix:///path/to/socket[?db=N]``, and
``?db=N`` anywhere.
"""
from __future__ import annotations

import hashlib
import socket
import threading
from typing import Any, Iterator, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["RespClient", "RespError", "ProtocolError", "parse_url"]

Reply = Any  # bytes | int | None | list[Reply] | RespError
_CRLF = b"\r\n"


class RespError(Exception):
    """An error reply from the server (``-ERR ...``, ``-OOM ...``, ``-NOSCRIPT ...``)."""


class ProtocolError(RespError):
    """The bytes received are not a RESP2 reply (the connection is closed)."""


def parse_url(url: str) -> dict[str, Any]:
    """Connection settings from a redis-py style URL; ValueError names what is wrong."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"remote_cache URL {url!r}: scheme must be redis://, rediss:// or unix://")
    out: dict[str, Any] = {"tls": scheme == "rediss", "unix": None, "host": None, "port": 6379,
                           "username": unquote(parts.username) if parts.username else None,
                           "password": unquote(parts.password) if parts.password else None,
                           "db": 0, "verify": query.get("ssl_cert_reqs", "required") != "none",
                           "ca": query.get("ssl_ca_certs"), "cert": query.get("ssl_certfile"),
                           "key": query.get("ssl_keyfile")}
    db = query.get("db")
    if scheme == "unix":
        if not parts.path:
            raise ValueError(f"remote_cache URL {url!r}: unix:// needs a socket path")
        out["unix"] = unquote(parts.path)
    else:
        if not parts.hostname:
            raise ValueError(f"remote_cache URL {url!r}: no host")
        out["host"] = parts.hostname
        try:
            out["port"] = parts.port or 6379
        except ValueError as e:
            raise ValueError(f"remote_cache URL {url!r}: bad port ({e})") from None
        path = parts.path.strip("/")
        if path and db is None:
            db = path
    if db is not None:
        try:
            out["db"] = int(db)
        except ValueError:
            raise ValueError(f"remote_cache URL {url!r}: database {db!r} is not a number") from None
    return out


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


class RespClient:
    """A Redis client for one URL; thread-safe (one connection, used under a lock)."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._cfg = parse_url(url)
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._file: Any = None
        self._scripts: dict[str, bytes] = {}

    # -- connection ----------------------------------------------------------------------------

    def _connect(self) -> None:
        cfg = self._cfg
        if cfg["unix"]:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(cfg["unix"])
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((cfg["host"], cfg["port"]), timeout=self.timeout)
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
                    sock = ctx.wrap_socket(sock, server_hostname=cfg["host"])
                except OSError:
                    sock.close()
                    raise
        self._sock, self._file = sock, sock.makefile("rb")
        try:
            hello = []
            if cfg["password"] is not None:
                hello.append(("AUTH", cfg["username"], cfg["password"]) if cfg["username"]
                             else ("AUTH", cfg["password"]))
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
        f, s = self._file, self._sock
        self._file = self._sock = None
        for x in (f, s):
            if x is not None:
                try:
                    x.close()
                except OSError:
                    pass

    def _roundtrip(self, commands: Sequence[Sequence[Any]]) -> list[Reply]:
        if not commands:
            return []
        assert self._sock is not None
        self._sock.sendall(b"".join(_encode(cmd) for cmd in commands))
        return [self._read() for _ in commands]

    def _read(self) -> Reply:
        line = self._file.readline()
        if not line.endswith(_CRLF):
            raise ProtocolError("the connection closed in the middle of a reply" if not line
                                else f"reply line not terminated: {line[:60]!r}")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self._file.read(n + 2)
            if len(data) != n + 2:
                raise ProtocolError("the connection closed in the middle of a bulk reply")
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise ProtocolError(f"unknown reply type {line[:60]!r}")

    def _call(self, commands: Sequence[Sequence[Any]]) -> list[Reply]:
        """Send ``commands`` in one write and read their replies (errors as values)."""
        with self._lock:
            try:
                if self._sock is None:
                    self._connect()
                return self._roundtrip(commands)
            except (OSError, ProtocolError):
                self.close()  # never reuse a connection whose state is unknown
                raise
            except ValueError as e:  # a length or integer that is not a number
                self.close()
                raise ProtocolError(f"malformed reply: {e}") from None

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
