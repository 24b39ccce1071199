#include "walk.h"

#include "copy.h"
#include "links.h"
#include "names.h"
#include "prefetch.h"
#include "signature.h"
#include "tar_header.h"
#include "util.h"

#include <bsd/err.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A directory excluded by a pattern but walked because an exception may re-include something in
 * it: its header is written only before the first entry under it that is kept. */
struct pending_dir {
	size_t path_len;
	struct stat st;
	bool written;
};

/* exclude_match's per-pattern results at each depth of the walk: those of the entry at depth d
 * are the parent results of its children, at depth d + 1. */
struct pattern_state {
	const struct excluder *ex;
	bool *results; /* ex->n per depth */
	size_t depths;
};

struct walker {
	const struct walk_options *opt;
	struct tar_out *out;
	struct buf path; /* archive path of the current entry: root prefix + relative path */
	size_t root_len;
	char *dir; /* DIR without trailing '/', for messages */
	struct name_stack names;
	struct pattern_state exclude, only, skip;
	struct pending_dir *pending; /* the excluded directories being walked, outermost first */
	size_t npending, pending_cap;
	size_t unwritten; /* how many of them are not written yet */
	struct link_table links;
	char *target; /* a symlink's target, the buffer reused */
	size_t target_cap;
	struct prefetch *pf; /* the lstats taken ahead (a signature walk), or NULL */
	bool names_ready;    /* the directory opened next has its names read ahead (pf) */
};

/* A name found in a directory, and what the walk learns about it. */
struct found {
	int dirfd;
	const char *name;   /* in the name stack, valid while its directory is walked */
	unsigned char type; /* d_type; DT_UNKNOWN is resolved before anything else */
	size_t index;       /* of the name in its directory */
	size_t depth;       /* of the entry: 0, directly in DIR */
	bool lstat_done;    /* st holds its lstat (DT_UNKNOWN resolved) */
	int fd;             /* the open regular file or directory, or -1 */
	struct stat st;     /* of what fd holds, else lstat */
};

/* What the exclude patterns and the part decide for an entry. */
enum verdict {
	ENTRY_KEPT,
	ENTRY_LEFT_OUT,
	ENTRY_WALKED_ONLY, /* an excluded directory walked for what an exception may keep */
	ENTRY_OTHER_PART,  /* a directory of another part walked for what is in this one */
};

static void walk_dir(struct walker *w, int fd, size_t depth);

/* ---- messages ---- */

/* The path as the user knows it, for messages: DIR/relative. */
static const char *fs_path(struct walker *w)
{
	static struct buf b;
	buf_reset(&b);
	buf_appendf(&b, "%s", w->dir);
	size_t rel = w->root_len, len = w->path.len;
	if (len > rel && w->path.data[len - 1] == '/')
		len--;
	if (len > rel) {
		if (b.len == 0 || b.data[b.len - 1] != '/')
			buf_append(&b, "/", 1);
		buf_append(&b, w->path.data + rel, len - rel);
	}
	return b.data;
}

/* "oci-tar: DIR/path: strerror(errno)", exit 1. */
static _Noreturn void fail_at(struct walker *w)
{
	int e = errno;
	errc(EXIT_FAIL, e, "%s", fs_path(w));
}

static _Noreturn void copy_failed(struct walker *w, uint64_t size, const struct copy_error *e)
{
	if (e->kind == COPY_ERR_READ)
		errc(EXIT_FAIL, e->err, "%s", fs_path(w));
	errx(EXIT_FAIL, "%s: file changed size while being read (%s %" PRIu64 " bytes)", fs_path(w),
	     e->kind == COPY_ERR_GREW ? "grew beyond" : "shrank below", size);
}

/* ---- headers, and the excluded directories they need first ---- */

static int64_t entry_mtime(const struct walker *w, const struct stat *st)
{
	return w->opt->keep_mtime ? (int64_t)st->st_mtim.tv_sec : w->opt->mtime;
}

