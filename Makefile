# ocinoco — build, test, install.
#   make                 build programs into $(O)/bin (default O=build)
#   make SAN=1           ASan+UBSan build into build-san/
#   make check           deps, gcc, clang and ASan+UBSan builds, every test suite (twice:
#                        normal and sanitized); ends with "N passed, N failed"
#   make demo            the main job end to end against a throwaway local registry
#   make bench           benchmarks against the peer tools (bench/)
#   make install PREFIX=/usr/local DESTDIR=
#   make deps            apt-get install the missing Debian packages (as root)

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?= 0

ifeq ($(SAN),1)
O       ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
O       ?= build
SANFLAGS =
endif

PKGS     = libzstd zlib libdeflate libcrypto libcurl jansson libbsd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-missing-field-initializers -Ilib $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS) -Wl,--as-needed
LDLIBS  += $(PKG_LIBS) -lpthread

PROGRAMS = oci-tar oci-digest oci-fetch oci-put oci-graft oci-index
LIB_SRC  = $(sort $(wildcard lib/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(O)/%.o)
LIB_A    = $(O)/libocinoco.a
# cmd/<program>/main.c holds main(); the other files of a program are modules the unit tests link too.
CMD_MODULE_SRC = $(filter-out %/main.c,$(wildcard cmd/*/*.c))
CMD_MODULE_OBJ = $(CMD_MODULE_SRC:%.c=$(O)/%.o)
# The unit tests include a program's module headers by name ("graft.h"), from every cmd/ folder.
CMD_DIRS = $(sort $(dir $(wildcard cmd/*/*.c)))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
MANPAGES = $(wildcard man/*.1)

all: $(PROGRAMS:%=$(O)/bin/%) $(O)/bin/ocinoco $(UNIT_BIN)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/tests/unit/%.o: CFLAGS += $(CMD_DIRS:%/=-I%)

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

define program_rule
$(O)/bin/$(1): $(patsubst %.c,$(O)/%.o,$(wildcard cmd/$(1)/*.c)) $(LIB_A)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

$(O)/bin/ocinoco: ocinoco.sh
	@mkdir -p $(@D)
	cp $< $@ && chmod 755 $@

$(O)/tests/%: $(O)/tests/unit/%.o $(CMD_MODULE_OBJ) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGRAMS:%=$(O)/bin/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 ocinoco.sh $(DESTDIR)$(PREFIX)/bin/ocinoco
	install -m 644 $(MANPAGES) $(DESTDIR)$(PREFIX)/share/man/man1/

# Debian packages: to build, to test (peers and the registry), to benchmark. Running needs
# only the libraries of DEPS_BUILD, bash and coreutils (jq is for the tests and users' scripts).
DEPS_BUILD = gcc clang make pkg-config libzstd-dev zlib1g-dev libssl-dev libcurl4-openssl-dev \
             libjansson-dev libbsd-dev libdeflate-dev
DEPS_TEST  = bats jq tar libarchive-tools zstd gzip openssl python3 python3-jwt python3-cryptography \
             apache2-utils curl skopeo umoci time \
             buildah docker-registry busybox-static shellcheck clang-format man-db iproute2 procps \
             fuse-overlayfs strace
DEPS_BENCH = time pigz

deps:
	@tests/deps $(DEPS_BUILD) $(DEPS_TEST)

# npm (for the benchmark's tree) may come with a Node.js from outside Debian, whose nodejs
# package conflicts with Debian's npm: install Debian's only when there is no npm at all.
deps-bench:
	@tests/deps $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_BENCH)
	@command -v npm >/dev/null || tests/deps npm

check: deps
	$(MAKE) O=build SAN=0 all
	$(MAKE) SAN=1 all
	$(MAKE) CC=clang O=build-clang SAN=0 all
	tests/run build/bin build-san/bin

lint:
	OCINOCO_BIN=$(O)/bin bats tests/cli/lint.bats

demo: deps
	$(MAKE) O=build SAN=0 all
	demo/demo.sh build/bin

bench: deps-bench
	$(MAKE) O=build SAN=0 all
	bench/run.sh build/bin

clean:
	rm -rf build build-san build-clang

.PHONY: all install deps deps-bench check lint demo bench clean

-include $(shell find $(O) -name '*.d' 2>/dev/null)
