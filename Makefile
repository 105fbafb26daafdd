# imagereg - Zadig registry OpenAPI as a FastCGI responder on PostgreSQL.
# `make run` and `make test` install what is missing (Debian, as root).

CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
CFLAGS ?= -O2 -g
WERROR ?=
PG_INCLUDE := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
JSON_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSON_LIBS := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
SQLDIR ?= $(CURDIR)/sql

ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra $(if $(WERROR),-Werror) -Icgi -I$(PG_INCLUDE) $(JSON_CFLAGS) \
	$(CFLAGS)
LIBS = -lfcgi $(JSON_LIBS) -lpq -lssl -lcrypto -lcurl

# BUILD=DIR puts objects and binaries in DIR instead of the tree (make test
# builds a sanitizer copy in cgi/asan this way).
OUT := $(if $(BUILD),$(BUILD)/,cgi/)
UNIT_OUT := $(if $(BUILD),$(BUILD)/,tests/unit/)

# Objects shared by the responder, the CLI and the unit tests.
CORE = $(addprefix $(OUT),app.o auth.o cache.o config.o crypto.o db.o etag.o generation.o handlers.o \
	handlers_browse.o handlers_check.o json_check.o list_query.o log.o log_syslog.o outbound.o regcheck.o \
	regcheck_challenge.o regcheck_net.o resp.o routes.o validate.o)
FCGI_OBJS = $(addprefix $(OUT),main.o privilege.o supervisor.o worker.o) $(CORE)
CLI_OBJS = $(addprefix $(OUT),cli.o cli_check.o cli_docker.o migrate.o admin_sql.o config.o crypto.o generation.o log.o \
	log_syslog.o outbound.o regcheck.o regcheck_challenge.o regcheck_net.o)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(UNIT_OUT)%,$(wildcard tests/unit/test_*.c))

ASAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Packages by the command that proves them: DEB_RUN what `make run` needs
# (build, PostgreSQL, nginx), DEB_TEST what only `make test` adds.
DEB_RUN = nginx:nginx-light curl:curl pkg-config:pkg-config cc:gcc psql:postgresql-client-15 \
	pg_ctlcluster:postgresql-15 openssl:openssl
DEB_TEST = spawn-fcgi:spawn-fcgi python3:python3 clang:clang valgrind:valgrind chromium:chromium \
	mandoc:mandoc systemd-analyze:systemd node:nodejs npm:npm strace:strace man:man-db wrk:wrk \
	gnuplot:gnuplot-nox docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils
DEB_HEADERS_RUN = /usr/include/fcgiapp.h:libfcgi-dev /usr/include/json-c/json.h:libjson-c-dev \
	/usr/include/postgresql/libpq-fe.h:libpq-dev /usr/include/openssl/evp.h:libssl-dev \
	/usr/include/x86_64-linux-gnu/curl/curl.h:libcurl4-openssl-dev
DEB_HEADERS_TEST = /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev
# Another apt run (unattended-upgrades, a colleague) may hold the lock for a while.
APT_GET = apt-get -o DPkg::Lock::Timeout=600

.PHONY: all build deps deps-run deps-test test check run db bench clean unit asan valgrind fuzz install uninstall \
	install-list render
FUZZ_SECONDS ?= 60
all: build
build: $(OUT)imagereg-fcgi $(OUT)imagereg