static void push_pending(struct walker *w, const struct stat *st)
{
	if (w->npending == w->pending_cap) {
		w->pending_cap = w->pending_cap ? 2 * w->pending_cap : 16;
		w->pending = xreallocarray(w->pending, w->pending_cap, sizeof *w->pending);
	}
	w->pending[w->npending++] = (struct pending_dir){.path_len = w->path.len, .st = *st};
	w->unwritten++;
}

static void pop_pending(struct walker *w)
{
	w->npending--;
	if (!w->pending[w->npending].written)
		w->unwritten--;
}

/* A header into the archive, the signature, or both. */
static void emit_header(struct walker *w, const struct tar_entry *e, const struct stat *st)
{
	struct signature *sig = w->opt->signature;
	if (sig == NULL) {
		tar_out_header(w->out, e);
		return;
	}
	if (signature_add(sig, e, st))
		sig->racy_path = xstrdup(fs_path(w));
	if (w->out != NULL) /* the blocks the signature hashed, encoded once */
		tar_out_write(w->out, sig->block, sig->block_len);
}

static void write_pending_dirs(struct walker *w)
{
	for (size_t i = 0; i < w->npending; i++) {
		struct pending_dir *d = &w->pending[i];
		if (d->written)
			continue;
		struct tar_entry e = {
		        .path = w->path.data,
		        .path_len = d->path_len,
		        .link = "",
		        .type = TAR_DIRTYPE,
		        .mode = d->st.st_mode & 07777,
		        .uid = w->opt->uid,
		        .gid = w->opt->gid,
		        .mtime = entry_mtime(w, &d->st),
		};
		emit_header(w, &e, &d->st);
		d->written = true;
	}
	w->unwritten = 0;
}

/* The header of the current path. Every entry goes out through here, so a pending parent is
 * always written first. */
static void write_entry(struct walker *w, struct tar_entry *e, const struct stat *st)
{
	if (w->unwritten > 0)
		write_pending_dirs(w);
	e->path = w->path.data;
	e->path_len = w->path.len;
	e->mode = st->st_mode & 07777;
	e->uid = w->opt->uid;
	e->gid = w->opt->gid;
	e->mtime = entry_mtime(w, st);
	if (e->link == NULL)
		e->link = "";
	emit_header(w, e, st);
}

/* ---- deciding, opening ---- */

/* The results of depth, the array grown as needed (which may move the others). */
static bool *results_at(struct pattern_state *s, size_t depth)
{
	if (depth + 1 > s->depths) {
		s->depths = 2 * (depth + 1);
		s->results = xreallocarray(s->results, s->depths * s->ex->n, sizeof *s->results);
	}
	return s->results + depth * s->ex->n;
}

/* Whether s's patterns match the current path, an entry at depth. */
static bool matches_at(struct walker *w, struct pattern_state *s, size_t depth)
{
	const char *rel = w->path.data + w->root_len;
	size_t len = w->path.len - w->root_len;
	bool *mine = results_at(s, depth + 1); /* first: growing moves the parent's */
	const bool *parent = depth > 0 ? results_at(s, depth) : NULL;
	return exclude_match(s->ex, rel, len, parent, mine);
}

static bool descend(const struct walker *w, const struct pattern_state *s)
{
	return exclude_descend(s->ex, w->path.data + w->root_len, w->path.len - w->root_len);
}

/* Whether the entry is in the whole archive (ENTRY_KEPT), not (ENTRY_LEFT_OUT) or only if an
 * exception keeps something under it (ENTRY_WALKED_ONLY). */
static enum verdict exclusion_verdict(struct walker *w, const struct found *f, size_t depth)
{
	if (w->exclude.ex->n == 0 || !matches_at(w, &w->exclude, depth))
		return ENTRY_KEPT;
	return f->type == DT_DIR && descend(w, &w->exclude) ? ENTRY_WALKED_ONLY : ENTRY_LEFT_OUT;
}

/* An entry kept in the whole archive: in this part, or not (a directory of another part is
 * walked when something under it may be in this one). Both lists are matched for every entry:
 * the children's matching needs their parent's results. */
