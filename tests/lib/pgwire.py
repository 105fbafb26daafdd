"""One PostgreSQL session per test process, kept open, that answers a script as `psql -X -A -t -q` would.

Why: on this machine a psql process and the server backend it starts cost about 70 ms of CPU together (mostly the page
faults of fork and exec), and an end-to-end run made about 1,700 of them. A session kept open answers the same
script for the price of a round trip.

What a script does here is what it did in `psql -X -A -t -q -v ON_ERROR_STOP=1 -v p1=... <script`:
- it is split into statements as psql's lexer splits it (quotes, dollar quotes, comments, parentheses) and each
  statement is sent on its own, in autocommit, stopping at the first error: BEGIN ... COMMIT, CREATE DATABASE and
  VACUUM behave as in psql;
- :'pN' and :"pN" become the quoted literal and identifier psql makes of variable pN, :pN its bare text;
- result rows print as psql -A -t prints them: fields joined by '|', NULL as nothing, one line a row;
- afterwards the session is made as good as new: an open transaction is rolled back and DISCARD ALL drops whatever
  the script set (SET, SET ROLE, temporary tables, prepared statements, LISTEN, advisory locks).
A session the server has closed (a restart, pg_terminate_backend) is noticed before the next script and opened again.

Supported: the PG* variables with one host (a socket directory or a name), trust authentication (the clusters of
tests/lib/pg.sh). Anything else raises PgError, and the caller can fall back to psql itself.
"""

import os
import select
import socket
import struct
import threading


class PgError(RuntimeError):
    """A script failed; str() starts as psql's message does ("ERROR:  ..."), with DETAIL and HINT lines."""

    def __init__(self, text, sqlstate=None):
        super().__init__(text)
        self.sqlstate = sqlstate


# ---------------------------------------------------------------------------------------------------------------
# The script: statements and variables, as psql's lexer sees them
# ---------------------------------------------------------------------------------------------------------------

