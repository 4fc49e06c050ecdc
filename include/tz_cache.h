/* tz_cache.h — wall-clock time for every stage that shows or plans by it: the UTC offset of a zone
 * at an instant, and the wall-clock time in a zone.
 *
 * Zones are read with timeparse.h's TZif reader, each once, and kept for the life of the process.
 * The daemon asks for two (the configured `timezone:` and the local zone), a reload that names a
 * new zone adds one: the cache stays a handful of zones and is a list. One event loop, one thread:
 * no locking. Never sets $TZ, never calls tzset().
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "timeparse.h"

/* The zone called name, or the local zone for NULL or "" (tz_load_local()): read on the first
 * call, the same object afterwards, until tz_cache_clear(). Errors as tz_load(); they are not
 * kept, so that a zone installed later is found. */
int tz_cache_get(const char *name, const struct tz **ret);

/* Seconds east of UTC at t in the zone called name (NULL or "": the local zone). */
int tz_utc_offset(const char *name, int64_t t, int32_t *ret);

/* localtime_r() of t in the zone called name (NULL or "": the local zone), for strftime();
 * tm_gmtoff is the offset, tm_zone NULL (%Z prints nothing). Errors as tz_cache_get(), and
 * -EOVERFLOW for t outside [TIMEPARSE_TIME_MIN, TIMEPARSE_TIME_MAX]. */
int tz_localtime(const char *name, int64_t t, struct tm *ret);

/* The local zone as the C library finds it, read now: $TZ (a leading ':' dropped) as a zone name,
 * an absolute path to a TZif file or a POSIX fixed offset ("MSK-3"), "" meaning UTC; without $TZ,
 * /etc/localtime. What cannot be read that way is UTC, as it is to glibc; that includes a $TZ with
 * a DST rule ("CET-1CEST,M3.5.0,M10.5.0/3"), which glibc would follow and the reader does not.
 * Fails only for -ENOMEM. */
int tz_load_local(struct tz **ret);

/* Frees every zone: what tz_cache_get() gave is gone. At exit, and for tests. */
void tz_cache_clear(void);
