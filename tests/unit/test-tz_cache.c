/* test-tz_cache.c — the zones wall-clock time is read in (src/tz_cache.c). A failure here is a
 * quiet hour that ends an hour early after the clocks change, an email dated in the wrong zone,
 * or a daemon that rereads zone files for every outbox row.
 *
 * What the daemon reads is checked against glibc's own reading of the same zone: the expectation
 * is localtime_r() under setenv("TZ") and tzset(), which the test may do and the code may not. */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test-helpers.h"
#include "tz_cache.h"

static char *saved_tz;
static char *saved_tzdir;

static int setup(void **state)
{
        const char *tz = getenv("TZ"), *dir = getenv("TZDIR");
        saved_tz = tz ? strdup(tz) : NULL;
        saved_tzdir = dir ? strdup(dir) : NULL;
        return 0;
}

static void restore_env(const char *name, const char *value)
{
        if (value)
                setenv(name, value, 1);
        else
                unsetenv(name);
}

static int teardown(void **state)
{
        restore_env("TZ", saved_tz);
        restore_env("TZDIR", saved_tzdir);
        tzset();
        tz_cache_clear();
        free(saved_tz);
        free(saved_tzdir);
        return 0;
}

/* A fresh cache and $TZ for each test: the local zone is read once a cache. */
static int each_setup(void **state)
{
        restore_env("TZ", saved_tz);
        restore_env("TZDIR", saved_tzdir);
        tz_cache_clear();
        return 0;
}

/* What glibc says the offset of zone tz (NULL: $TZ unset) is at t. */
static int32_t glibc_offset(const char *tz, int64_t t)
{
        _cleanup_free_ char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        time_t tt = (time_t)t;
        struct tm tm;
        restore_env("TZ", tz);
        tzset();
        assert_non_null(localtime_r(&tt, &tm));
        restore_env("TZ", old);
        tzset();
        return (int32_t)tm.tm_gmtoff;
}

static const int64_t instants[] = {
        0,          1301180399, /* Moscow: the last second of UTC+3 before 2011's change to +4 */
        1301180400, 1414274399, /* Moscow: the last second of +4, 26 October 2014 */
        1414274400, 1768478400, /* 2026-01-15 12:00 UTC: winter */
        1774745999,             /* Berlin: 2026-03-29 01:00 UTC, CET to CEST */
        1774746000, 1780315200, /* 2026-06-01 12:00 UTC: summer */
        1792889999,             /* Berlin: 2026-10-25 01:00 UTC, CEST to CET */
        1792890000,
};

static void assert_zone_as_glibc(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(instants); i++) {
                int32_t offset = INT32_MIN;
                assert_int_equal(tz_utc_offset(name, instants[i], &offset), 0);
                if (offset != glibc_offset(name, instants[i]))
                        fail_msg("%s at %" PRId64 ": %d s east of UTC, glibc says %d",
                                 strempty(name), instants[i], offset,
                                 glibc_offset(name, instants[i]));
        }
}

static void test_named_zones_as_glibc(void **state)
{
        assert_zone_as_glibc("Europe/Moscow");
        assert_zone_as_glibc("Europe/Berlin");
        assert_zone_as_glibc("Asia/Yekaterinburg");
        assert_zone_as_glibc("America/New_York");

        int32_t offset;
        /* the figures themselves, in case glibc and the reader are both wrong */
        assert_int_equal(tz_utc_offset("Europe/Moscow", 1301180399, &offset), 0);
        assert_int_equal(offset, 3 * 3600);
        assert_int_equal(tz_utc_offset("Europe/Moscow", 1301180400, &offset), 0);
        assert_int_equal(offset, 4 * 3600);
        assert_int_equal(tz_utc_offset("Europe/Berlin", 1774745999, &offset), 0);
        assert_int_equal(offset, 1 * 3600);
        assert_int_equal(tz_utc_offset("Europe/Berlin", 1774746000, &offset), 0);
        assert_int_equal(offset, 2 * 3600);
        assert_int_equal(tz_utc_offset("Europe/Berlin", 1792890000, &offset), 0);
        assert_int_equal(offset, 1 * 3600);
}

static const char *zoneinfo_dir(void)
{
        const char *dir = getenv("TZDIR");
        return dir && dir[0] == '/' ? dir : "/usr/share/zoneinfo";
}

/* $TZ (NULL: unset) read as the local zone, by a fresh cache, as glibc reads it. */
static void assert_local_as_glibc(const char *tz)
{
        restore_env("TZ", tz);
        tz_cache_clear();
        for (size_t i = 0; i < ELEMENTSOF(instants); i++) {
                int32_t a = INT32_MIN, b = INT32_MIN;
                assert_int_equal(tz_utc_offset(NULL, instants[i], &a), 0);
                assert_int_equal(tz_utc_offset("", instants[i], &b), 0);
                int32_t expected = glibc_offset(tz, instants[i]);
                if (a != expected || b != expected)
                        fail_msg("TZ=%s at %" PRId64 ": %d s east of UTC, glibc says %d",
                                 tz ? tz : "(unset)", instants[i], a, expected);
        }
}

