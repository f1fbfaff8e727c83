/* zone_static.c - serving an rbldnsd data file as the zone: the first load, reloads when the
 * file has changed and stopped changing, and on request (SIGHUP). A load that fails keeps the
 * snapshot being served (STYLE.md 4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "zone_internal.h"

struct zone_static {
	struct zone_handle *zone;
	struct zone_defaults defaults;
	char *txt;  /* the defaults' TXT template, owned */
	char *path; /* "" : no file, the test points and defaults only */
	struct stat loaded_st; /* the file as last loaded */
	bool loaded;
	struct stat pending_st; /* a change seen but not yet settled */
	bool pending;
	bool published;        /* a snapshot went out: its serial is last_serial */
	uint32_t last_serial;
};

int zone_static_new(struct zone_handle *zone, const struct zone_defaults *defaults,
		    const char *path, struct zone_static **out)
{
	struct zone_static *zs = calloc(1, sizeof(*zs));
	if (!zs)
		return ZONE_ENOMEM;
	zs->zone = zone;
	zs->defaults = *defaults;
	zs->path = strdup(path ? path : "");
	zs->txt = defaults->txt ? strdup(defaults->txt) : NULL;
	if (!zs->path || (defaults->txt && !zs->txt)) {
		zone_static_free(zs);
		return ZONE_ENOMEM;
	}
	zs->defaults.txt = zs->txt;
	*out = zs;
	return ZONE_OK;
}

int zone_static_defaults_set(struct zone_static *zs, const struct zone_defaults *defaults)
{
	char *txt = defaults->txt ? strdup(defaults->txt) : NULL;
	if (defaults->txt && !txt)
		return ZONE_ENOMEM;
	free(zs->txt);
	zs->txt = txt;
	zs->defaults = *defaults;
	zs->defaults.txt = zs->txt;
	return ZONE_OK;
}

void zone_static_free(struct zone_static *zs)
{
	if (!zs)
		return;
	free(zs->path);
	free(zs->txt);
	free(zs);
}

/* Reads the file into b: ZONE_OK, or ZONE_EPARSE with *refuse false when a snapshot should still
 * be built from b. */
static int static_read(struct zone_static *zs, struct zone_builder *b, struct stat *sb,
		       struct zone_load_report *rep, bool *refuse)
{
	*refuse = false;
	const char *path = zs->path;
	const char *keeping = zs->loaded ? "previous" : "none";
	if (stat(path, sb) != 0) {
		log_err("zone", "load failed file=%s reason=\"%s\" keeping=%s", path,
			strerror(errno), keeping);
		return ZONE_EIO;
	}
	int rc = zone_load_rbldnsd(b, path, rep);
	if (rc == ZONE_EPARSE && rep->entries == 0 && zs->loaded) {
		/* Nothing usable in the new file while an older one serves: a broken write, not
		 * an operator emptying the list on purpose. */
		log_err("zone", "load failed file=%s reason=\"no valid entry, %zu bad lines\" "
				"keeping=previous",
			path, rep->errors);
		*refuse = true;
		return ZONE_EPARSE;
	}
	if (rc != ZONE_OK && rc != ZONE_EPARSE)
		log_err("zone", "load failed file=%s reason=\"%s\" keeping=%s", path,
			tl_strerror(rc), keeping);
	return rc;
}

int zone_static_load(struct zone_static *zs, const char *why)
{
	uint64_t t0 = time_mono_ns();
	struct zone_builder *b = zone_builder_new(&zs->defaults);
	if (!b)
		return ZONE_ENOMEM;
	struct stat sb;
	memset(&sb, 0, sizeof(sb));
	struct zone_load_report rep = {0, 0, 0};
	bool refuse = false;
	int rc = zs->path[0] ? static_read(zs, b, &sb, &rep, &refuse) : ZONE_OK;
	if (refuse || (rc != ZONE_OK && rc != ZONE_EPARSE)) {
		zone_builder_free(b);
		return rc;
	}
	struct zone_snapshot *snap;
	int brc = zone_snapshot_build(b, &snap);
	zone_builder_free(b);
	if (brc != ZONE_OK) {
		log_err("zone", "build failed reason=\"%s\" keeping=previous", tl_strerror(brc));
		return brc;
	}
	/* Secondaries take a zone only when its serial is greater (RFC 1982): a file that keeps
	 * its $SOA serial, or two loads within one second of mtime or clock, would leave them
	 * on the old zone. The serial then rises by one, and the log says so. */
	if (zs->published && !zone_serial_gt(snap->soa.serial, zs->last_serial)) {
		uint32_t was = snap->soa.serial;
		snap->soa.serial = zone_serial_next(zs->last_serial, was);
		log_info("zone", "serial raised from=%u to=%u reason=\"not above the serial served "
			 "before (%u)\"", was, snap->soa.serial, zs->last_serial);
	}
	zs->published = true;
	zs->last_serial = snap->soa.serial;
	size_t entries = zone_snapshot_count(snap), bytes = zone_snapshot_bytes(snap);
	uint32_t serial = zone_snapshot_soa(snap)->serial;
	zone_publish(zs->zone, snap);
	if (zs->path[0]) {
		zs->loaded_st = sb;
		zs->loaded = true;
	}
	log_info("zone", "published reason=%s entries=%zu bad_lines=%zu serial=%u bytes=%zu ms=%.1f",
		 why, entries, rep.errors, serial, bytes, (double)(time_mono_ns() - t0) / 1e6);
	return rc;
}

static bool stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_size == b->st_size && a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

void zone_static_check(struct zone_static *zs)
{
	struct stat sb;
	if (!zs->path[0] || stat(zs->path, &sb) != 0)
		return;
	if (zs->loaded && stat_same(&sb, &zs->loaded_st)) {
		zs->pending = false;
		return;
	}
	if (zs->pending && stat_same(&sb, &zs->pending_st)) {
		zs->pending = false;
		zone_static_load(zs, "file-changed");
		return;
	}
	zs->pending = true;
	zs->pending_st = sb;
}
