#include "fdio.h"

#include <errno.h>
#include <unistd.h>

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t read_retry(int fd, void *p, size_t n)
{
	ssize_t r;
	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t pread_retry(int fd, void *p, size_t n, off_t off)
{
	ssize_t r;
	do
		r = pread(fd, p, n, off);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read_retry(fd, (char *)p + got, n - got);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}
