#include "hold.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

int hold_open(const char *path)
{
	/* (non-blocking: a FIFO opens at once; its reads are polled) */
	return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/* The answer in what was read so far (up to its first newline), or -1: none yet. */
static int answer_of(const char *line, size_t n, bool ended)
{
	const char *nl = memchr(line, '\n', n);
	if (nl == NULL && !ended)
		return -1;
	size_t len = nl ? (size_t)(nl - line) : n;
	if (len == 4 && memcmp(line, "send", 4) == 0)
		return HOLD_SEND;
	if ((len == 4 && memcmp(line, "drop", 4) == 0) || (len == 0 && ended && n == 0))
		return HOLD_DROP;
	return HOLD_FAILED;
}

enum hold_answer hold_wait(int fd, const char *path, struct blob_src *src)
{
	char line[16];
	size_t n = 0;
	int answer = -1;
	while (answer < 0) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
		                      {.fd = src->fd, .events = POLLIN}};
		nfds_t np = blobsrc_wants(src) ? 2 : 1;
		if (poll(p, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			warn("--hold %s", path);
			answer = HOLD_FAILED;
			break;
		}
		if (np == 2 && p[1].revents)
			blobsrc_feed(src);
		if (p[0].revents == 0)
			continue;
		ssize_t r = read(fd, line + n, sizeof line - n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			warn("--hold %s", path);
			answer = HOLD_FAILED;
			break;
		}
		n += (size_t)r;
		answer = answer_of(line, n, r == 0 || n == sizeof line);
		if (answer == HOLD_FAILED)
			warnx("--hold %s: neither send nor drop", path);
	}
	close(fd);
	return (enum hold_answer)answer;
}
