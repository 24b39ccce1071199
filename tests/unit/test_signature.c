/* oci-tar --signature's racy rule and its hash: what changes it and what does not. */
#include "signature.h"
#include "tap.h"

#include <string.h>

static struct timespec at(time_t s, long ns)
{
	return (struct timespec){.tv_sec = s, .tv_nsec = ns};
}

/* The signature of one regular file entry, with the stat fields given. */
static void sig_of(const struct stat *st, uint32_t mode, char out[DIGEST_STR_LEN], bool *racy)
{
	struct signature s;
	signature_start(&s);
	struct tar_entry e = {.path = "a",
	                      .path_len = 1,
	                      .link = "",
	                      .type = TAR_REGTYPE,
	                      .mode = mode,
	                      .size = (uint64_t)st->st_size};
	signature_add(&s, &e, st);
	signature_final(&s, out);
	*racy = s.racy;
	signature_free(&s);
}

int main(void)
{
	struct timespec start = at(1000, 500000000);
	/* Nanosecond timestamps: 20 ms. */
	ok(!signature_is_racy(&(struct timespec){.tv_sec = 1000, .tv_nsec = 480000000}, &start),
	   "20 ms before the walk: not racy");
	ok(signature_is_racy(&(struct timespec){.tv_sec = 1000, .tv_nsec = 480000001}, &start),
	   "less than 20 ms before the walk: racy");
	ok(signature_is_racy(&(struct timespec){.tv_sec = 1001, .tv_nsec = 1}, &start),
	   "after the walk began: racy");
	/* Whole seconds (a coarse file system): 2 s. */
	ok(!signature_is_racy(&(struct timespec){.tv_sec = 998, .tv_nsec = 0}, &start),
	   "whole seconds, 2.5 s before: not racy");
	ok(signature_is_racy(&(struct timespec){.tv_sec = 999, .tv_nsec = 0}, &start),
	   "whole seconds, 1.5 s before: racy");

	struct stat st = {.st_dev = 1,
	                  .st_ino = 2,
	                  .st_size = 3,
	                  .st_mtim = at(100, 1),
	                  .st_ctim = at(100, 2)};
	char a[DIGEST_STR_LEN], b[DIGEST_STR_LEN];
	bool racy;
	sig_of(&st, 0644, a, &racy);
	ok(!racy, "an old file is not racy");
	sig_of(&st, 0644, b, &racy);
	is_str(b, a, "the same entry, the same signature");
	struct stat t = st;
	t.st_ctim.tv_nsec++;
	sig_of(&t, 0644, b, &racy);
	ok(strcmp(a, b) != 0, "a ctime one nanosecond later changes it");
	t = st;
	t.st_ino++;
	sig_of(&t, 0644, b, &racy);
	ok(strcmp(a, b) != 0, "another inode changes it");
	t = st;
	t.st_mtim.tv_nsec++;
	sig_of(&t, 0644, b, &racy);
	ok(strcmp(a, b) != 0, "an mtime one nanosecond later changes it");
	sig_of(&st, 0600, b, &racy);
	ok(strcmp(a, b) != 0, "another mode (in the header) changes it");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	t = st;
	t.st_ctim = now;
	sig_of(&t, 0644, b, &racy);
	ok(racy, "a file changed now makes the signature racy");
	return done_testing();
}
