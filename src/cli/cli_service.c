/* cli_service.c - the service's user and its data directory: which user started-as-root runs
 * as, the rules by which a data directory becomes that user's, and a command's switch to that
 * user's effective IDs so that whichever comes first, the service or a command, the files end
 * up the service's. `serve` (main.c) and the operator's commands (cli_run.c) share them. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_internal.h"

/* The files a service or a command makes in the data directory. */
static const char *const data_files[] = {"trapline.db", "trapline.db-wal", "trapline.db-shm",
					 "trapline.lock", "trapline.rbldnsd", "trapline.zone"};

/* nobody is many daemons' user: a service running as it shares its files and its control
 * socket with all of them. */
static bool user_is_nobody(const struct passwd *pw)
{
	return strcmp(pw->pw_name, "nobody") == 0 || pw->pw_uid == 65534;
}

/* ctl_group's gid into *group (-1 when the key is empty). 0, or CTL_EXIT_USAGE after one line. */
int cli_service_group(const struct config *cfg, int *group)
{
	*group = -1;
	if (!cfg->ctl_group[0])
		return 0;
	struct group *g = getgrnam(cfg->ctl_group);
	if (!g) {
		fprintf(stderr, "trapline: ctl_group: no such group '%s'\n", cfg->ctl_group);
		return CTL_EXIT_USAGE;
	}
	*group = (int)g->gr_gid;
	return 0;
}

/* The user the service runs as when started as root (getpwnam's storage: use it before the
 * next getpw* call). 0, or CTL_EXIT_USAGE after one line. */
int cli_service_user(const struct config *cfg, struct passwd **out)
{
	struct passwd *pw = getpwnam(cfg->user);
	if (!pw) {
		fprintf(stderr, "trapline: user: no such user '%s' (started as root, Trapline runs as "
				"it: `make install` or scripts/deps.sh creates the system user "
				"trapline)\n", cfg->user);
		return CTL_EXIT_USAGE;
	}
	if (user_is_nobody(pw) && !cfg->allow_nobody) {
		fprintf(stderr, "trapline: user: %s is shared with other daemons, and any process "
				"of the service's user may use its control socket: give Trapline a "
				"user of its own (trapline), or accept this with --allow-nobody\n",
			pw->pw_name);
		return CTL_EXIT_USAGE;
	}
	*out = pw;
	return 0;
}

static void owner_name(uid_t uid, char *buf, size_t cap)
{
	struct passwd *o = getpwuid(uid);
	if (o)
		snprintf(buf, cap, "%s", o->pw_name);
	else
		snprintf(buf, cap, "uid %u", (unsigned)uid);
}

/* Started as root, the data directory must end up the service user's (uid, gid). Trapline gives
 * it a directory only when it makes that directory here; an existing one must already be
 * the user's, with none of our files in it belonging to someone else. Taking over whatever
 * exists would hand the service, say, /var (the default ./var, run from /). 0, or 1 after one
 * line saying why. */
int cli_data_dir_take(const char *dir, uid_t uid, gid_t gid, const char *user)
{
	if (mkdir(dir, 0750) == 0) {
		/* Given by descriptor: what was made is what is given, whatever the path is now. */
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchown(fd, uid, gid) != 0) {
			fprintf(stderr, "trapline: data_dir %s: cannot give it to %s: %s\n", dir, user,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		fprintf(stderr, "trapline: data_dir %s: cannot create it: %s\n", dir, strerror(errno));
		return 1;
	}
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "trapline: data_dir %s: not a directory\n", dir);
		return 1;
	}
	char owner[64];
	if (sb.st_uid != uid) {
		owner_name(sb.st_uid, owner, sizeof(owner));
		fprintf(stderr, "trapline: data_dir %s belongs to %s, not to the service's user %s, "
				"and Trapline takes over only a directory it creates: name a new "
				"one, or `chown %s %s` if this one is for Trapline alone\n",
			dir, owner, user, user, dir);
		return 1;
	}
	for (size_t i = 0; i < sizeof(data_files) / sizeof(data_files[0]); i++) {
		char f[CONFIG_STR_MAX + 32];
		snprintf(f, sizeof(f), "%s/%s", dir, data_files[i]);
		struct stat fs;
		if (stat(f, &fs) == 0 && fs.st_uid != uid) {
			owner_name(fs.st_uid, owner, sizeof(owner));
			fprintf(stderr, "trapline: %s belongs to %s, but the service runs as %s: "
					"chown -R %s %s (or set the config key user)\n",
				f, owner, user, user, dir);
			return 1;
		}
	}
	return 0;
}

/* Not root: the data directory is the caller's; made with ctl_group when one is set, so that
 * its members can reach the socket. 0, or 1 after logging why. */
int cli_data_dir_make(const char *dir, int group)
{
	if (mkdir(dir, 0750) != 0) {
		if (errno == EEXIST)
			return 0;
		log_err("main", "cannot create data_dir=%s reason=\"%s\"", dir, strerror(errno));
		return 1;
	}
	if (group >= 0 && chown(dir, (uid_t)-1, (gid_t)group) != 0)
		log_warn("main", "cannot give data_dir=%s to ctl_group reason=\"%s\"", dir,
			 strerror(errno));
	return 0;
}

/* Takes on pw's identity for good: its group, its user, and no supplementary group but
 * ctl_group (group >= 0), which the control socket is given to. */
int cli_become(const struct passwd *pw, int group)
{
	gid_t g = (gid_t)group;
	if (setgroups(group >= 0 ? 1 : 0, group >= 0 ? &g : NULL) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return -1;
	return 0;
}

/* ---- a command on the data directory ------------------------------------------- */

/* Started as root, a command works on the data directory as the service's user, so that
 * whichever comes first (the service or a command) the files end up the service's: it
 * creates the directory for that user, and refuses a directory or a file that belongs to
 * someone else, with the line that says how to fix it (cli_data_dir_take). 0, or an exit status. */
int cli_take_data_dir(const struct config *cfg)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw;
	int group, rc;
	if ((rc = cli_service_group(cfg, &group)) != 0 || (rc = cli_service_user(cfg, &pw)) != 0)
		return rc;
	if (cli_data_dir_take(cfg->data_dir, pw->pw_uid, group >= 0 ? (gid_t)group : pw->pw_gid,
			      pw->pw_name) != 0)
		return CTL_EXIT_FAIL;
	/* Effective IDs only: the files this command creates are the service's, and root is
	 * back for what the caller asked to be written elsewhere (export --out). */
	if (setegid(pw->pw_gid) != 0 || seteuid(pw->pw_uid) != 0) {
		fprintf(stderr, "trapline: cannot become %s: %s\n", pw->pw_name, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return 0;
}

/* Back to root after cli_take_data_dir (nothing when it did not switch). */
void cli_back_to_root(void)
{
	if (getuid() == 0 && geteuid() != 0 && (seteuid(0) != 0 || setegid(0) != 0))
		fprintf(stderr, "trapline: cannot switch back to root: %s\n", strerror(errno));
}