static enum verdict part_verdict(struct walker *w, const struct found *f, size_t depth)
{
	bool only = w->only.ex->n == 0 || matches_at(w, &w->only, depth);
	bool skip = w->skip.ex->n > 0 && matches_at(w, &w->skip, depth);
	if (only && !skip)
		return ENTRY_KEPT;
	if (f->type != DT_DIR)
		return ENTRY_LEFT_OUT;
	/* Under a skipped directory only a '!' exception can bring something back; under one the
	 * --only patterns do not select, any pattern might select something. */
	return !skip || descend(w, &w->skip) ? ENTRY_OTHER_PART : ENTRY_LEFT_OUT;
}

/* What is done with the current path: --exclude decides whether it is in the whole archive,
 * then the part whether it is in this one. */
static enum verdict verdict_of(struct walker *w, const struct found *f, size_t depth)
{
	enum verdict v = exclusion_verdict(w, f, depth);
	struct part *part = w->opt->part;
	if (part == NULL || v == ENTRY_LEFT_OUT)
		return v;
	part_note(part, w->path.data + w->root_len, w->path.len - w->root_len);
	enum verdict in_part = part_verdict(w, f, depth);
	return v == ENTRY_WALKED_ONLY ? v : in_part;
}

/* The entry's lstat into f->st: the one taken ahead when there is one. */
static void lstat_found(struct walker *w, struct found *f)
{
	int r = w->pf != NULL ? prefetch_stat(w->pf, f->depth, f->index, &f->st) : 1;
	if (r > 0)
		r = fstatat(f->dirfd, f->name, &f->st, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		fail_at(w);
	f->lstat_done = true;
}

/* A DT_UNKNOWN type (some file systems give no d_type) from lstat: DT_DIR, DT_REG or still
 * DT_UNKNOWN for the other types. */
static void learn_type(struct walker *w, struct found *f)
{
	lstat_found(w, f);
	f->type = S_ISDIR(f->st.st_mode) ? DT_DIR : S_ISREG(f->st.st_mode) ? DT_REG : DT_UNKNOWN;
}

/* A regular file or directory is opened first and then fstat'ed: what is stored is what was
 * opened, and O_NOFOLLOW refuses a symlink swapped in after readdir (then lstat'ed and stored as
 * what it now is). Anything else is lstat'ed. False: leave it out, an excluded directory that
 * cannot be read (fsutil skips those too), or a directory walked only for what is under it
 * (excluded, or of another part) that is no longer a directory. */
static bool open_and_stat(struct walker *w, struct found *f, enum verdict v)
{
	bool reads = f->type == DT_DIR || (f->type == DT_REG && w->out != NULL);
	if (f->type == DT_DIR && w->pf != NULL &&
	    prefetch_take_dir(w->pf, f->depth, f->index, &f->fd, &f->st)) {
		w->names_ready = true; /* opened, fstat'ed and read ahead */
		return true;
	}
	if (reads) {
		int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		            (f->type == DT_DIR ? O_DIRECTORY : O_NONBLOCK);
		f->fd = openat(f->dirfd, f->name, flags);
		if (f->fd >= 0) {
			if (fstat(f->fd, &f->st) < 0)
				fail_at(w);
			return true;
		}
		if (v == ENTRY_WALKED_ONLY && errno == EACCES)
			return false; /* EACCES: as the whole archive does */
		if (errno != ELOOP && errno != ENOTDIR)
			fail_at(w);
		/* Not what readdir said: what it is now. */
		if (fstatat(f->dirfd, f->name, &f->st, AT_SYMLINK_NOFOLLOW) < 0)
			fail_at(w);
	} else if (!f->lstat_done) {
		lstat_found(w, f);
	}
	return v == ENTRY_KEPT || S_ISDIR(f->st.st_mode);
}

/* Opens what lstat found to have become a regular file or a directory since readdir. */
static void open_late(struct walker *w, struct found *f, int flags)
{
	if (f->fd >= 0)
		return;
	f->fd = openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
	if (f->fd < 0 || fstat(f->fd, &f->st) < 0)
		fail_at(w);
}

/* ---- storing, by type ---- */

/* A later path of a file with several links becomes a hard-link entry naming the first path in
 * archive order. True when it was written as one. */
static bool store_hard_link(struct walker *w, const struct found *f)
{
	if (!link_table_candidate(&w->links, &f->st, f->dirfd))
		return false;
	struct tar_entry e = {.type = TAR_LNKTYPE};
	e.link = link_table_first(&w->links, f->st.st_dev, f->st.st_ino, w->path.data, w->path.len,
	                          &e.link_len);
	if (e.link == NULL)
		return false;
	write_entry(w, &e, &f->st);
	return true;
}

static void store_regular(struct walker *w, struct found *f)
{
	struct tar_entry e = {.type = TAR_REGTYPE, .size = (uint64_t)f->st.st_size};
	if (w->out == NULL) { /* the signature alone: what lstat says, and no byte read */
		write_entry(w, &e, &f->st);
		return;
	}
	open_late(w, f, O_NONBLOCK);
	e.size = (uint64_t)f->st.st_size;
	write_entry(w, &e, &f->st);
	struct copy_error ce;
	if (copy_file(w->out, f->fd, &f->st, &ce) < 0)
		copy_failed(w, (uint64_t)f->st.st_size, &ce);
}

static void store_directory(struct walker *w, struct found *f, size_t depth, enum verdict v)
{
	open_late(w, f, O_DIRECTORY);
	buf_append(&w->path, "/", 1);
	if (v == ENTRY_KEPT) {
		struct tar_entry e = {.type = TAR_DIRTYPE};
		write_entry(w, &e, &f->st);
	} else {
		push_pending(w, &f->st);
	}
	walk_dir(w, f->fd, depth + 1);
	if (v != ENTRY_KEPT)
		pop_pending(w);
}

/* The target into w->target; its length. st_size is the target's length on most file systems,
 * but not all (/proc): the buffer grows until the target fits. */
static size_t read_target(struct walker *w, const struct found *f)
{
	size_t cap = f->st.st_size > 0 ? (size_t)f->st.st_size + 1 : 256;
	for (;;) {
		if (w->target_cap < cap) {
			w->target = xreallocarray(w->target, cap, 1);
			w->target_cap = cap;
		}
		ssize_t n = readlinkat(f->dirfd, f->name, w->target, w->target_cap);
		if (n < 0)
			fail_at(w);
		if ((size_t)n < w->target_cap)
			return (size_t)n;
		cap = 2 * w->target_cap;
	}
}

static void store_symlink(struct walker *w, const struct found *f)
{
	size_t len = read_target(w, f); /* first: it may move w->target */
	struct tar_entry e = {.type = TAR_SYMTYPE, .link = w->target, .link_len = len};
	write_entry(w, &e, &f->st);
}

/* A character or block device (with its numbers) or a fifo. */
static void store_node(struct walker *w, const struct found *f)
{
	mode_t m = f->st.st_mode;
	struct tar_entry e = {
	        .type = S_ISCHR(m)   ? TAR_CHRTYPE
	                : S_ISBLK(m) ? TAR_BLKTYPE
	                             : TAR_FIFOTYPE,
	};
	if (!S_ISFIFO(m)) {
		e.devmajor = major(f->st.st_rdev);
		e.devminor = minor(f->st.st_rdev);
	}
	write_entry(w, &e, &f->st);
}

static void store(struct walker *w, struct found *f, size_t depth, enum verdict v)
{
	mode_t m = f->st.st_mode;
	if (S_ISSOCK(m)) {
		warnx("%s: socket skipped", fs_path(w));
		return;
	}
	if (store_hard_link(w, f))
		return;
	if (S_ISREG(m))
		store_regular(w, f);
	else if (S_ISDIR(m))
		store_directory(w, f, depth, v);
	else if (S_ISLNK(m))
		store_symlink(w, f);
	else if (S_ISCHR(m) || S_ISBLK(m) || S_ISFIFO(m))
		store_node(w, f);
	else
		errx(EXIT_FAIL, "%s: unknown file type %#o", fs_path(w), (unsigned)(m & S_IFMT));
}

/* ---- the walk ---- */

/* Name index of directory dirfd at depth (0: directly in DIR), d_type type. */
static void walk_entry(struct walker *w, int dirfd, const char *name, unsigned char type,
                       size_t index, size_t depth)
{
	size_t base = w->path.len;
	buf_append(&w->path, name, strlen(name));
	struct found f = {.dirfd = dirfd,
	                  .name = name,
	                  .type = type,
	                  .index = index,
	                  .depth = depth,
	                  .fd = -1};
	if (w->pf != NULL)
		prefetch_at(w->pf, depth, index);
	if (f.type == DT_UNKNOWN)
		learn_type(w, &f);
	enum verdict v = verdict_of(w, &f, depth);
	if (v != ENTRY_LEFT_OUT && open_and_stat(w, &f, v))
		store(w, &f, depth, v);
	if (f.fd >= 0)
		close(f.fd);
	if (w->pf != NULL && f.type == DT_DIR)
		prefetch_pass(w->pf, depth, index);
	w->path.len = base;
	w->path.data[base] = '\0';
}

static void walk_dir(struct walker *w, int fd, size_t depth)
{
	const struct dir_names *d;
	bool ready = w->names_ready;
	w->names_ready = false;
	if (ready)
		d = names_adopt(&w->names, prefetch_dir_names(w->pf));
	else if ((d = names_push(&w->names, fd)) == NULL)
		fail_at(w);
	if (w->pf != NULL)
		prefetch_push(w->pf, depth, fd, d);
	if (ready) /* after the push: the next read ahead is in this directory if it can be */
		prefetch_dir_done(w->pf);
	for (size_t i = 0; i < d->count; i++) {
		unsigned char type;
		const char *name = names_at(d, i, &type);
		walk_entry(w, fd, name, type, i, depth);
	}
	if (w->pf != NULL)
		prefetch_pop(w->pf, depth);
	names_pop(&w->names);
}

/* One fd per directory level is held open; a deep tree needs more than the usual 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* --root-dir's entry: a directory with the mode of DIR. */
static void store_root(struct walker *w, int root)
{
	struct stat st;
	if (fstat(root, &st) < 0)
		err(EXIT_FAIL, "%s", w->opt->dir);
	struct tar_entry e = {.type = TAR_DIRTYPE};
	write_entry(w, &e, &st);
}

static void walker_free(struct walker *w)
{
	buf_free(&w->path);
	free(w->dir);
	names_free(&w->names);
	free(w->exclude.results);
	free(w->only.results);
	free(w->skip.results);
	free(w->pending);
	link_table_free(&w->links);
	free(w->target);
}

void walk_tree(const struct walk_options *opt, struct tar_out *o)
{
	static const struct excluder none;
	struct walker w = {
	        .opt = opt,
	        .out = o,
	        .exclude.ex = opt->exclude ? opt->exclude : &none,
	        .only.ex = opt->part ? &opt->part->only : &none,
	        .skip.ex = opt->part ? &opt->part->skip : &none,
	};
	raise_fd_limit();
	size_t dlen = strlen(opt->dir);
	while (dlen > 1 && opt->dir[dlen - 1] == '/')
		dlen--;
	w.dir = xstrndup(opt->dir, dlen);

	int root = open(opt->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		err(EXIT_FAIL, "%s", opt->dir);
	buf_append(&w.path, opt->root, strlen(opt->root));
	w.root_len = w.path.len;
	if (w.root_len > 0)
		store_root(&w, root);
	/* A signature walk is its lstat calls: a second thread takes them ahead. An archive's
	 * walk opens its files instead, and has the compressor to share the cores with. */
	if (o == NULL && sysconf(_SC_NPROCESSORS_ONLN) > 1)
		w.pf = prefetch_start();
	walk_dir(&w, root, 0);
	if (w.pf != NULL)
		prefetch_stop(w.pf);
	close(root);
	const char *option, *unmatched = opt->part ? part_unmatched(opt->part, &option) : NULL;
	if (unmatched != NULL)
		errx(EXIT_FAIL, "%s %s: matches nothing in %s", option, unmatched, w.dir);
	walker_free(&w);
}
