/* The options the programs share: -h/--help and --version in every one, the network options
 * (--insecure, --cacert FILE, -v) of those that talk to a registry, and the document cache's
 * (--cache DIR, --default-cache) of those that keep one (doccache.h). Header only:
 * version_exit needs OCINOCO_VERSION, which the Makefile gives every object. */
#ifndef OCINOCO_CLI_H
#define OCINOCO_CLI_H

#include "dirs.h"
#include "http.h"
#include "util.h"
#include "version.h"

#include <err.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The long options of every program, for its table. */
/* clang-format off */
#define CLI_HELP_VERSION_LONGOPTS \
	{"help", no_argument, NULL, 'h'}, \
	{"version", no_argument, NULL, 'V'}
/* clang-format on */

/* -h/--help: the usage on stdout, exit 0; --version: version_exit. Any other c (an option
 * getopt has already complained about): the usage on stderr, exit 2. */
static inline _Noreturn void cli_common_option(int c, const char *program, const char *usage)
{
	if (c == 'V')
		version_exit(program);
	if (c == 'h') {
		fputs(usage, stdout);
		exit(EXIT_OK);
	}
	fputs(usage, stderr);
	exit(EXIT_USAGE);
}

/* For a program that names what getopt refused itself (opterr = 0, optstring beginning with
 * ':'): c ':' is an option without its value, anything else an unknown option; a usage error
 * either way. */
static inline _Noreturn void cli_refused_option(int c, char **argv, const char *usage)
{
	if (c == ':')
		usage_error(usage, "option %s needs a value", argv[optind - 1]);
	usage_error(usage, "unknown option %s", argv[optind - 1]);
}

/* For a program that takes no operands: a usage error naming the first one given. */
static inline void cli_no_operands(int argc, char **argv, const char *usage)
{
	if (optind < argc)
		usage_error(usage, "unexpected argument \"%s\"", argv[optind]);
}

/* The network options: what the session is opened with. */
struct net_options {
	struct http_opts http; /* --cacert, -v */
	bool insecure;         /* --insecure */
};

/* Their values, above every program's own (which start at 256). */
enum { CLI_OPT_INSECURE = 0x1000, CLI_OPT_CACERT, CLI_OPT_CACHE, CLI_OPT_DEFAULT_CACHE };

/* clang-format off */
#define CLI_NET_LONGOPTS \
	{"insecure", no_argument, NULL, CLI_OPT_INSECURE}, \
	{"cacert", required_argument, NULL, CLI_OPT_CACERT}, \
	{"verbose", no_argument, NULL, 'v'}
/* clang-format on */

/* Takes c (getopt's) into *n if it is a network option; false if it is not one. */
static inline bool cli_net_option(int c, struct net_options *n)
{
	switch (c) {
	case CLI_OPT_INSECURE:
		n->insecure = true;
		return true;
	case CLI_OPT_CACERT:
		n->http.cacert = optarg;
		return true;
	case 'v':
		n->http.verbose++;
		return true;
	default:
		return false;
	}
}

/* The document cache's options: --cache DIR, or --default-cache (the local cache's default
 * directory, dirs.h); neither: no cache. */
struct cache_options {
	const char *dir;  /* --cache DIR */
	bool use_default; /* --default-cache */
};

/* clang-format off */
#define CLI_CACHE_LONGOPTS \
	{"cache", required_argument, NULL, CLI_OPT_CACHE}, \
	{"default-cache", no_argument, NULL, CLI_OPT_DEFAULT_CACHE}
/* clang-format on */

/* Takes c into *o if it is a cache option (an empty DIR: a usage error); false if not one. */
static inline bool cli_cache_option(int c, struct cache_options *o, const char *usage)
{
	if (c == CLI_OPT_CACHE) {
		if (optarg[0] == '\0')
			usage_error(usage, "--cache: an empty directory name");
		o->dir = optarg;
		return true;
	}
	if (c == CLI_OPT_DEFAULT_CACHE)
		o->use_default = true;
	return c == CLI_OPT_DEFAULT_CACHE;
}

/* The cache directory the options name (caller frees), NULL for none: both given is a usage
 * error; --default-cache with no default directory a warning saying what follows (without). */
static inline char *cli_cache_dir(const struct cache_options *o, const char *usage,
                                  const char *without)
{
	if (o->use_default && o->dir)
		usage_error(usage, "--cache and --default-cache exclude each other");
	if (!o->use_default)
		return o->dir ? xstrdup(o->dir) : NULL;
	char *dir = cache_dir_default();
	if (dir == NULL)
		warnx("no cache directory (no XDG_CACHE_HOME or HOME): %s", without);
	return dir;
}

#endif
