/* web_files.c - the templates and static files: built into the binary, each one replaced by the
 * file of the same name in web_templates when that folder has it. Read at start and again on
 * each configuration reload (SIGHUP). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "web_internal.h"

#define FILE_MAX (1024 * 1024)

static const struct {
	const char *ext, *type;
	bool is_static;
} types[] = {
	{".html", "text/html; charset=utf-8", false},
	{".css", "text/css; charset=utf-8", true},
	{".svg", "image/svg+xml", true},
};

static bool file_kind(const char *name, const char **type, bool *is_static)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0) {
			*type = types[i].type;
			*is_static = types[i].is_static;
			return true;
		}
	}
	return false;
}

/* Reads dir/name into a new buffer; 1 when there is no such file, 0 done, <0 an error. */
static int read_override(const char *dir, const char *name, char **data, size_t *len)
{
	char path[CONFIG_STR_MAX + 80];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? 1 : -1;
	char *buf = malloc(FILE_MAX + 1);
	size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
	bool bad = !buf || ferror(f) || n > FILE_MAX;
	fclose(f);
	if (bad) {
		free(buf);
		errno = buf ? EFBIG : ENOMEM;
		return -1;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

static void fileset_free(struct web_fileset *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->files[i].data);
	free(fs);
}

static int fileset_load(struct web_fileset *fs, const char *dir)
{
	for (size_t i = 0; i < web_embedded_n && fs->n < WEB_FILES_MAX; i++) {
		const struct web_embedded *e = &web_embedded_files[i];
		struct web_file *f = &fs->files[fs->n];
		if (!file_kind(e->name, &f->type, &f->is_static))
			continue;
		snprintf(f->name, sizeof(f->name), "%s", e->name);
		int rc = dir && dir[0] ? read_override(dir, e->name, &f->data, &f->len) : 1;
		if (rc < 0) {
			log_err("web", "cannot read template file=%s/%s reason=\"%s\"", dir, e->name,
				strerror(errno));
			return WEB_EINVAL;
		}
		if (rc == 0) {
			log_info("web", "template file=%s/%s replaces the built-in one", dir, e->name);
		} else {
			f->data = malloc(e->len + 1);
			if (!f->data)
				return WEB_ENOMEM;
			memcpy(f->data, e->data, e->len);
			f->data[e->len] = '\0';
			f->len = e->len;
		}
		fs->n++;
		char err[256];
		if (!f->is_static && web_template_check(f->data, f->len, err, sizeof(err)) != WEB_OK) {
			log_err("web", "template file=%s does not parse problem=\"%s\"", f->name, err);
			return WEB_EINVAL;
		}
	}
	return WEB_OK;
}

int web_files_load(struct web_server *srv, const char *dir)
{
	struct web_fileset *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return WEB_ENOMEM;
	int rc = fileset_load(fs, dir);
	if (rc != WEB_OK) {
		fileset_free(fs);
		return rc;
	}
	fs->older = atomic_load_explicit(&srv->files_now, memory_order_relaxed);
	atomic_store_explicit(&srv->files_now, fs, memory_order_release);
	return WEB_OK;
}

int web_templates_check(const char *dir, char *err, size_t errcap)
{
	if (!dir || !dir[0])
		return WEB_OK;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errcap, "web_templates %s: %s", dir,
			 errno == ENOENT ? "no such directory" : "not a directory");
		return WEB_EINVAL;
	}
	for (size_t i = 0; i < web_embedded_n; i++) {
		const char *name = web_embedded_files[i].name, *type;
		bool is_static;
		char *data = NULL;
		size_t len = 0;
		if (!file_kind(name, &type, &is_static))
			continue;
		int rc = read_override(dir, name, &data, &len);
		if (rc < 0) {
			snprintf(err, errcap, "web_templates %s/%s: cannot read it: %s", dir, name,
				 strerror(errno));
			return WEB_EINVAL;
		}
		char why[256];
		int bad = rc == 0 && !is_static && web_template_check(data, len, why, sizeof(why));
		free(data);
		if (bad) {
			snprintf(err, errcap, "web_templates %s/%s: does not parse: %s", dir, name, why);
			return WEB_EINVAL;
		}
	}
	return WEB_OK;
}

void web_files_free(struct web_server *srv)
{
	for (struct web_fileset *fs = atomic_load(&srv->files_now), *o; fs; fs = o) {
		o = fs->older;
		fileset_free(fs);
	}
	atomic_store(&srv->files_now, NULL);
}

const struct web_file *web_file_find(const struct web_server *srv, const char *name, size_t len)
{
	const struct web_fileset *fs = atomic_load_explicit(&srv->files_now, memory_order_acquire);
	for (size_t i = 0; fs && i < fs->n; i++)
		if (strlen(fs->files[i].name) == len && memcmp(fs->files[i].name, name, len) == 0)
			return &fs->files[i];
	return NULL;
}
