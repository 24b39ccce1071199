/* The options the programs share: -h/--help and --version in every one, and the network
 * options (--insecure, --cacert FILE, -v) of those that talk to a registry. Header only:
 * version_exit needs OCINOCO_VERSION, which the Makefile gives every object. */
#ifndef OCINOCO_CLI_H
#define OCINOCO_CLI_H

#include "http.h"
#include "version.h"

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
enum { CLI_OPT_INSECURE = 0x1000, CLI_OPT_CACERT };

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

#endif
