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
LIBS = -lfcgi $(JSON_LIBS) -lpq -lcrypto

# Objects shared by the responder, the CLI and the unit tests.
CORE = cgi/app.o cgi/auth.o cgi/config.o cgi/crypto.o cgi/db.o cgi/handlers.o \
	cgi/json_check.o cgi/log.o cgi/resp.o cgi/routes.o cgi/validate.o
FCGI_OBJS = cgi/main.o cgi/supervisor.o cgi/worker.o $(CORE)
CLI_OBJS = cgi/cli.o cgi/migrate.o cgi/config.o cgi/crypto.o cgi/log.o
UNIT_TESTS = $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))

# Packages `make run` and `make test` need, by the command that proves them.
DEB_CMDS = nginx:nginx-light spawn-fcgi:spawn-fcgi curl:curl python3:python3 \
	pkg-config:pkg-config cc:gcc psql:postgresql-client-15 pg_ctlcluster:postgresql-15
DEB_HEADERS = /usr/include/fcgiapp.h:libfcgi-dev /usr/include/json-c/json.h:libjson-c-dev \
	/usr/include/postgresql/libpq-fe.h:libpq-dev /usr/include/openssl/evp.h:libssl-dev

.PHONY: all build deps test run db bench clean unit
all: build
build: cgi/imagereg-fcgi cgi/imagereg

cgi/imagereg-fcgi: $(FCGI_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(FCGI_OBJS) $(LIBS)

cgi/imagereg: $(CLI_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) -lpq -lcrypto

cgi/%.o: cgi/%.c cgi/*.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Client messages for named constraints: sql/ owns the list, C includes it.
cgi/db.o: cgi/constraints.inc
cgi/constraints.inc: sql/CONSTRAINTS.txt
	awk -F'\t' 'NF == 2 && $$1 !~ /^#/ { printf "\t{ \"%s\", \"%s\" },\n", $$1, $$2 }' $< > $@

tests/unit/test_%: tests/unit/test_%.c tests/unit/check.h $(CORE)
	$(CC) $(ALL_CFLAGS) -Icgi -o $@ $< $(CORE) $(LIBS)

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

test: deps
	$(MAKE) clean
	$(MAKE) WERROR=1 build unit
	bash tests/run.sh

run: deps build
	bash nginx/run.sh

db: build
	cgi/imagereg migrate --dir $(SQLDIR)

clean:
	rm -f cgi/*.o cgi/imagereg-fcgi cgi/imagereg cgi/constraints.inc $(UNIT_TESTS)
