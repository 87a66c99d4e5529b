"""Posting a delivery to a receiver, guarded against server-side request forgery.

A manager types the address, but the worker posts from inside the clinic's network: without
a guard, `http://169.254.169.254/` or `http://localhost:5432/` would turn it into a probe of
internal services. So, unless `WEBHOOKS_ALLOW_PRIVATE_URLS` is on (development and tests),
only `https://` is accepted and every address the host name resolves to must be public; the
connection then goes to the address that was checked (a second lookup could answer
differently), with the host name kept for TLS and the `Host` header. Redirects are not
followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.encoding import iri_to_uri


class RefusedAddress(Exception):
    """The address may not be posted to; `str()` says why, for the manager."""


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", False))


def timeout() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", 5))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


# NAT64 (RFC 6052, 8215): a gateway turns these into the IPv4 address in their last 32 bits,
# and the local-use prefix is the network's own.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `address` is on the public internet, and so is any IPv4 address it carries:
    Python's `is_global` calls 64:ff9b::a00:5 (NAT64 to 10.0.0.5), 2002:a00:5:: (6to4) or
    ::a00:5 (IPv4-compatible) global, though each reaches 10.0.0.5 where it is routed."""
    if not address.is_global:
        return False
    if address.version == 4:
        return True
    if address in NAT64_LOCAL:
        return False
    last_32_bits = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    carried = [address.ipv4_mapped, address.sixtofour, address.teredo and address.teredo[1]]
    if address in NAT64 or int(address) >> 32 == 0:
        carried.append(last_32_bits)
    return all(inner.is_global for inner in carried if inner)


def parse(url: str, *, private_ok: bool | None = None) -> Target:
    """The parts of `url`, refused if they can never be posted to (no host, a scheme other
    than https, or http without the setting). Host names are checked when posting."""
    private_ok = allow_private() if private_ok is None else private_ok
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedAddress("This is not a valid address.") from error
    allowed = ("https", "http") if private_ok else ("https",)
    if parts.scheme not in allowed:
        raise RefusedAddress("The address must start with https://.")
    if not parts.hostname:
        raise RefusedAddress("The address has no host name.")
    if parts.username or parts.password:
        raise RefusedAddress("The address may not carry a user name or password.")
    if not private_ok:
        try:
            literal = ipaddress.ip_address(parts.hostname)
        except ValueError:
            literal = None
        if (literal is not None and not is_public(literal)) or parts.hostname == "localhost":
            raise RefusedAddress("The address must be reachable on the public internet.")
    # HTTP carries only ASCII: an address typed with other letters (…/réception) is sent
    # percent-encoded, as a browser would.
    path = iri_to_uri((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    default_port = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default_port, path)


def _lookup(target: Target, within: float | None) -> list:
    """`getaddrinfo`, given up after `within` seconds. The lookup cannot be interrupted (the C
    library waits for each name server in turn, tens of seconds for one that never answers),
    so it runs in a thread of its own, left to finish in the background when time is up: the
    worker, and the emails it also sends, go on."""
    if within is None:
        return socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    answer: dict = {}

    def look_up():
        try:
            answer["found"] = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except Exception as error:  # noqa: BLE001 - handed to the caller's thread below
            answer["error"] = error

    thread = threading.Thread(target=look_up, name="webhook-dns", daemon=True)
    thread.start()
    thread.join(max(within, 0))
    if thread.is_alive():
        raise TimeoutError(
            f"The host name {target.host} was not resolved within {within:g} seconds."
        )
    if "error" in answer:
        raise answer["error"]
    return answer["found"]


def public_address(
    target: Target, *, private_ok: bool | None = None, within: float | None = None
) -> str:
    """The IP address to connect to: every address the name resolves to must be public
    (a name that also resolves to a private address is refused, not half-used). With `within`,
    a lookup still unanswered after that many seconds raises `TimeoutError`."""
    private_ok = allow_private() if private_ok is None else private_ok
    try:
        found = _lookup(target, within)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedAddress(f"The host name {target.host} could not be resolved.") from error
    addresses = [info[4][0] for info in found]
    if not addresses:
        raise RefusedAddress(f"The host name {target.host} could not be resolved.")
    if not private_ok:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address.split("%")[0])):
                raise RefusedAddress(
                    f"{target.host} resolves to a private or local address ({address})."
                )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        # Kept on the connection during the handshake too, so the post's deadline can cut it.
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address connected to.
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


def _cut_off(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The whole post's time is up: shut the socket, so a read blocked in the worker's thread
    returns at once."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # closed meanwhile


def post(url: str, *, data: bytes, headers: dict[str, str]) -> int:
    """POST `data` to `url` and return the response's status code. Raises `RefusedAddress`,
    or `OSError` / `http.client.HTTPException` when the receiver cannot be reached, and
    `TimeoutError` when it has not answered in full within the timeout. The timeout bounds the
    whole post, not only each read: a receiver sending its answer a byte at a time would
    otherwise hold the worker as long as it liked. Looking the name up counts too: a name
    server that never answers would hold it as well."""
    limit = timeout()
    started = time.monotonic()
    target = parse(url)
    address = public_address(target, within=limit)
    left = max(limit - (time.monotonic() - started), 0.001)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, address=address, timeout=left)
    expired = threading.Event()
    deadline = threading.Timer(left, _cut_off, args=(connection, expired))
    deadline.daemon = True
    deadline.start()
    too_slow = f"The receiver did not answer in full within {limit:g} seconds."
    try:
        status = _send(connection, target, data=data, headers=headers)
    except (OSError, http.client.HTTPException) as failure:
        if expired.is_set():
            raise TimeoutError(too_slow) from failure
        raise
    finally:
        deadline.cancel()
        connection.close()
    if expired.is_set():
        # Cut off mid-answer: what was read (headers ended early by the shutdown) says nothing.
        raise TimeoutError(too_slow)
    return status


def _send(connection, target: Target, *, data: bytes, headers: dict[str, str]) -> int:
    connection.request(
        "POST",
        target.path,
        body=data,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "clinic-webhooks/1",
            **headers,
        },
    )
    response = connection.getresponse()
    response.read(1024)  # the receiver's body is not kept; a little is read to finish
    return response.status
