/* Whole reads and writes on a file descriptor. */
#ifndef OCINOCO_FDIO_H
#define OCINOCO_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* write(2) until done, retrying EINTR and short writes; 0 or -1 with errno. */
int write_all(int fd, const void *p, size_t n);
/* read(2) once, again when a signal interrupts it (EINTR); what read returns. */
ssize_t read_retry(int fd, void *p, size_t n);
/* pread(2) likewise. */
ssize_t pread_retry(int fd, void *p, size_t n, off_t off);
/* read(2) until n bytes or EOF, retrying EINTR; bytes read or -1 with errno. */
ssize_t read_full(int fd, void *p, size_t n);

#endif
