/* tz_cache.c — the zones wall-clock time is read in, each loaded once (tz_cache.h).
 *
 * Owns the process's list of loaded zones, keyed by name (NULL for the local zone), and finding
 * the local zone the way glibc does. Zones are read with timeparse.c's TZif reader: config.c checks
 * `timezone:` through tz_cache_get(), so a zone the config accepts is one already here. Must never
 * set $TZ or call tzset(): that was once done a lookup, and swapped the zone of the whole process
 * under anything else reading it.
 */
#include "tz_cache.h"

struct tz_cache_entry {
        char *name; /* NULL: the local zone */
        struct tz *tz;
};

static struct tz_cache_entry *cache;
static size_t n_cache, cache_allocated;

int tz_load_local(struct tz **ret)
{
        const char *e = getenv("TZ");
        int r;

        if (!e)
                r = tz_load_file("/etc/localtime", "/etc/localtime", ret);
        else {
                if (e[0] == ':') /* POSIX: what follows is implementation-defined; a file */
                        e++;
                if (!e[0])
                        r = -ENOENT; /* glibc reads "" as UTC */
                else if (e[0] == '/')
                        r = tz_load_file(e, e, ret);
                else {
                        r = tz_load(e, ret);
                        if (r < 0 && r != -ENOMEM)
                                r = tz_load_posix(e, ret);
                }
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                r = tz_load_posix("UTC0", ret);
        return r;
}

int tz_cache_get(const char *name, const struct tz **ret)
{
        struct tz *tz = NULL;
        int r;

        if (name && !name[0])
                name = NULL;
        for (size_t i = 0; i < n_cache; i++)
                if (streq_ptr(cache[i].name, name)) {
                        *ret = cache[i].tz;
                        return 0;
                }

        if (!greedy_realloc((void **)&cache, &cache_allocated, n_cache + 1, sizeof(*cache)))
                return -ENOMEM;
        _cleanup_free_ char *key = NULL;
        if (name && !(key = strdup(name)))
                return -ENOMEM;
        r = name ? tz_load(name, &tz) : tz_load_local(&tz);
        if (r < 0)
                return r;
        cache[n_cache++] = (struct tz_cache_entry){.name = TAKE_PTR(key), .tz = tz};
        *ret = tz;
        return 0;
}

int tz_utc_offset(const char *name, int64_t t, int32_t *ret)
{
        const struct tz *tz;
        int r = tz_cache_get(name, &tz);
        if (r < 0)
                return r;
        *ret = tz_offset_at(tz, t);
        return 0;
}

int tz_localtime(const char *name, int64_t t, struct tm *ret)
{
        int32_t offset;
        struct tm tm;
        int r = tz_utc_offset(name, t, &offset);
        if (r < 0)
                return r;
        if (t < TIMEPARSE_TIME_MIN || t > TIMEPARSE_TIME_MAX)
                return -EOVERFLOW;
        /* the wall-clock time is UTC's at t + offset, and gmtime_r() reads no zone */
        time_t local = (time_t)(t + offset);
        if (!gmtime_r(&local, &tm))
                return -EOVERFLOW;
        tm.tm_gmtoff = offset;
        tm.tm_zone = NULL;
        *ret = tm;
        return 0;
}

void tz_cache_clear(void)
{
        for (size_t i = 0; i < n_cache; i++) {
                free(cache[i].name);
                tz_free(cache[i].tz);
        }
        free(cache);
        cache = NULL;
        n_cache = cache_allocated = 0;
}
