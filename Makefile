# ocinoco — build, test, install.
#   make                 build programs into $(O)/bin (default O=build)
#   make SAN=1           ASan+UBSan build into build-san/
#   make fuzz            libFuzzer targets (tests/fuzz/) into build-fuzz/, each run FUZZ_SECONDS
#   make check           deps, gcc, clang and ASan+UBSan builds, every test suite (twice:
#                        normal and sanitized), each fuzz target for FUZZ_CHECK_SECONDS;
#                        ends with "N passed, N failed"
#   make demo            the main job end to end against a throwaway local registry
#   make bench           benchmarks against the peer tools (bench/)
#   make install PREFIX=/usr/local DESTDIR=
#   make npm             the npm package, $(DIST)/ocinoco-VERSION.tgz (programs + their libraries)
#   make deb             the Debian package, $(DIST)/ocinoco_VERSION_ARCH.deb
#   make deps            apt-get install the missing Debian packages (as root)

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?= 0
DIST    ?= build-dist

# One version for the whole tree: the file VERSION. The C programs get it as OCINOCO_VERSION
# (lib/version.h), ocinoco.sh where make writes it into $(O)/bin/ocinoco, the packages too.
VERSION := $(shell cat VERSION 2>/dev/null)
ifeq ($(shell printf '%s' '$(VERSION)' | grep -Ex '[0-9]+\.[0-9]+\.[0-9]+([~+-][0-9A-Za-z.]+)?'),)
$(error VERSION: "$(VERSION)" is not a version like 1.2.3)
endif

FUZZ    ?= 0

ifeq ($(FUZZ),1)
# The fuzz targets (tests/fuzz/): the library and the programs' modules instrumented for
# libFuzzer with ASan+UBSan, linked with libFuzzer's main (clang only).
O       ?= build-fuzz
override CC := clang
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
else ifeq ($(SAN),1)
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
CFLAGS  += -DOCINOCO_VERSION='"$(VERSION)"'
# RPATH_ORIGIN=1: the programs look for their shared libraries in ../lib next to them first, and
# so do those libraries for theirs (DT_RPATH, not RUNPATH, is inherited): the npm package.
ifeq ($(RPATH_ORIGIN),1)
LDFLAGS += -Wl,-rpath,'$$ORIGIN/../lib' -Wl,--disable-new-dtags
endif

PROGRAMS = oci-tar oci-digest oci-fetch oci-put oci-graft oci-index oci-cache
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
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)
# make fuzz / make check: seconds each target runs, and how many run at once.
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 18
FUZZ_JOBS ?= 2

all: programs $(UNIT_BIN)

programs: $(PROGRAMS:%=$(O)/bin/%) $(O)/bin/ocinoco

$(O)/%.o: %.c VERSION
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

$(O)/bin/ocinoco: ocinoco.sh VERSION
	@mkdir -p $(@D)
	sed '/^version=@VERSION@$$/s/@VERSION@/$(VERSION)/' $< >$@.tmp && chmod 755 $@.tmp && mv $@.tmp $@

$(O)/tests/%: $(O)/tests/unit/%.o $(CMD_MODULE_OBJ) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

COMPLETIONS = $(DESTDIR)$(PREFIX)/share/bash-completion/completions

$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(CMD_MODULE_OBJ) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-targets: $(FUZZ_BIN)
.SECONDARY: $(FUZZ_SRC:%.c=$(O)/%.o)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(COMPLETIONS)
	install -m 755 $(PROGRAMS:%=$(O)/bin/%) $(O)/bin/ocinoco $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MANPAGES) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 completion/ocinoco.bash $(COMPLETIONS)/ocinoco
	for p in $(PROGRAMS); do ln -sf ocinoco $(COMPLETIONS)/$$p; done

# The packages build the programs apart (O=build-npm, build-deb), with what each needs, and are
# remade only when something they hold changed.
PKG_FILES = $(MANPAGES) completion/ocinoco.bash README.md VERSION
NPM_TGZ   = $(DIST)/ocinoco-$(VERSION).tgz
DEB_FILE  = $(DIST)/ocinoco_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb

