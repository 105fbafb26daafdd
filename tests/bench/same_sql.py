"""tests/bench/same_sql.py - checks that ref_pg.c prepares the registry statements of cgi/db.c, text for text.

Usage: python3 same_sql.py cgi/db.c tests/bench/ref_pg.c.  Exit 0 when the four statements (list, insert, update,
delete) have the same parameter counts and SQL in both; else prints the differences and exits 1. (The reference's
registry_get reads one row with the list's columns and registry_page one page of a provider's rows: imagereg answers
both from its cache and has no such statements.)
The libfcgi+libpq reference is only a fair yardstick for imagereg's writes while it runs the same SQL.
"""

import re
import sys

LITERALS = r'(?:\s*\\?\s*"(?:[^"\\]|\\.)*")+'
NAMES = ("registry_list", "registry_insert", "registry_update", "registry_delete")


def join_literals(text):
    """Adjacent C string literals joined the way the compiler joins them."""
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', text))


def statements(path):
    """{name: (nparams, sql)} from a statements[] table of {"name", nparams, [read_only,] "sql" ...} lines."""
    with open(path) as f:
        src = f.read()
    cols = re.search(r"#define REGISTRY_COLUMNS(" + LITERALS + ")", src)
    if cols:
        src = src.replace("REGISTRY_COLUMNS", '"' + join_literals(cols.group(1)) + '"')
    out = {}
    for m in re.finditer(r'\{\s*"(registry_\w+)",\s*(\d+),(?:\s*\d+,)?(' + LITERALS + r")\s*[,}]", src):
        out[m.group(1)] = (int(m.group(2)), join_literals(m.group(3)))
    return out


def main():
    want, got = statements(sys.argv[1]), statements(sys.argv[2])
    bad = 0
    for name in NAMES:
        if name not in want or want.get(name) != got.get(name):
            print(f"  {name}:\n    {sys.argv[1]}: {want.get(name)}\n    {sys.argv[2]}: {got.get(name)}", file=sys.stderr)
            bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    main()
