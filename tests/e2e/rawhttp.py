"""Raw HTTP/1.1 over a plain socket, for requests http.client cannot or will not send: lying or missing
Content-Length, chunked bodies (valid or not), bodies sent slowly or never finished, odd methods, request targets
with encoded slashes and dot segments sent exactly as written.

    req = build("POST", "/openapi/system/registry", b'{"a":1}')          # bytes, with Host, auth, Content-Length
    resp = exchange(req)                                                   # RawResponse
    resp = exchange([head, Pause(0.05), b"x", ...])                        # sent piece by piece

A response is read until the server closes the connection (every request says Connection: close), until a
complete response has arrived, or until the timeout; a timeout without any response gives status None.
"""

import json
import os
import socket
import time
import urllib.parse
from collections import namedtuple

RawResponse = namedtuple("RawResponse", "status reason headers body raw elapsed json error")


class Pause:
    """In a list of pieces to send: sleep this many seconds before the next piece."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __repr__(self):
        return f"Pause({self.seconds})"


def address():
    """(host, port) of the stack's nginx, from IMAGEREG_URL."""
    url = os.environ.get("IMAGEREG_URL")
    if not url:
        raise RuntimeError("IMAGEREG_URL is not set (eval the output of tests/stack-up.sh first)")
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port or 80


def host_header():
    host, port = address()
    return f"{host}:{port}"


def build(method, target, body=None, headers=None, content_length="auto", auth=True, chunked=None):
    """The bytes of one request.

    body: bytes (or str, UTF-8 encoded) sent after the head; content_length: "auto" (the body's length when there
    is a body), None (no header), or an int / str written as given (it may lie); chunked: a list of chunks to send
    with Transfer-Encoding: chunked (properly framed, last-chunk included), or raw framed bytes when it is bytes.
    headers: extra (name, value) pairs or a dict; auth adds Authorization: Bearer $IMAGEREG_TOKEN.
    """
    if isinstance(body, str):
        body = body.encode()
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header()}"]
    token = os.environ.get("IMAGEREG_TOKEN")
    if auth and token:
        lines.append(f"Authorization: Bearer {token}")
    extra = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {name.lower() for name, _ in extra}
    if "content-type" not in names and (body is not None or chunked is not None):
        extra.append(("Content-Type", "application/json"))
    if chunked is not None:
        extra.append(("Transfer-Encoding", "chunked"))
        if isinstance(chunked, (bytes, bytearray)):
            body = bytes(chunked)
        else:
            body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunked if c) + b"0\r\n\r\n"
    elif content_length == "auto":
        if body is not None:
            extra.append(("Content-Length", str(len(body))))
    elif content_length is not None:
        extra.append(("Content-Length", str(content_length)))
    if "connection" not in names:
        extra.append(("Connection", "close"))
    lines += [f"{name}: {value}" for name, value in extra]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (body or b"")


def _decode_chunked(data):
    """(body, complete) of a chunked response body."""
    out, pos = b"", 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return out, False
        size_text = data[pos:eol].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return out, False
        if size == 0:
            return out, True
        start = eol + 2
        if len(data) < start + size + 2:
            return out + data[start:start + size], False
        out += data[start:start + size]
        pos = start + size + 2


def _parse(raw):
    """(status, reason, headers, body, complete) of what has been received so far; status None if no head yet."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None, None, {}, b"", False
    head, rest = raw[:end].decode("latin-1"), raw[end + 4:]
    status_line, *header_lines = head.split("\r\n")
    parts = status_line.split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return None, status_line, {}, rest, False
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, complete = _decode_chunked(rest)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        body, complete = rest[:length], len(rest) >= length
    else:
        body, complete = rest, False
    return status, parts[2] if len(parts) > 2 else "", headers, body, complete


def exchange(pieces, timeout=15.0, addr=None):
    """Send the request (bytes, or a list of bytes and Pause items) and read the response.

    timeout bounds the whole exchange (connect, send, read), so a stalled server cannot hang the caller. A server
    that answers early and closes (e.g. 413 before the body is sent) is fine: send errors are ignored and the
    answer is still read.
    """
    if isinstance(pieces, (bytes, bytearray)):
        pieces = [bytes(pieces)]
    start = time.monotonic()
    deadline = start + timeout
    raw, error = b"", None
    sock = socket.create_connection(addr or address(), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for piece in pieces:
                if isinstance(piece, Pause):
                    time.sleep(max(0.0, min(piece.seconds, deadline - time.monotonic())))
                    continue
                if time.monotonic() >= deadline:
                    error = "timed out while sending"
                    break
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                sock.sendall(piece)
        except OSError as exc:      # the server answered and closed early; its answer may still be readable
            error = f"send: {exc.__class__.__name__}: {exc}"
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                error = (error + "; " if error else "") + "timed out while reading"
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                error = (error + "; " if error else "") + "timed out while reading"
                break
            except OSError as exc:
                error = (error + "; " if error else "") + f"recv: {exc.__class__.__name__}: {exc}"
                break
            if not chunk:
                break
            raw += chunk
            if _parse(raw)[4]:
                break
    finally:
        sock.close()
    status, reason, headers, body, _ = _parse(raw)
    try:
        parsed = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        parsed = None
    return RawResponse(status, reason, headers, body, raw, time.monotonic() - start, parsed, error)


def describe(resp, limit=300):
    """One line: status, content type and the start of the body, for failure messages and reports."""
    if resp.status is None:
        return f"no response after {resp.elapsed:.1f}s ({resp.error}); got {resp.raw[:limit]!r}"
    text = resp.body.decode("utf-8", "replace").replace("\n", "\\n")
    if len(text) > limit:
        text = text[:limit] + "..."
    return f"{resp.status} [{resp.headers.get('content-type', '')}] {text}"
