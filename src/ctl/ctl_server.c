/* ctl_server.c - the control socket: a running service's thread that answers the operator's
 * commands one connection at a time, and the client side the CLI uses to reach it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/base.h"
#include "ctl_internal.h"
#include "zone/zone.h"

/* A request and its answer are small and local; a client that stalls longer is gone. */
#define CTL_IO_TIMEOUT_S 10
/* What a client waits for an answer: a rebuild of a million listings takes seconds. */
#define CTL_ANSWER_TIMEOUT_S 120

struct ctl_server {
	char *path;
	int fd;
	int wake[2];
	pthread_t thread;
	struct ctl_service svc;
	uid_t uid;      /* the service's own user */
	int group;      /* ctl_group, or -1 */
	uint64_t refused;
	/* A reload's settings, taken by the thread before its next request (ctl_server_reload):
	 * only that thread reads svc. */
	pthread_mutex_t reload_mtx;
	const struct config *reload;
};

static int addr_make(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return CTL_EIO;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return CTL_OK;
}

static void timeouts_set(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* ---- the server --------------------------------------------------------------- */

/* Reads one line (up to CTL_LINE_MAX) and perhaps the start of a body behind it; returns the
 * line's length (newline included) and *got the bytes read in all, or -1. */
static ssize_t line_read(int fd, char *buf, size_t cap, size_t *got)
{
	size_t n = 0;
	while (n < cap) {
		ssize_t r = recv(fd, buf + n, cap - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		char *nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
		if (nl) {
			*got = n;
			return nl - buf + 1;
		}
	}
	return -1;
}

/* Reads the body the line announced (its first `have` bytes already in `start`) and attaches
 * it to req; *body is the buffer (the caller frees it). An exit status, with the message in
 * err when it is not 0. */
static int body_read(int fd, struct ctl_request *req, const char *start, size_t have,
		     char **body, FILE *err)
{
	char msg[CTL_ERR_MAX];
	if (have > req->body_len) {
		fprintf(err, "trapline: %zu bytes after a body of %zu\n", have - req->body_len,
			req->body_len);
		return CTL_EXIT_USAGE;
	}
	*body = malloc(req->body_len ? req->body_len : 1);
	if (!*body) {
		fprintf(err, "trapline: out of memory for a body of %zu bytes\n", req->body_len);
		return CTL_EXIT_FAIL;
	}
	memcpy(*body, start, have);
	while (have < req->body_len) {
		ssize_t r = recv(fd, *body + have, req->body_len - have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(err, "trapline: the body ended after %zu of its %zu bytes\n", have,
				req->body_len);
			return CTL_EXIT_USAGE;
		}
		have += (size_t)r;
	}
	if (ctl_request_attach(req, *body, req->body_len, msg, sizeof(msg)) != CTL_OK) {
		fprintf(err, "trapline: %s\n", msg);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

static void who_of(int fd, char *who, size_t cap)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		snprintf(who, cap, "ctl:unknown");
		return;
	}
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (getpwuid_r(cred.uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(who, cap, "ctl:%s", res->pw_name);
	else
		snprintf(who, cap, "ctl:uid%u", (unsigned)cred.uid);
}

/* True when gid is the peer's group or one of its supplementary groups (SO_PEERGROUPS, as
 * the kernel recorded them at connect: a member who was removed since keeps them until it
 * logs in again, as with a file's group). */
static bool peer_in_group(int fd, gid_t primary, gid_t gid)
{
	if (primary == gid)
		return true;
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Commands change the list: root, the service's user and the members of ctl_group only. The
 * socket file's mode says the same; this holds even if the mode was widened by hand. */
static bool peer_allowed(const struct ctl_server *srv, int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) != 0)
		return false;
	if (cred->uid == 0 || cred->uid == srv->uid)
		return true;
	return srv->group >= 0 && peer_in_group(fd, cred->gid, (gid_t)srv->group);
}

static void conn_refuse(struct ctl_server *srv, int fd, const struct ucred *cred)
{
	static const char msg[] = "status 1\ntrapline: the control socket is for root, the "
				  "service's user and the members of ctl_group only\n";
	send_all(fd, msg, sizeof(msg) - 1);
	/* One line for the first refusal and then one per 100: a loop of them floods nothing. */
	if (srv->refused++ % 100 == 0)
		log_warn("ctl", "refused peer uid=%u gid=%u pid=%d refused=%llu", (unsigned)cred->uid,
			 (unsigned)cred->gid, (int)cred->pid, (unsigned long long)srv->refused);
}

static void conn_serve(struct ctl_server *srv, int fd)
{
	timeouts_set(fd, CTL_IO_TIMEOUT_S);
	char *line = malloc(CTL_LINE_MAX), *body = NULL;
	char *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0, got = 0;
	FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
	if (!line || !out || !err)
		goto done;
	ssize_t n = line_read(fd, line, CTL_LINE_MAX, &got);
	int status = CTL_EXIT_OK;
	struct ctl_request req;
	char msg[CTL_ERR_MAX], who[CTL_WHO_MAX];
	if (n < 0) {
		fprintf(err, "trapline: no request line from the client\n");
		status = CTL_EXIT_USAGE;
	} else if (ctl_request_parse(line, (size_t)n, &req, msg, sizeof(msg)) != CTL_OK) {
		fprintf(err, "trapline: %s\n", msg);
		status = CTL_EXIT_USAGE;
	} else if (req.has_body) {
		status = body_read(fd, &req, line + n, got - (size_t)n, &body, err);
	} else if (got > (size_t)n) {
		fprintf(err, "trapline: bytes after the request line, and no body=LEN\n");
		status = CTL_EXIT_USAGE;
	}
	if (n >= 0 && status == CTL_EXIT_OK) {
		who_of(fd, who, sizeof(who));
		status = ctl_execute(&srv->svc, &req, who, out, err);
		log_info("ctl", "request cmd=%s who=%s status=%d", req.cmd->name, who,
			 status);
	}
	fflush(out);
	fflush(err);
	char head[32];
	int hl = snprintf(head, sizeof(head), "status %d\n", status);
	if (send_all(fd, head, (size_t)hl)) {
		if (status == CTL_EXIT_OK)
			send_all(fd, obuf, olen);
		else
			send_all(fd, ebuf, elen);
	}
done:
	if (out)
		fclose(out);
	if (err)
		fclose(err);
	free(obuf);
	free(ebuf);
	free(body);
	free(line);
}

/* On the server's thread: a reload's settings replace svc's; its wiring (the writer, its
 * reader, the zone, the metrics) stays. */
static void reload_take(struct ctl_server *srv)
{
	pthread_mutex_lock(&srv->reload_mtx);
	const struct config *cfg = srv->reload;
	srv->reload = NULL;
	pthread_mutex_unlock(&srv->reload_mtx);
	if (cfg)
		ctl_service_settings(&srv->svc, cfg);
}

int ctl_server_reload(struct ctl_server *srv, const struct config *cfg)
{
	if (!srv)
		return CTL_OK;
	pthread_mutex_lock(&srv->reload_mtx);
	srv->reload = cfg;
	pthread_mutex_unlock(&srv->reload_mtx);
	return CTL_OK;
}

static void *server_main(void *arg)
{
	struct ctl_server *srv = arg;
	zone_reader_register();
	for (;;) {
		struct pollfd pfd[2] = {{.fd = srv->fd, .events = POLLIN},
					{.fd = srv->wake[0], .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("ctl", "poll failed reason=\"%s\"", strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		int c = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		struct ucred cred = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
		reload_take(srv);
		if (peer_allowed(srv, c, &cred))
			conn_serve(srv, c);
		else
			conn_refuse(srv, c, &cred);
		close(c);
	}
	zone_reader_unregister();
	return NULL;
}

/* True when a live process accepts on path. */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

static int listen_make(const char *path, int group, int *out)
{
	struct sockaddr_un sa;
	if (addr_make(path, &sa) != CTL_OK)
		return CTL_EIO;
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || socket_alive(&sa)) {
			errno = EADDRINUSE;
			return CTL_EIO;
		}
		/* Left by a process that was killed: nothing answers on it. */
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return CTL_EIO;
	/* The socket is born 0600: commands change the list, so only its owner may connect; with
	 * ctl_group it is given to that group, 0660, before anyone can connect (listen). */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || chmod(path, 0600) != 0)
		goto fail;
	if (group >= 0 && (chown(path, (uid_t)-1, (gid_t)group) != 0 || chmod(path, 0660) != 0))
		goto fail;
	if (listen(fd, 16) != 0)
		goto fail;
	*out = fd;
	return CTL_OK;
fail:;
	int e = errno;
	close(fd);
	unlink(path);
	errno = e;
	return CTL_EIO;
}

int ctl_server_start(const char *path, const char *data_dir, const struct ctl_service *svc,
		     int group, struct ctl_server **out)
{
	struct ctl_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return CTL_ENOMEM;
	srv->svc = *svc;
	pthread_mutex_init(&srv->reload_mtx, NULL);
	srv->uid = geteuid();
	srv->group = group;
	srv->fd = srv->wake[0] = srv->wake[1] = -1;
	srv->path = strdup(path);
	int rc = CTL_ENOMEM;
	if (!srv->path)
		goto fail_free;
	rc = store_open_mode(data_dir, false, &srv->svc.reader);
	if (rc != STORE_OK) {
		log_err("ctl", "cannot open the store read-only dir=%s reason=\"%s\"", data_dir,
			tl_strerror(rc));
		rc = CTL_EIO;
		goto fail_free;
	}
	if (pipe2(srv->wake, O_CLOEXEC) != 0) {
		rc = CTL_EIO;
		goto fail_store;
	}
	rc = listen_make(path, group, &srv->fd);
	if (rc != CTL_OK) {
		log_err("ctl", "cannot listen path=%s reason=\"%s\"", path, strerror(errno));
		goto fail_pipe;
	}
	if (pthread_create(&srv->thread, NULL, server_main, srv) != 0) {
		rc = CTL_ENOMEM;
		goto fail_listen;
	}
	pthread_setname_np(srv->thread, "tl-ctl");
	log_info("ctl", "listening path=%s", path);
	*out = srv;
	return CTL_OK;

fail_listen:
	close(srv->fd);
	unlink(path);
fail_pipe:
	close(srv->wake[0]);
	close(srv->wake[1]);
fail_store:
	store_close(srv->svc.reader);
fail_free:
	pthread_mutex_destroy(&srv->reload_mtx);
	free(srv->path);
	free(srv);
	return rc;
}

void ctl_server_stop(struct ctl_server *srv)
{
	if (!srv)
		return;
	ssize_t w;
	do
		w = write(srv->wake[1], "x", 1);
	while (w < 0 && errno == EINTR);
	pthread_join(srv->thread, NULL);
	close(srv->fd);
	unlink(srv->path);
	close(srv->wake[0]);
	close(srv->wake[1]);
	store_close(srv->svc.reader);
	pthread_mutex_destroy(&srv->reload_mtx);
	free(srv->path);
	free(srv);
}

/* ---- the client --------------------------------------------------------------- */

int ctl_client_call(const char *path, const struct ctl_request *req, FILE *out, FILE *err,
		    int *status)
{
	struct sockaddr_un sa;
	if (addr_make(path, &sa) != CTL_OK)
		return CTL_EIO;
	char *line = malloc(CTL_LINE_MAX);
	if (!line)
		return CTL_ENOMEM;
	int rc = ctl_request_format(req, line, CTL_LINE_MAX);
	if (rc != CTL_OK)
		goto fail_free;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = CTL_EIO;
		goto fail_free;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		/* No file, or a file nobody accepts on (a killed service): no service runs. */
		rc = (errno == ENOENT || errno == ECONNREFUSED) ? CTL_ENOSERVICE : CTL_EIO;
		goto fail_close;
	}
	timeouts_set(fd, CTL_ANSWER_TIMEOUT_S);
	rc = CTL_EIO;
	/* A service that refuses the request by its line answers without reading the body, and
	 * one that refuses the caller answers without reading anything: what fails to go then
	 * (EPIPE) is no error of ours, the answer is still there to read. */
	if (!send_all(fd, line, strlen(line)) && errno != EPIPE)
		goto fail_close;
	if (req->has_body && req->body_len)
		(void)send_all(fd, req->body, req->body_len);
	/* The answer: "status N\n", then the output until the service closes. */
	char buf[16384];
	size_t have = 0;
	char *nl = NULL;
	while (!nl && have < 64) {
		ssize_t r = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		nl = memchr(buf, '\n', have);
	}
	int st;
	if (!nl || sscanf(buf, "status %d\n", &st) != 1) {
		rc = CTL_EPROTO;
		goto fail_close;
	}
	FILE *dst = st == CTL_EXIT_OK ? out : err;
	size_t head = (size_t)(nl - buf) + 1;
	fwrite(buf + head, 1, have - head, dst);
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail_close;
		if (r == 0)
			break;
		fwrite(buf, 1, (size_t)r, dst);
	}
	*status = st;
	rc = CTL_OK;
fail_close:
	close(fd);
fail_free:
	free(line);
	return rc;
}