def quote_literal(value):
    """The literal psql makes of :'var' (standard_conforming_strings is on in every supported server)."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(value):
    """The identifier psql makes of :"var"."""
    return '"' + str(value).replace('"', '""') + '"'


def _dollar_tag(text, i):
    """The dollar-quote tag starting at text[i] ('$', '$x$'...), or None where a '$' does not open one ($1)."""
    j = i + 1
    while j < len(text) and (text[j].isalnum() or text[j] == "_"):
        j += 1
    if j < len(text) and text[j] == "$" and not text[i + 1:j][:1].isdigit():
        return text[i:j + 1]
    return None


def split_script(text, variables):
    """The statements of text, variables interpolated, each without its ';'. Statements that are only blanks and
    comments are left out, as psql sends nothing for them."""
    statements, out, i, depth = [], [], 0, 0
    n = len(text)

    def flush():
        stmt = "".join(out).strip()
        if _has_code(stmt):
            statements.append(stmt)
        out.clear()

    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "-" and nxt == "-":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(text[i:end])
            i = end
        elif c == "/" and nxt == "*":
            level, j = 1, i + 2
            while j < n and level:
                if text.startswith("/*", j):
                    level, j = level + 1, j + 2
                elif text.startswith("*/", j):
                    level, j = level - 1, j + 2
                else:
                    j += 1
            out.append(text[i:j])
            i = j
        elif c in "'\"":
            escapes = c == "'" and i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum()
                                                                                or text[i - 2] == "_"))
            j = i + 1
            while j < n:
                if escapes and text[j] == "\\":
                    j += 2
                elif text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                    else:
                        break
                else:
                    j += 1
            out.append(text[i:j + 1])
            i = j + 1
        elif c == "$" and _dollar_tag(text, i):
            tag = _dollar_tag(text, i)
            end = text.find(tag, i + len(tag))
            end = n if end < 0 else end + len(tag)
            out.append(text[i:end])
            i = end
        elif c == ":" and nxt != ":" and (i == 0 or text[i - 1] != ":"):
            i = _interpolate(text, i, variables, out)
        elif c == "(":
            depth += 1
            out.append(c)
            i += 1
        elif c == ")":
            depth = max(0, depth - 1)
            out.append(c)
            i += 1
        elif c == ";" and depth == 0:
            flush()
            i += 1
        else:
            out.append(c)
            i += 1
    flush()
    return statements


def _interpolate(text, i, variables, out):
    """At a ':' outside quotes: append the variable's text if one is named there (as psql does), else the ':'.
    Returns the index after what was consumed."""
    quote = text[i + 1] if i + 1 < len(text) and text[i + 1] in "'\"" else ""
    start = i + 1 + len(quote)
    j = start
    while j < len(text) and (text[j].isalnum() or text[j] == "_"):
        j += 1
    name = text[start:j]
    if name and name in variables and (not quote or (j < len(text) and text[j] == quote)):
        value = variables[name]
        out.append(quote_literal(value) if quote == "'" else quote_ident(value) if quote == '"' else str(value))
        return j + len(quote)
    out.append(":")
    return i + 1


def _has_code(stmt):
    """True if stmt holds more than blanks and comments."""
    return bool(_without_leading_comments(stmt).strip())


def _without_leading_comments(stmt):
    """stmt without its leading -- and /* */ comments (enough to tell an empty statement)."""
    s = stmt.lstrip()
    while s.startswith("--") or s.startswith("/*"):
        if s.startswith("--"):
            end = s.find("\n")
            s = "" if end < 0 else s[end + 1:].lstrip()
        else:
            end = s.find("*/")
            s = "" if end < 0 else s[end + 2:].lstrip()
    return s


# ---------------------------------------------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------------------------------------------

def _target(database=None):
    """(socket address family, address, user, database) from the PG* variables, as libpq reads them."""
    host = os.environ.get("PGHOST", "/var/run/postgresql")
    port = int(os.environ.get("PGPORT", "5432"))
    user = os.environ.get("PGUSER") or os.environ.get("USER", "postgres")
    dbname = database or os.environ.get("PGDATABASE") or user
    if "," in host or "," in str(port):
        raise PgError("pgwire: several hosts are not supported")
    if host.startswith("/"):
        return socket.AF_UNIX, f"{host}/.s.PGSQL.{port}", user, dbname
    return socket.AF_INET, (host, port), user, dbname


class Session:
    """One open connection, used by one thread (run() keeps one per thread)."""

    def __init__(self, database=None, timeout=60):
        family, address, user, dbname = self.target = _target(database)
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.buf = b""
        try:
            self.sock.connect(address)
            params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in
                              (("user", user), ("database", dbname), ("application_name", "tests-pgwire"),
                               ("client_encoding", "UTF8")))
            body = struct.pack("!i", 196608) + params + b"\0"
            self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
            while True:
                kind, payload = self._message()
                if kind == b"R" and struct.unpack("!i", payload[:4])[0] != 0:
                    raise PgError("pgwire: the server asks for a password; only trust authentication is supported")
                if kind == b"E":
                    raise _error(payload)
                if kind == b"Z":
                    self.status = payload[:1]
                    break
        except (OSError, PgError):
            self.sock.close()
            raise

    def close(self):
        try:
            self.sock.sendall(b"X\0\0\0\4")
        except OSError:
            pass
        self.sock.close()

    def alive(self):
        """False if the server has closed the session or sent something unasked (a FATAL before closing)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def _recv_exact(self, count):
        while len(self.buf) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("the server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:count], self.buf[count:]
        return data

    def _message(self):
        head = self._recv_exact(5)
        length = struct.unpack("!i", head[1:])[0]
        return head[:1], self._recv_exact(length - 4)

    def execute(self, statement):
        """Send one statement; its rows as psql -A -t lines. Raises PgError on an error."""
        data = statement.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", len(data) + 4) + data)
        lines, error = [], None
        while True:
            kind, payload = self._message()
            if kind == b"D":
                lines.append("|".join(_fields(payload)))
            elif kind == b"E":
                error = _error(payload)
            elif kind in (b"G", b"H"):
                # COPY ... STDIN/STDOUT needs psql's own data handling: refuse it (CopyFail ends a COPY FROM; the
                # rows of a COPY TO are read and dropped below) and say so.
                error = PgError("pgwire: COPY with STDIN or STDOUT is not supported here; run psql for it")
                if kind == b"G":
                    reason = b"not supported\0"
                    self.sock.sendall(b"f" + struct.pack("!i", 4 + len(reason)) + reason)
            elif kind == b"Z":
                self.status = payload[:1]
                if error:
                    raise error
                return lines

    def run(self, script, variables):
        """Run a psql script; its -A -t output. Stops at the first error (raised) and then leaves the session clean."""
        lines = []
        try:
            for statement in split_script(script, variables):
                lines += self.execute(statement)
        finally:
            self.clean()
        return "".join(line + "\n" for line in lines)

    def clean(self):
        """Make the session as a new one would be: no open transaction, no session state."""
        if self.status != b"I":
            self.execute("ROLLBACK")
        self.execute("DISCARD ALL")


def _fields(payload):
    count = struct.unpack("!h", payload[:2])[0]
    pos, fields = 2, []
    for _ in range(count):
        size = struct.unpack("!i", payload[pos:pos + 4])[0]
        pos += 4
        if size < 0:
            fields.append("")
        else:
            fields.append(payload[pos:pos + size].decode("utf-8", "replace"))
            pos += size
    return fields


def _error(payload):
    """A PgError with the text psql prints: 'ERROR:  message', then DETAIL and HINT lines."""
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[part[:1]] = part[1:].decode("utf-8", "replace")
    text = f"{fields.get(b'S', 'ERROR')}:  {fields.get(b'M', '')}"
    if b"D" in fields:
        text += f"\nDETAIL:  {fields[b'D']}"
    if b"H" in fields:
        text += f"\nHINT:  {fields[b'H']}"
    return PgError(text, fields.get(b"C"))


# ---------------------------------------------------------------------------------------------------------------
# The entry point the helpers use
# ---------------------------------------------------------------------------------------------------------------

_local = threading.local()


def run(script, *params, database=None):
    """The -A -t output of script with params as variables p1, p2, ...; raises PgError on an error.

    The session on the PG* variables' database is kept for the next call (opened again if the server closed it or the
    variables changed); one on another database is closed afterwards, so that it never holds up DROP DATABASE or a
    database used as a template."""
    variables = {f"p{i}": value for i, value in enumerate(params, 1)}
    if database:
        session = Session(database)
        try:
            return session.run(script, variables)
        finally:
            session.close()
    sessions = _local.__dict__.setdefault("sessions", {})
    key = _target()
    session = sessions.get(key)
    if session is None or not session.alive():
        if session is not None:
            session.close()
        session = sessions[key] = Session()
    try:
        return session.run(script, variables)
    except OSError:
        sessions.pop(key, None)
        session.close()
        raise
