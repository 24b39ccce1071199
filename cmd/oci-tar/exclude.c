#include "exclude.h"
#include "path.h"

#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a pattern is matched, as patternmatcher decides it: a pattern with no wildcard is compared
 * whole, "dir/ **" is a prefix test, "** /name" a suffix test, anything else the regular
 * expression its characters translate to (here a token list run as an NFA). */
enum match_kind { MATCH_EXACT, MATCH_PREFIX, MATCH_SUFFIX, MATCH_REGEXP };

enum tok_kind {
	TOK_LIT,    /* one character (a UTF-8 sequence) */
	TOK_ANY,    /* '?': one character but '/' */
	TOK_STAR,   /* '*': any characters but '/' */
	TOK_CLASS,  /* "[...]": one character in (or, negated, not in) the ranges */
	TOK_DIRS,   /* '**' inside a pattern: any directories (each ending in '/') or none */
	TOK_REST,   /* '**' ending a pattern: ".*" */
	TOK_ANCHOR, /* '^' outside a class: the regular expression's start anchor */
};

struct range {
	uint32_t lo, hi;
};

struct tok {
	enum tok_kind kind;
	unsigned char lit[4];
	unsigned char lit_len;
	bool negated;
	size_t range_at, range_n;
};

struct exclude_pattern {
	char *text; /* cleaned, without the '!' */
	size_t len;
	bool exception;
	enum match_kind kind;
	struct tok *toks;
	size_t ntoks;
	struct range *ranges;
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_space((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_space((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* One UTF-8 character at s (n > 0 bytes): its code point and length; an invalid byte is
 * U+FFFD of length 1, as Go decodes it. */
static uint32_t decode(const unsigned char *s, size_t n, size_t *width)
{
	uint32_t c = s[0];
	size_t w = c < 0x80                ? 1
	           : c >= 0xc2 && c < 0xe0 ? 2
	           : c >= 0xe0 && c < 0xf0 ? 3
	           : c >= 0xf0 && c < 0xf5 ? 4
	                                   : 0;
	*width = 1;
	if (w == 1)
		return c;
	if (w == 0 || w > n)
		return 0xfffd;
	c &= 0x7f >> w;
	for (size_t i = 1; i < w; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((w == 3 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) ||
	    (w == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0xfffd;
	*width = w;
	return c;
}

/* One class member at *p: a character, or '\' and the character it escapes. filepath.Match
 * refuses '-' and ']' unescaped here, and a class that ends before its ']'. */
static bool class_char(const char *s, size_t n, size_t *p, uint32_t *c)
{
	if (*p >= n || s[*p] == '-' || s[*p] == ']')
		return false;
	if (s[*p] == '\\' && ++*p >= n)
		return false;
	size_t w;
	*c = decode((const unsigned char *)s + *p, n - *p, &w);
	*p += w;
	return *p < n;
}

/* Parses the class whose '[' is at s[*p]; leaves *p after its ']'. NULL ranges: only check. */
static bool parse_class(const char *s, size_t n, size_t *p, struct tok *t, struct range **ranges,
                        size_t *nranges)
{
	size_t i = *p + 1;
	t->negated = false;
	if (i < n && s[i] == '^') {
		t->negated = true;
		i++;
	}
	size_t count = 0;
	for (;;) {
		if (i < n && s[i] == ']' && count > 0) {
			i++;
			break;
		}
		uint32_t lo, hi;
		if (!class_char(s, n, &i, &lo))
			return false;
		hi = lo;
		if (s[i] == '-') {
			i++;
			if (!class_char(s, n, &i, &hi))
				return false;
		}
		if (ranges) {
			*ranges = xreallocarray(*ranges, *nranges + 1, sizeof **ranges);
			(*ranges)[(*nranges)++] = (struct range){lo, hi};
		}
		count++;
	}
	*p = i;
	return true;
}

/* filepath.Match's syntax check, which patternmatcher runs on every pattern. */
static bool valid_syntax(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (s[i] == '\\') {
			if (i + 1 >= n)
				return false;
			i += 2;
		} else if (s[i] == '[') {
			struct tok t;
			if (!parse_class(s, n, &i, &t, NULL, NULL))
				return false;
		} else {
			i++;
		}
	}
	return true;
}

static void push(struct exclude_pattern *p, struct tok t)
{
	p->toks = xreallocarray(p->toks, p->ntoks + 1, sizeof *p->toks);
	p->toks[p->ntoks++] = t;
}

static void push_lit(struct exclude_pattern *p, const char *s, size_t w)
{
	struct tok t = {.kind = TOK_LIT, .lit_len = (unsigned char)w};
	memcpy(t.lit, s, w);
	push(p, t);
}

/* patternmatcher's compile(): the match kind and, for MATCH_REGEXP, the tokens. Characters
 * that are special in a regular expression but not in a pattern (".+()|{}$") are literal. */
static void compile(struct exclude_pattern *p)
{
	const char *s = p->text;
	size_t n = p->len, nranges = 0;
	enum match_kind kind = MATCH_EXACT;
	for (size_t i = 0, first = 1; i < n; first = 0) {
		if (s[i] == '*') {
			i++;
			if (i < n && s[i] == '*') {
				i++;
				if (i < n && s[i] == '/')
					i++;
				if (i == n) {
					if (kind == MATCH_EXACT) {
						kind = MATCH_PREFIX;
					} else {
						push(p, (struct tok){.kind = TOK_REST});
						kind = MATCH_REGEXP;
					}
				} else {
					push(p, (struct tok){.kind = TOK_DIRS});
					kind = MATCH_REGEXP;
				}
				if (first)
					kind = MATCH_SUFFIX;
			} else {
				push(p, (struct tok){.kind = TOK_STAR});
				kind = MATCH_REGEXP;
			}
		} else if (s[i] == '?') {
			push(p, (struct tok){.kind = TOK_ANY});
			kind = MATCH_REGEXP;
			i++;
		} else if (s[i] == '\\') {
			/* Syntax checking guarantees a next character. */
			size_t w;
			decode((const unsigned char *)s + i + 1, n - i - 1, &w);
			push_lit(p, s + i + 1, w);
			kind = MATCH_REGEXP;
			i += 1 + w;
		} else if (s[i] == '[') {
			struct tok t = {.kind = TOK_CLASS, .range_at = nranges};
			parse_class(s, n, &i, &t, &p->ranges, &nranges);
			t.range_n = nranges - t.range_at;
			push(p, t);
			kind = MATCH_REGEXP;
		} else if (s[i] == '^') {
			push(p, (struct tok){.kind = TOK_ANCHOR});
			i++;
		} else {
			size_t w;
			decode((const unsigned char *)s + i, n - i, &w);
			push_lit(p, s + i, w);
			i += w;
		}
	}
	p->kind = kind;
}

/* The length of an exception's prefix that names directories: the pattern without one
 * trailing "/ **" or, if none, one trailing "/ *" (what it re-includes is under that prefix,
 * or the prefix itself). Not both: "a/ * / **" re-includes what is under any a/X, a wildcard. */
static size_t exception_prefix(const char *text, size_t len)
{
	if (len >= 3 && memcmp(text + len - 3, "/**", 3) == 0)
		return len - 3;
	if (len >= 2 && memcmp(text + len - 2, "/*", 2) == 0)
		return len - 2;
	return len;
}

static int add_cleaned(struct excluder *x, const char *s, size_t n, char *err, size_t errlen)
{
	/* patternmatcher.New: trim, clean, then take off the '!'. */
	trim(&s, &n);
	if (n == 0)
		return 0;
	char *text = xmalloc(n + 2);
	size_t len = path_clean(s, n, text);
	bool exception = text[0] == '!';
	if (exception) {
		if (len == 1) {
			free(text);
			snprintf(err, errlen, "illegal exclusion pattern: \"!\"");
			return -1;
		}
		memmove(text, text + 1, --len);
	}
	text[len] = '\0';
	if (!valid_syntax(text, len)) {
		snprintf(err, errlen, "syntax error in pattern: %s%s", exception ? "!" : "", text);
		free(text);
		return -1;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 8;
		x->patterns = xreallocarray(x->patterns, x->cap, sizeof *x->patterns);
	}
	struct exclude_pattern *p = &x->patterns[x->n++];
	*p = (struct exclude_pattern){.text = text, .len = len, .exception = exception};
	compile(p);
	if (exception) {
		x->exceptions = true;
		if (strcspn(text, "*[]?^\\") < exception_prefix(text, len))
			x->wild_exceptions = true;
	}
	/* Two state sets of 2 * (ntoks + 1) states for run_nfa. */
	size_t need = 4 * (p->ntoks + 1);
	if (need > x->scratch_len) {
		x->scratch = xreallocarray(x->scratch, need, 1);
		x->scratch_len = need;
	}
	return 0;
}

/* ignorefile.ReadAll's cleaning of one line, then patternmatcher.New's. */
int exclude_add(struct excluder *x, const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);
	trim(&s, &n);
	if (n == 0)
		return 0;
	bool invert = s[0] == '!';
	if (invert) {
		s++;
		n--;
		trim(&s, &n);
	}
	char *line = xmalloc(n + 3);
	size_t len = 0;
	if (invert)
		line[len++] = '!';
	if (n > 0) {
		size_t c = path_clean(s, n, line + len);
		if (c > 1 && line[len] == '/')
			memmove(line + len, line + len + 1, --c);
		len += c;
	}
	int r = add_cleaned(x, line, len, err, errlen);
	free(line);
	return r;
}

int exclude_add_text(struct excluder *x, const char *text, size_t len, char *err, size_t errlen)
{
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	size_t lineno = 0;
	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;
		lineno++;
		if (n > 0 && text[0] != '#') {
			char *line = xstrndup(text, n);
			char why[512];
			int r = exclude_add(x, line, why, sizeof why);
			free(line);
			if (r < 0) {
				snprintf(err, errlen, "line %zu: %s", lineno, why);
				return -1;
			}
		}
		if (nl == NULL)
			break;
		text += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* The NFA over a token list: state k waits for token k, state n accepts; TOK_DIRS has a second
 * state (at n + 1 + k) for "inside the group, before its '/'". Epsilon moves only go forward, so
 * one pass in token order closes a state set. */
static void closure(const struct exclude_pattern *p, unsigned char *st, size_t pos)
{
	size_t n = p->ntoks;
	for (size_t k = 0; k < n; k++) {
		if (!st[k])
			continue;
		switch (p->toks[k].kind) {
		case TOK_STAR:
		case TOK_REST:
			st[k + 1] = 1;
			break;
		case TOK_DIRS:
			st[k + 1] = 1;
			st[n + 1 + k] = 1;
			break;
		case TOK_ANCHOR:
			if (pos == 0)
				st[k + 1] = 1;
			break;
		default:
			break;
		}
	}
}

static bool in_class(const struct exclude_pattern *p, const struct tok *t, uint32_t c)
{
	bool in = false;
	for (size_t i = 0; i < t->range_n && !in; i++)
		in = p->ranges[t->range_at + i].lo <= c && c <= p->ranges[t->range_at + i].hi;
	return in != t->negated;
}

static bool run_nfa(const struct exclude_pattern *p, const char *path, size_t len,
                    unsigned char *scratch)
{
	size_t n = p->ntoks, states = 2 * (n + 1);
	unsigned char *cur = scratch, *next = scratch + states;
	memset(cur, 0, states);
	cur[0] = 1;
	closure(p, cur, 0);
	for (size_t pos = 0; pos < len;) {
		size_t w;
		uint32_t c = decode((const unsigned char *)path + pos, len - pos, &w);
		memset(next, 0, states);
		bool alive = false;
		for (size_t k = 0; k < n; k++) {
			const struct tok *t = &p->toks[k];
			if (t->kind == TOK_DIRS && cur[n + 1 + k] && c != '\n') {
				next[n + 1 + k] = 1;
				if (c == '/')
					next[k + 1] = 1;
				alive = true;
			}
			if (!cur[k])
				continue;
			bool to_next = false, stay = false;
			switch (t->kind) {
			case TOK_LIT:
				to_next = t->lit_len == w && memcmp(t->lit, path + pos, w) == 0;
				break;
			case TOK_ANY:
				to_next = c != '/';
				break;
			case TOK_CLASS:
				to_next = in_class(p, t, c);
				break;
			case TOK_STAR:
				stay = c != '/';
				break;
			case TOK_REST:
				/* Go's '.' does not match a newline. */
				stay = c != '\n';
				break;
			case TOK_DIRS:
			case TOK_ANCHOR:
				break;
			}
			if (to_next)
				next[k + 1] = 1;
			if (stay)
				next[k] = 1;
			alive |= to_next || stay;
		}
		if (!alive)
			return false;
		pos += w;
		closure(p, next, pos);
		unsigned char *tmp = cur;
		cur = next;
		next = tmp;
	}
	return cur[n] != 0;
}

static bool pattern_match(const struct excluder *x, const struct exclude_pattern *p,
                          const char *path, size_t len)
{
	switch (p->kind) {
	case MATCH_EXACT:
		return len == p->len && memcmp(path, p->text, len) == 0;
	case MATCH_PREFIX:
		return len >= p->len - 2 && memcmp(path, p->text, p->len - 2) == 0;
	case MATCH_SUFFIX: {
		const char *suffix = p->text + 2;
		size_t sl = p->len - 2;
		if (len >= sl && memcmp(path + len - sl, suffix, sl) == 0)
			return true;
		/* "** /foo" matches "foo" */
		return sl > 0 && suffix[0] == '/' && len == sl - 1 &&
		       memcmp(path, suffix + 1, len) == 0;
	}
	case MATCH_REGEXP:
		return run_nfa(p, path, len, x->scratch);
	}
	return false;
}

bool exclude_match(const struct excluder *x, const char *path, size_t len, const bool *parent,
                   bool *info)
{
	bool matched = false;
	for (size_t i = 0; i < x->n; i++) {
		const struct exclude_pattern *p = &x->patterns[i];
		bool m = parent ? parent[i] : false;
		if (!m) {
			/* An exclude can only turn a kept path excluded and an exception only the
			 * reverse, so the other kind need not be tried. */
			if (p->exception != matched) {
				if (info)
					info[i] = false;
				continue;
			}
			m = pattern_match(x, p, path, len);
			/* Without the parent's results, its directories are tried one by one. */
			for (size_t d = 0; !m && !parent && d < len; d++)
				if (path[d] == '/')
					m = pattern_match(x, p, path, d);
		}
		if (info)
			info[i] = m;
		if (m)
			matched = !p->exception;
	}
	return matched;
}

bool exclude_descend(const struct excluder *x, const char *dir, size_t len)
{
	if (!x->exceptions)
		return false;
	if (x->wild_exceptions)
		return true;
	for (size_t i = 0; i < x->n; i++) {
		const struct exclude_pattern *p = &x->patterns[i];
		if (!p->exception)
			continue;
		size_t k = exception_prefix(p->text, p->len);
		/* Does the exception (plus '/') start with "dir/"? */
		if (k >= len && memcmp(p->text, dir, len) == 0 && (k == len || p->text[len] == '/'))
			return true;
	}
	return false;
}

const char *exclude_pattern_text(const struct excluder *x, size_t i, bool *exception)
{
	*exception = x->patterns[i].exception;
	return x->patterns[i].text;
}

void exclude_free(struct excluder *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->patterns[i].text);
		free(x->patterns[i].toks);
		free(x->patterns[i].ranges);
	}
	free(x->patterns);
	free(x->scratch);
	*x = (struct excluder){0};
}
