/* cli_file.c - what a command reads and writes beside its arguments: the files it is given
 * (whole, up to a limit, read as the user who runs it), a password typed without echo, and
 * the --out file that appears only when the command succeeded. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli_internal.h"

/* Reads path ("-": standard input) into *buf, at most max bytes; *too_big when there was more.
 * 0, or -1 with errno set. */
static int cli_read_limited(const char *path, size_t max, char **buf, size_t *len, bool *too_big)
{
	bool std_in = strcmp(path, "-") == 0;
	FILE *f = std_in ? stdin : fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 0, n = 0;
	char *b = NULL;
	int rc = 0;
	for (;;) {
		if (n == cap) {
			size_t want = cap ? cap * 2 : 65536;
			want = want > max + 1 ? max + 1 : want;
			if (want == cap)
				break; /* max + 1 bytes read: too big, stop reading */
			char *p = realloc(b, want);
			if (!p) {
				errno = ENOMEM;
				rc = -1;
				break;
			}
			b = p;
			cap = want;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = -1;
			break;
		}
	}
	int saved = errno;
	if (!std_in)
		fclose(f);
	if (rc != 0) {
		free(b);
		errno = saved;
		return -1;
	}
	*buf = b;
	*len = n > max ? max : n;
	*too_big = n > max;
	return 0;
}

/* Reads path as the user who runs the command: a command run as root works on the data
 * directory as the service's user once it opened it itself (cli_take_data_dir), but the files
 * it was given are the caller's to read. */
static int cli_read_as_caller(const char *path, size_t max, char **buf, size_t *len, bool *too_big)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	bool swap = getuid() == 0 && euid != 0;
	if (swap && (seteuid(0) != 0 || setegid(0) != 0))
		return -1;
	int rc = cli_read_limited(path, max, buf, len, too_big);
	int saved = errno;
	if (swap && (setegid(egid) != 0 || seteuid(euid) != 0)) {
		fprintf(stderr, "trapline: cannot switch back to uid %u: %s\n", (unsigned)euid,
			strerror(errno));
		if (rc == 0)
			free(*buf);
		errno = EPERM;
		return -1;
	}
	errno = saved;
	return rc;
}

int cli_read_input(const char *path, size_t max, const char *why, char **buf, size_t *len)
{
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	bool too_big = false;
	if (cli_read_as_caller(path, max, buf, len, &too_big) != 0) {
		fprintf(stderr, "trapline: %s: %s\n", name, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	if (too_big) {
		fprintf(stderr, "trapline: %s: larger than %zu bytes (%zu MiB)%s\n", name, max,
			max >> 20, why);
		free(*buf);
		*buf = NULL;
		return CTL_EXIT_USAGE;
	}
	return 0;
}

/* One line typed without echo (a terminal), or what standard input holds, at most max bytes:
 * the password of moderator add. 0, or an exit status after saying why. */
int cli_read_secret(size_t max, char **buf, size_t *len)
{
	if (isatty(STDIN_FILENO)) {
		struct termios old, quiet;
		if (tcgetattr(STDIN_FILENO, &old) != 0)
			return CTL_EXIT_FAIL;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fprintf(stderr, "password: ");
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		char *line = NULL;
		size_t cap = 0;
		ssize_t n = getline(&line, &cap, stdin);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
		if (n < 0) {
			free(line);
			fprintf(stderr, "trapline: no password given\n");
			return CTL_EXIT_USAGE;
		}
		*buf = line;
		*len = (size_t)n > max ? max + 1 : (size_t)n;
		return 0;
	}
	bool too_big = false;
	if (cli_read_limited("-", max, buf, len, &too_big) != 0) {
		fprintf(stderr, "trapline: standard input: %s\n", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (too_big)
		*len = max + 1; /* refused by the command as too long */
	return 0;
}

/* Writes to FILE.tmp and renames it over FILE only when the command succeeded, so that a
 * mirror never loads half an export. */
int cli_out_finish(FILE *f, const char *path, const char *tmp, int status)
{
	if (!path)
		return status;
	bool ok = status == CTL_EXIT_OK && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) != 0) {
		fprintf(stderr, "trapline: cannot write %s: %s\n", path, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		return status == CTL_EXIT_OK ? CTL_EXIT_FAIL : status;
	}
	return status;
}
