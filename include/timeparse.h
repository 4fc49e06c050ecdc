/* timeparse.h — when does the broadcast start? Dates and times in Russian post text.
 *
 * Reads "сегодня в 18:00", "завтра в 12.00", "5 декабря в 17:00", "05.12 в 17 ч.",
 * "в четверг в 19:00", "через час" relative to the post's date, in an IANA time zone
 * (default Europe/Moscow). Zones are read once from the system's TZif files (or $TZDIR);
 * everything after tz_load() is pure arithmetic: no TZ environment, no locale, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "normalize.h"

#define TIMEZONE_DEFAULT "Europe/Moscow"

/* The instants this file computes with: years 1 to 9999. Every function takes any int64_t, and
 * none overflows: a time outside is held to the nearer end (tz_to_civil,
 * timeparse_format_iso8601), and a post date outside reads no start time (timeparse_tokens). */
#define TIMEPARSE_TIME_MIN INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define TIMEPARSE_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

struct tz;

/* name NULL: Europe/Moscow. -EINVAL for a malformed name, -ENOENT for an unknown zone. The
 * daemon's UTC offsets come from tz_cache.h, which loads its zones here. */
int tz_load(const char *name, struct tz **ret);
/* The TZif file at path, any path (the local zone's /etc/localtime, or $TZ), called name.
 * -ENOENT when it is missing or not TZif. */
int tz_load_file(const char *path, const char *name, struct tz **ret);
/* A POSIX TZ string of one fixed offset, as $TZ may be: "UTC0", "MSK-3", "<+05>-5". -EINVAL for
 * anything else, a DST rule ("CET-1CEST,M3.5.0,M10.5.0/3") included. */
int tz_load_posix(const char *spec, struct tz **ret);
struct tz *tz_free(struct tz *tz);
static inline void tz_freep(struct tz **tz)
{
        *tz = tz_free(*tz);
}
const char *tz_name(const struct tz *tz);

/* Seconds east of UTC at instant t. */
int32_t tz_offset_at(const struct tz *tz, int64_t t);

struct civil_time {
        int year, month, day; /* month 1..12 */
        int hour, minute, second;
        int weekday; /* 0 Monday .. 6 Sunday */
};
/* t outside [TIMEPARSE_TIME_MIN, TIMEPARSE_TIME_MAX] reads as the nearer end. */
void tz_to_civil(const struct tz *tz, int64_t t, struct civil_time *ret);
/* Local wall-clock time -> unix time (the earlier one when a time repeats). Fields out of their
 * range carry over (the 32nd is the 1st of the next month), for any int. */
int64_t tz_from_civil(const struct tz *tz, int year, int month, int day, int hour, int minute,
                      int32_t *ret_offset);

enum {
        TIME_MATCH_DATE = 1 << 0, /* a date was stated (or сегодня/завтра/weekday) */
        TIME_MATCH_RELATIVE = 1 << 1, /* "через час" */
};

struct time_match {
        int64_t at;         /* unix time */
        int32_t utc_offset; /* seconds east of UTC at `at` */
        uint32_t token;     /* index of the token where the time was read */
        unsigned flags;
};

/* How far after its post a stated time may be and still be a start: announcements are made days
 * or weeks ahead, a season ahead at most. "31.12.9999 в 18:00" or "через 100 лет" would otherwise
 * become a reminder that fires never, or in a century. */
#define TIMEPARSE_HORIZON (INT64_C(400) * 86400)

/* Finds start times (a time of day, with the date it belongs to; ends of ranges such as
 * "до 17:00" are skipped) in tokens [0, t->n). Returns how many were written to out (at most
 * max), in text order; none when post_date is outside [TIMEPARSE_TIME_MIN, TIMEPARSE_TIME_MAX].
 * With a post date (> 0), a time more than TIMEPARSE_HORIZON after it is skipped. */
size_t timeparse_tokens(const struct tokens *t, int64_t post_date, const struct tz *tz,
                        struct time_match *out, size_t max);

/* Convenience for tests and tools: the first start time in text; -ENOENT when there is none. */
int timeparse_text(const char *text, int64_t post_date, const struct tz *tz,
                   struct time_match *ret);

/* "2026-12-05T17:00:00+03:00" into buf (at least 32 bytes). The local time is held to
 * [TIMEPARSE_TIME_MIN, TIMEPARSE_TIME_MAX], so the year always has four digits. */
void timeparse_format_iso8601(int64_t t, int32_t utc_offset, char *buf, size_t size);