static void test_local_zone_as_glibc(void **state)
{
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/Asia/Tokyo", zoneinfo_dir()) > 0);

        assert_local_as_glibc(NULL); /* /etc/localtime */
        assert_local_as_glibc("Europe/Berlin");
        assert_local_as_glibc(":Europe/Berlin");
        assert_local_as_glibc(path);
        assert_local_as_glibc("MSK-3");
        assert_local_as_glibc("<+0530>-5:30");
        assert_local_as_glibc("");
        assert_local_as_glibc(":");
        assert_local_as_glibc("UTC");

        /* what glibc cannot read either is UTC to both */
        assert_local_as_glibc("/nonexistent/zone");
        assert_local_as_glibc("Mars/Olympus");

        /* A DST rule the TZif reader does not follow: UTC, not glibc's CEST. No service sets one;
         * if this changes, the daemon's local time changes with it. */
        restore_env("TZ", "CET-1CEST,M3.5.0,M10.5.0/3");
        tz_cache_clear();
        int32_t offset = INT32_MIN;
        assert_int_equal(tz_utc_offset(NULL, 1780315200, &offset), 0);
        assert_int_equal(offset, 0);
}

/* The local zone is read once: a $TZ set afterwards is not seen until the cache is cleared. */
static void test_local_zone_read_once(void **state)
{
        const struct tz *a, *b, *c;
        int32_t offset;
        setenv("TZ", "Europe/Moscow", 1);
        assert_int_equal(tz_cache_get(NULL, &a), 0);
        setenv("TZ", "America/New_York", 1);
        assert_int_equal(tz_cache_get("", &b), 0);
        assert_ptr_equal(a, b);
        assert_int_equal(tz_utc_offset(NULL, 1768478400, &offset), 0);
        assert_int_equal(offset, 3 * 3600);
        /* the local zone and the zone of the same name are kept apart */
        assert_int_equal(tz_cache_get("Europe/Moscow", &c), 0);
        assert_ptr_not_equal(a, c);
}

static void test_unknown_zone(void **state)
{
        const struct tz *tz = NULL;
        int32_t offset = 12345;
        assert_int_equal(tz_utc_offset("Mars/Olympus", 0, &offset), -ENOENT);
        assert_int_equal(tz_utc_offset("../../etc/passwd", 0, &offset), -EINVAL);
        assert_int_equal(tz_utc_offset("/etc/localtime", 0, &offset), -EINVAL);
        assert_int_equal(offset, 12345);
        assert_int_equal(tz_cache_get("Europe/Moskow", &tz), -ENOENT);
        assert_null(tz);
        struct tm tm = {.tm_year = 42};
        assert_int_equal(tz_localtime("Mars/Olympus", 0, &tm), -ENOENT);
        assert_int_equal(tm.tm_year, 42);
}

static int copy_file(const char *from, const char *to)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_full_file(from, 1024 * 1024, false, &data, &size);
        if (r < 0)
                return r;
        int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = write(fd, data, size) == (ssize_t)size ? 0 : -EIO;
        close(fd);
        return r;
}

/* A zone is read from disk once: gone from the zone directory, it is still the same object. */
static void test_zone_loaded_once(void **state)
{
        char dir[] = "/tmp/govwatch-test-tz-XXXXXX";
        _cleanup_free_ char *from = NULL, *sub = NULL, *file = NULL;
        const struct tz *a, *b;
        int32_t offset;

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&from, "%s/Europe/Berlin", zoneinfo_dir()) > 0);
        assert_true(asprintf(&sub, "%s/Europe", dir) > 0);
        assert_true(asprintf(&file, "%s/Europe/Berlin", dir) > 0);
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(copy_file(from, file), 0);
        setenv("TZDIR", dir, 1);

        assert_int_equal(tz_cache_get("Europe/Berlin", &a), 0);
        assert_string_equal(tz_name(a), "Europe/Berlin");
        assert_int_equal(unlink(file), 0);
        assert_int_equal(tz_cache_get("Europe/Berlin", &b), 0);
        assert_ptr_equal(a, b);
        assert_int_equal(tz_utc_offset("Europe/Berlin", 1780315200, &offset), 0);
        assert_int_equal(offset, 2 * 3600);

        /* and it was that directory the zone came from */
        tz_cache_clear();
        assert_int_equal(tz_cache_get("Europe/Berlin", &b), -ENOENT);
        assert_int_equal(rmdir(sub), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_localtime_as_glibc(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(instants); i++) {
                struct tm ours, theirs;
                time_t t = (time_t)instants[i];
                assert_int_equal(tz_localtime("Europe/Berlin", instants[i], &ours), 0);
                setenv("TZ", "Europe/Berlin", 1);
                tzset();
                assert_non_null(localtime_r(&t, &theirs));
                restore_env("TZ", saved_tz);
                tzset();
                char a[64], b[64];
                strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S %a %z", &ours);
                strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S %a %z", &theirs);
                assert_string_equal(a, b);
        }
        struct tm tm;
        assert_int_equal(tz_localtime("Europe/Berlin", TIMEPARSE_TIME_MAX + 1, &tm), -EOVERFLOW);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_named_zones_as_glibc, each_setup),
                cmocka_unit_test_setup(test_local_zone_as_glibc, each_setup),
                cmocka_unit_test_setup(test_local_zone_read_once, each_setup),
                cmocka_unit_test_setup(test_unknown_zone, each_setup),
                cmocka_unit_test_setup(test_zone_loaded_once, each_setup),
                cmocka_unit_test_setup(test_localtime_as_glibc, each_setup),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
