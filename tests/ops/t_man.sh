#!/usr/bin/env bash
# t_man: the manual pages are clean mdoc and document what the code has.
#   - `mandoc -T lint -W warning` prints nothing for cgi/man/imagereg-fcgi.8,
#     imagereg.1 and imagereg.conf.5 (STYLE notes such as "referenced manual
#     not found" for pages not installed yet are below that level);
#   - every setting of the table in cgi/config.c (file key, variable, default)
#     has an entry `.It Cm KEY` in imagereg.conf.5 naming its variable and
#     giving `Default:` with the same default, and a `KEY = DEFAULT` line in
#     nginx/imagereg.conf.example with its variable in the comment above;
#   - the keys the deployment relies on are among them (a table that lost one
#     fails here, not in production);
#   - every option main.c parses is in imagereg-fcgi.8, every command of the
#     cli.c table and every variable the CLI reads is in imagereg.1.
set -u
. "$(dirname "$0")/lib.sh"
dir=$(ops_need_dir "${1:-}")
cd "$OPS_ROOT" || ops_fail "no repository"

ops_need_cmd mandoc mandoc

pages="cgi/man/imagereg-fcgi.8 cgi/man/imagereg.1 cgi/man/imagereg.conf.5"
for page in $pages; do
	[ -s "$page" ] || ops_fail "$page is missing"
	mandoc -T lint -W warning "$page" >"$dir/lint.out" 2>&1
	if [ -s "$dir/lint.out" ]; then
		cat "$dir/lint.out"
		ops_fail "mandoc lint: $(head -n 1 "$dir/lint.out")"
	fi
	# mdoc, not man(7): the page must start its prologue with .Dd.
	grep -q '^\.Dd ' "$page" && ! grep -q '^\.TH ' "$page" || ops_fail "$page is not mdoc (.Dd/.Dt, no .TH)"
done
ops_note "mandoc -T lint -W warning: clean ($pages)"

# The keys the brief of the deployment lists: a settings table without one of
# them is an error too.  Anything else config.c adds is checked the same way.
python3 - "$OPS_ROOT" <<'EOF' || exit 1
import re, sys
root = sys.argv[1]
required = ["dsn", "admin_dsn", "key_file", "listen", "workers", "max_body",
            "statement_timeout", "connect_timeout", "log_level", "auth", "cors_origins"]

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

def read(path):
    with open(f"{root}/{path}", encoding="utf-8") as f:
        return f.read()

# Settings table lines: { "key", "IMAGEREG_X", TYPE, offsetof(...), "default", ...
# Before the file keys existed they began with the variable: { "IMAGEREG_X", ...;
# the key is then the variable in lower case without IMAGEREG_ (and _ms).
settings = {}
for line in read("cgi/config.c").splitlines():
    if not re.match(r'\s*\{\s*"', line) or '"IMAGEREG_' not in line:
        continue
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
    if strings[0].startswith("IMAGEREG_"):
        env = strings[0]
        key = re.sub(r"_ms$", "", env[len("IMAGEREG_"):].lower())
    else:
        key, env = strings[0], strings[1]
    m = re.search(r'offsetof\([^)]*\)\s*,\s*"((?:[^"\\]|\\.)*)"', line)
    settings[key] = (env, m.group(1) if m else None)
if not settings:
    fail("found no settings in cgi/config.c (has the table's format changed?)")
missing = [k for k in required if k not in settings]
if missing:
    fail("cgi/config.c has no setting " + ", ".join(missing))
if any(d is None for _, d in settings.values()):
    fail("cannot read the defaults of " + ", ".join(k for k, (_, d) in settings.items() if d is None))
print("# settings in cgi/config.c: " + " ".join(sorted(settings)))

# imagereg.conf.5: one .It Cm KEY entry each, with its variable and default.
page = read("cgi/man/imagereg.conf.5")
entries = {}
cur = None
for line in page.splitlines():
    m = re.match(r"\.It Cm (\S+)(.*)", line)
    if m:
        cur = m.group(1)
        entries[cur] = line + "\n"
    elif line.startswith((".It", ".El", ".Sh")):
        cur = None
    elif cur:
        entries[cur] += line + "\n"