npm:
	$(MAKE) O=build-npm SAN=0 RPATH_ORIGIN=1 programs
	$(MAKE) $(NPM_TGZ)

$(NPM_TGZ): $(PROGRAMS:%=build-npm/bin/%) build-npm/bin/ocinoco $(PKG_FILES) package.json packaging/npm.sh
	packaging/npm.sh build-npm $(VERSION) $(DIST)

# Debian's hardening flags (dpkg-buildflags), as Debian's own packages are built.
deb:
	CFLAGS="$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS) \
	$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)" \
	LDFLAGS="$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)" \
	$(MAKE) O=build-deb SAN=0 programs
	$(MAKE) $(DEB_FILE)

$(DEB_FILE): $(PROGRAMS:%=build-deb/bin/%) build-deb/bin/ocinoco $(PKG_FILES) packaging/copyright packaging/deb.sh
	packaging/deb.sh build-deb $(VERSION) $(DIST)

# Debian packages: to build, to test (peers and the registry), to benchmark. Running needs
# only the libraries of DEPS_BUILD, bash and coreutils (jq is for the tests and users' scripts);
# with DEPS_RUN a build runs fewer programs (ocinoco.sh loads bash's mktemp, mkdir, mkfifo, rm).
DEPS_RUN   = bash-builtins
DEPS_BUILD = gcc clang make pkg-config libzstd-dev zlib1g-dev libssl-dev libcurl4-openssl-dev \
             libjansson-dev libbsd-dev libdeflate-dev
DEPS_TEST  = bats jq tar libarchive-tools zstd gzip openssl python3 python3-jwt python3-cryptography \
             apache2-utils curl skopeo umoci time \
             buildah docker-registry busybox-static shellcheck clang-format man-db iproute2 procps \
             fuse-overlayfs strace python3-yaml bsdutils
DEPS_BENCH = time pigz
# The packages (make npm, make deb) and their install test (tests/e2e/install.bats).
DEPS_PKG   = dpkg-dev lintian debootstrap
# clang's libFuzzer runtime (libclang-common-14-dev only recommends it)
DEPS_FUZZ  = libclang-rt-14-dev

deps:
	@tests/deps $(DEPS_BUILD) $(DEPS_RUN) $(DEPS_TEST) $(DEPS_PKG) $(DEPS_FUZZ)
	@# npm (the quick start and CI recipe tests, the bench tree): a Node.js from outside
	@# Debian may bring its own, whose nodejs package conflicts with Debian's npm.
	@command -v npm >/dev/null || tests/deps npm

# npm (for the benchmark's tree) may come with a Node.js from outside Debian, whose nodejs
# package conflicts with Debian's npm: install Debian's only when there is no npm at all.
deps-bench:
	@tests/deps $(DEPS_BUILD) $(DEPS_RUN) $(DEPS_TEST) $(DEPS_BENCH)
	@command -v npm >/dev/null || tests/deps npm

check: deps
	$(MAKE) O=build SAN=0 all
	$(MAKE) SAN=1 all
	$(MAKE) CC=clang O=build-clang SAN=0 all
	$(MAKE) FUZZ=1 fuzz-targets
	FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
	        tests/run --fuzz build-fuzz/fuzz build/bin build-san/bin

fuzz: deps
	$(MAKE) FUZZ=1 fuzz-targets
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run build-fuzz/fuzz

lint:
	OCINOCO_BIN=$(O)/bin bats tests/cli/lint.bats

demo: deps
	$(MAKE) O=build SAN=0 all
	demo/demo.sh build/bin

bench: deps-bench
	$(MAKE) O=build SAN=0 all
	bench/run.sh build/bin

clean:
	rm -rf build build-san build-clang build-fuzz build-npm build-deb $(DIST)

.PHONY: all programs install npm deb deps deps-bench check fuzz fuzz-targets lint demo bench clean

-include $(shell find $(O) -name '*.d' 2>/dev/null)
