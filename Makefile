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

ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra $(if $(WERROR),-Werror) -I$(PG_INCLUDE) $(JSON_CFLAGS) \
	-DIMAGEREG_SQLDIR='"$(SQLDIR)"' $(CFLAGS)
LIBS = -lfcgi $(JSON_LIBS) -lpq -lcrypto -lcurl

# BUILD=DIR puts objects and binaries in DIR instead of the tree (make test
# builds a sanitizer copy in cgi/asan this way).
OUT := $(if $(BUILD),$(BUILD)/,cgi/)
UNIT_OUT := $(if $(BUILD),$(BUILD)/,tests/unit/)

# Objects shared by the responder, the CLI and the unit tests.
CORE = $(addprefix $(OUT),app.o auth.o cache.o config.o crypto.o db.o etag.o generation.o handlers.o \
	handlers_browse.o handlers_check.o json_check.o list_query.o log.o outbound.o regcheck.o regcheck_challenge.o regcheck_net.o resp.o \
	routes.o validate.o)
FCGI_OBJS = $(addprefix $(OUT),main.o supervisor.o worker.o) $(CORE)
CLI_OBJS = $(addprefix $(OUT),cli.o cli_check.o cli_docker.o migrate.o admin_sql.o config.o crypto.o generation.o log.o outbound.o \
	regcheck.o regcheck_challenge.o regcheck_net.o)
UNIT_TESTS = $(patsubst tests/unit/%.c,$(UNIT_OUT)%,$(wildcard tests/unit/test_*.c))

ASAN_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Packages `make run` and `make test` need, by the command that proves them.
DEB_CMDS = nginx:nginx-light spawn-fcgi:spawn-fcgi curl:curl python3:python3 \
	pkg-config:pkg-config cc:gcc psql:postgresql-client-15 pg_ctlcluster:postgresql-15 \
	clang:clang valgrind:valgrind openssl:openssl chromium:chromium mandoc:mandoc \
	systemd-analyze:systemd node:nodejs npm:npm strace:strace man:man-db wrk:wrk gnuplot:gnuplot-nox \
	docker-registry:docker-registry skopeo:skopeo htpasswd:apache2-utils
DEB_HEADERS = /usr/include/fcgiapp.h:libfcgi-dev /usr/include/json-c/json.h:libjson-c-dev \
	/usr/include/postgresql/libpq-fe.h:libpq-dev /usr/include/openssl/evp.h:libssl-dev \
	/usr/include/x86_64-linux-gnu/curl/curl.h:libcurl4-openssl-dev \
	/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev

.PHONY: all build deps test run db bench clean unit asan valgrind fuzz install uninstall install-list
FUZZ_SECONDS ?= 60
all: build
build: $(OUT)imagereg-fcgi $(OUT)imagereg

$(OUT)imagereg-fcgi: $(FCGI_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(FCGI_OBJS) $(LIBS)

$(OUT)imagereg: $(CLI_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) -lpq -lcrypto -lcurl $(JSON_LIBS)

$(OUT)%.o: cgi/%.c cgi/*.h
	@mkdir -p $(OUT)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

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

# Installs every missing package in one apt-get call; does nothing when all are there.
deps:
	@missing=""; \
	for pair in $(DEB_CMDS); do command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	for pair in $(DEB_HEADERS); do [ -e $${pair%%:*} ] || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# The console test drives Debian's chromium with playwright-core from npm.
	@[ -d tests/console/node_modules/playwright-core ] || \
		npm ci --prefix tests/console --no-audit --no-fund --loglevel=error

test: deps
	$(MAKE) clean
	$(MAKE) WERROR=1 build unit
	$(MAKE) WERROR=1 asan
	bash tests/run.sh

# Each libFuzzer harness for FUZZ_SECONDS (make test runs them for 20 s).
fuzz: deps
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# The end-to-end suite with every responder process under valgrind memcheck.
valgrind: deps build
	bash tests/run.sh valgrind

run: deps build
	bash nginx/run.sh

# imagereg against reference responders through nginx, in one run (several minutes):
# prints the table, writes tests/bench/results.md and throughput.png.  The references
# are built by the script in its temp dir.  BENCH_* variables: tests/bench/run.sh.
bench: deps build
	bash tests/bench/run.sh

db: build
	cgi/imagereg migrate --dir $(SQLDIR)

# Installation (FHS under PREFIX, staged under DESTDIR).  The binaries are
# built again in cgi/install with the installed sql/ path compiled in.
SHARE = $(PREFIX)/share/imagereg
INSTALL_SHARE = nginx/imagereg.conf nginx/imagereg-upstream.conf nginx/imagereg-console.conf \
	nginx/imagereg.socket nginx/imagereg.service nginx/imagereg.conf.example cgi/openapi.json
INSTALL_SQL = $(wildcard sql/[0-9]*.sql) sql/CONSTRAINTS.txt
INSTALL_CONSOLE = nginx/console/index.html nginx/console/console.js nginx/console/console.css
INSTALL_MAN = cgi/man/imagereg.1:man1 cgi/man/imagereg.conf.5:man5 cgi/man/imagereg-fcgi.8:man8
# Every file install writes, relative to DESTDIR; uninstall removes exactly these.
INSTALLED = $(PREFIX)/sbin/imagereg-fcgi $(PREFIX)/bin/imagereg \
	$(addprefix $(SHARE)/,$(notdir $(INSTALL_SHARE))) $(addprefix $(SHARE)/sql/,$(notdir $(INSTALL_SQL))) \
	$(addprefix $(SHARE)/console/,$(notdir $(INSTALL_CONSOLE))) \
	$(foreach m,$(INSTALL_MAN),$(PREFIX)/share/man/$(lastword $(subst :, ,$(m)))/$(notdir $(firstword $(subst :, ,$(m)))))

install:
	$(MAKE) BUILD=cgi/install SQLDIR=$(SHARE)/sql build
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SHARE)/sql $(DESTDIR)$(SHARE)/console
	install -m 0755 cgi/install/imagereg-fcgi $(DESTDIR)$(PREFIX)/sbin/imagereg-fcgi
	install -m 0755 cgi/install/imagereg $(DESTDIR)$(PREFIX)/bin/imagereg
	install -m 0644 $(INSTALL_SHARE) $(DESTDIR)$(SHARE)/
	install -m 0644 $(INSTALL_SQL) $(DESTDIR)$(SHARE)/sql/
	install -m 0644 $(INSTALL_CONSOLE) $(DESTDIR)$(SHARE)/console/
	for m in $(INSTALL_MAN); do \
		install -d $(DESTDIR)$(PREFIX)/share/man/$${m#*:} && \
		install -m 0644 $${m%%:*} $(DESTDIR)$(PREFIX)/share/man/$${m#*:}/ || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(SHARE)/sql $(DESTDIR)$(SHARE)/console $(DESTDIR)$(SHARE) 2>/dev/null

# The list install promises, one path per line (tests compare it with what appears).
install-list:
	@printf '%s\n' $(INSTALLED)

clean:
	rm -rf cgi/*.o cgi/imagereg-fcgi cgi/imagereg cgi/constraints.inc cgi/asan cgi/install \
		$(patsubst %.c,%,$(wildcard tests/unit/test_*.c))