for key, (env, default) in settings.items():
    text = entries.get(key)
    if text is None:
        fail(f"imagereg.conf.5 has no entry .It Cm {key}")
    head = text.splitlines()[0]
    if env not in head:
        fail(f"imagereg.conf.5: the entry of {key} does not name {env}")
    m = re.search(r"Default:(.*?)(?:\n\.It|\Z)", text, re.S)
    if m is None:
        fail(f"imagereg.conf.5: the entry of {key} gives no 'Default:'")
    said = re.sub(r"^\.\w+\s+", "", m.group(1).strip(), flags=re.M)
    want = default if default != "" else "empty"
    if not re.match(r"\s*" + re.escape(want) + r"\b", said.replace("\n", " ")):
        fail(f"imagereg.conf.5: default of {key} is {default!r} in config.c, the page says {said.splitlines()[0]!r}")
    if env not in page.split("\n.Sh ENVIRONMENT", 1)[-1]:
        fail(f"imagereg.conf.5: ENVIRONMENT does not list {env}")

# nginx/imagereg.conf.example: KEY = DEFAULT (or commented out), its variable in the comment above.
example = read("nginx/imagereg.conf.example").splitlines()
for key, (env, default) in settings.items():
    idx = [i for i, l in enumerate(example) if re.match(r"#?\s*" + re.escape(key) + r"\s*=", l)]
    if not idx:
        fail(f"nginx/imagereg.conf.example has no line for {key}")
    i = idx[0]
    value = example[i].split("=", 1)[1].strip()
    if value != default:
        fail(f"nginx/imagereg.conf.example: {key} = {value!r}, config.c's default is {default!r}")
    comment = []
    j = i - 1
    while j >= 0 and example[j].startswith("#"):
        comment.append(example[j])
        j -= 1
    comment = "\n".join(comment)
    if env not in comment or "Default" not in comment:
        fail(f"nginx/imagereg.conf.example: the comment above {key} lacks {env} or its Default")
print("# every setting is documented with its variable and default in imagereg.conf.5 and the example")

# imagereg-fcgi.8: every --option main.c compares argv with.
fcgi = read("cgi/man/imagereg-fcgi.8")
options = sorted(set(re.findall(r'strcmp\(argv\[i\], "--([a-z-]+)"\)', read("cgi/main.c"))))
if not options:
    fail("found no --options in cgi/main.c")
for opt in options:
    if not re.search(r"^\.It Fl -" + re.escape(opt) + r"\b", fcgi, re.M):
        fail(f"imagereg-fcgi.8 has no entry .It Fl -{opt}")
for word in ("SIGTERM", "SIGINT", "SIGHUP", "LISTEN_FDS", "spawn-fcgi", "imagereg.conf 5"):
    if word not in fcgi:
        fail(f"imagereg-fcgi.8 does not mention {word}")
for sec in ("SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "ENVIRONMENT", "FILES", "EXIT STATUS", "SEE ALSO"):
    if f"\n.Sh {sec}\n" not in fcgi:
        fail(f"imagereg-fcgi.8 has no {sec} section")
print("# imagereg-fcgi.8 documents --" + " --".join(options))

# imagereg.1: every command of cli.c's table and the variables the CLI reads.
cli = read("cgi/cli/cli.c")
man1 = read("cgi/man/imagereg.1")
commands = re.findall(r'\{\s*"([a-z-]+)",\s*cmd_\w+\s*[,}]', cli)
if not commands:
    fail("found no commands in cgi/cli/cli.c")
for cmd in commands + ["token create", "token list", "token revoke", "key rotate"]:
    if not re.search(r"^\.It Cm " + re.escape(cmd) + r"\b", man1, re.M):
        fail(f"imagereg.1 has no entry .It Cm {cmd}")
for env in ("IMAGEREG_ADMIN_DSN", "IMAGEREG_DSN", "IMAGEREG_KEY_FILE", "IMAGEREG_SQL_DIR", "IMAGEREG_ADMIN_CONFIG"):
    if not re.search(r"^\.It Ev " + env + r"\b", man1, re.M):
        fail(f"imagereg.1 has no entry .It Ev {env}")
for env in re.findall(r'getenv\("(IMAGEREG_\w+)"\)', cli):
    if env not in man1:
        fail(f"imagereg.1 does not mention {env}, which cli.c reads")
for sec in ("ENVIRONMENT", "EXAMPLES", "EXIT STATUS", "SEE ALSO"):
    if f"\n.Sh {sec}\n" not in man1:
        fail(f"imagereg.1 has no {sec} section")
print("# imagereg.1 documents " + ", ".join(commands))
EOF
exit 0