$(OUT)imagereg-fcgi: $(FCGI_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(FCGI_OBJS) $(LIBS)

$(OUT)imagereg: $(CLI_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) -lpq -lssl -lcrypto -lcurl $(JSON_LIBS)

$(OUT)%.o: cgi/%.c cgi/*.h
	@mkdir -p $(OUT)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The admin CLI's own files live in cgi/cli/; what it shares with the responder stays in cgi/.
$(OUT)%.o: cgi/cli/%.c cgi/*.h cgi/cli/*.h
	@mkdir -p $(OUT)
	$(CC) $(ALL_CFLAGS) -Icgi/cli -c -o $@ $<

# The one thing that depends on where imagereg is installed: the CLI's default sql/.
$(OUT)cli.o: ALL_CFLAGS += -DIMAGEREG_SQLDIR='"$(SQLDIR)"'

# Client messages for named constraints: sql/ owns the list, C includes it.
$(OUT)db.o: cgi/constraints.inc
cgi/constraints.inc: sql/CONSTRAINTS.txt
	awk -F'\t' 'NF == 2 && $$1 !~ /^#/ { printf "\t{ \"%s\", \"%s\" },\n", $$1, $$2 }' $< > $@

$(UNIT_OUT)test_%: tests/unit/test_%.c tests/unit/check.h $(CORE)
	@mkdir -p $(UNIT_OUT)
	$(CC) $(ALL_CFLAGS) -Icgi -o $@ $< $(CORE) $(LIBS)

# The same binaries and unit tests with AddressSanitizer and UBSan, in cgi/asan.
asan:
	$(MAKE) BUILD=cgi/asan CFLAGS='$(ASAN_CFLAGS)' build unit

unit: $(UNIT_TESTS)

# Each installs every missing package of its list in one apt-get call and does
# nothing when all are there.  `deps` is both (what make test needs).
deps-run:
	@$(MAKE) -s apt-missing CMDS='$(DEB_RUN)' HEADERS='$(DEB_HEADERS_RUN)'

deps-test: deps-run
	@$(MAKE) -s apt-missing CMDS='$(DEB_TEST)' HEADERS='$(DEB_HEADERS_TEST)'
	@# The console test drives Debian's chromium with playwright-core from npm.
	@[ -d tests/console/node_modules/playwright-core ] || \
		npm ci --prefix tests/console --no-audit --no-fund --loglevel=error

deps: deps-test

.PHONY: apt-missing
apt-missing:
	@missing=""; \
	for pair in $(CMDS); do command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	for pair in $(HEADERS); do [ -e $${pair%%:*} ] || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends $$missing; \
	fi

# The full gate.  Incremental: objects are rebuilt from their sources, so no clean first.
test: deps-test
	$(MAKE) -j2 WERROR=1 build unit
	$(MAKE) -j2 WERROR=1 asan
	bash tests/fuzz/run.sh build
	bash tests/run.sh

# The quick loop (about a minute): build, unit tests, SQL tests and the core
# end-to-end modules (E2E_CORE in tests/run.sh), on a stack of their own.
check: deps-test
	$(MAKE) -j2 WERROR=1 build unit
	bash tests/run.sh unit sql e2e-core

# Each libFuzzer harness for FUZZ_SECONDS (default 60; make test runs them for 5 s).
fuzz: deps-test
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# The end-to-end suite with every responder process under valgrind memcheck.
valgrind: deps-test build
	bash tests/run.sh valgrind

run: deps-run build
	bash nginx/launcher/run.sh

# imagereg against reference responders through nginx, in one run (several minutes):
# prints the table, writes tests/bench/results.md and throughput.png.  The references
# are built by the script in its temp dir.  BENCH_* variables: tests/bench/run.sh.
bench: deps-test build
	bash tests/bench/run.sh

db: build
	cgi/imagereg migrate --dir $(SQLDIR)

# Installation (FHS under PREFIX, staged under DESTDIR).  Every installed file
# that names a path gets it from these variables: the responder is the tree's
# own build; the CLI is linked again in cgi/install from the tree's objects and
# a cli.o compiled there with the installed sql/ as its default (PREFIX is
# recorded in cgi/install/PREFIX), and the units and the console snippet are
# rendered from their *.in templates.
BINDIR = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
SHARE = $(PREFIX)/share/imagereg
MANDIR = $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
# Only @SBINDIR@ and @SHARE@: the service's SystemCallFilter=@system-service stays.
RENDER = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SHARE@|$(SHARE)|g'
INSTALL_SHARE = nginx/imagereg-location.conf nginx/imagereg-upstream.conf nginx/imagereg.conf.example \
	cgi/openapi.json
INSTALL_RENDERED = nginx/imagereg-console.conf.in
INSTALL_UNITS = nginx/systemd/imagereg.socket nginx/systemd/imagereg.service.in
INSTALL_SQL = $(wildcard sql/[0-9]*.sql) sql/CONSTRAINTS.txt
INSTALL_SQL_FUNCTIONS = $(wildcard sql/functions/[0-9]*.sql)
INSTALL_CONSOLE = nginx/console/index.html nginx/console/console.js nginx/console/console.css
INSTALL_MAN = cgi/man/imagereg.1:man1 cgi/man/imagereg.conf.5:man5 cgi/man/imagereg-fcgi.8:man8
# Every file install writes, relative to DESTDIR; uninstall removes exactly these.
INSTALLED = $(SBINDIR)/imagereg-fcgi $(BINDIR)/imagereg \
	$(addprefix $(SHARE)/,$(notdir $(INSTALL_SHARE) $(INSTALL_RENDERED:.in=))) \
	$(addprefix $(UNITDIR)/,$(notdir $(INSTALL_UNITS:.in=))) \
	$(addprefix $(SHARE)/sql/,$(notdir $(INSTALL_SQL))) \
	$(addprefix $(SHARE)/sql/functions/,$(notdir $(INSTALL_SQL_FUNCTIONS))) \
	$(addprefix $(SHARE)/console/,$(notdir $(INSTALL_CONSOLE))) \
	$(foreach m,$(INSTALL_MAN),$(MANDIR)/$(lastword $(subst :, ,$(m)))/$(notdir $(firstword $(subst :, ,$(m)))))

# One install at a time: cgi/install is shared, and two installs for different
# prefixes (the ops and deploy suites run side by side) would rebuild it under
# each other.
install:
	@flock cgi/install.lock $(MAKE) --no-print-directory install-locked

.PHONY: install-locked
install-locked: build
	rm -rf cgi/install && mkdir -p cgi/install && echo '$(PREFIX)' >cgi/install/PREFIX
	$(CC) $(ALL_CFLAGS) -DIMAGEREG_SQLDIR='"$(SHARE)/sql"' -Icgi/cli -c -o cgi/install/cli.o cgi/cli/cli.c
	$(CC) $(ALL_CFLAGS) -o cgi/install/imagereg cgi/install/cli.o $(filter-out cgi/cli.o,$(CLI_OBJS)) \
		-lpq -lssl -lcrypto -lcurl $(JSON_LIBS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHARE)/sql $(DESTDIR)$(SHARE)/sql/functions \
		$(DESTDIR)$(SHARE)/console $(DESTDIR)$(UNITDIR)
	install -m 0755 cgi/imagereg-fcgi $(DESTDIR)$(SBINDIR)/imagereg-fcgi
	install -m 0755 cgi/install/imagereg $(DESTDIR)$(BINDIR)/imagereg
	install -m 0644 $(INSTALL_SHARE) $(DESTDIR)$(SHARE)/
	$(MAKE) -s render RENDER_DIR=$(DESTDIR)$(SHARE) RENDER_FILES='$(INSTALL_RENDERED)'
	$(MAKE) -s render RENDER_DIR=$(DESTDIR)$(UNITDIR) RENDER_FILES='$(INSTALL_UNITS)'
	install -m 0644 $(INSTALL_SQL) $(DESTDIR)$(SHARE)/sql/
	install -m 0644 $(INSTALL_SQL_FUNCTIONS) $(DESTDIR)$(SHARE)/sql/functions/
	install -m 0644 $(INSTALL_CONSOLE) $(DESTDIR)$(SHARE)/console/
	for m in $(INSTALL_MAN); do \
		install -d $(DESTDIR)$(MANDIR)/$${m#*:} && \
		install -m 0644 $${m%%:*} $(DESTDIR)$(MANDIR)/$${m#*:}/ || exit 1; \
	done

# render RENDER_DIR=DIR [RENDER_FILES=...]: those (default: every template) into DIR with this
# PREFIX's paths, *.in losing its suffix, mode 0644.  Tests render the units so.
RENDER_FILES ?= $(INSTALL_RENDERED) $(INSTALL_UNITS)
render:
	@[ -n '$(RENDER_DIR)' ] || { echo 'render: set RENDER_DIR=DIR' >&2; exit 2; }
	@install -d '$(RENDER_DIR)'
	@for f in $(RENDER_FILES); do \
		out='$(RENDER_DIR)'/$$(basename $$f .in); \
		$(RENDER) $$f >$$out.tmp && chmod 0644 $$out.tmp && mv $$out.tmp $$out || exit 1; \
		if grep -n '@SBINDIR@\|@SHARE@' $$out; then echo "render: $$out: placeholder left" >&2; exit 1; fi; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(SHARE)/sql/functions $(DESTDIR)$(SHARE)/sql $(DESTDIR)$(SHARE)/console $(DESTDIR)$(SHARE) 2>/dev/null

# The list install promises, one path per line (tests compare it with what appears).
install-list:
	@printf '%s\n' $(INSTALLED)

clean:
	rm -rf cgi/*.o cgi/imagereg-fcgi cgi/imagereg cgi/constraints.inc cgi/asan cgi/install cgi/install.lock \
		$(patsubst %.c,%,$(wildcard tests/unit/test_*.c))
