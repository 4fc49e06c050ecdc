/* fuzz-timeparse.c — dates and times in Russian post text, and the arithmetic around them.
 *
 * Input: "POST_DATE ZONE\nTEXT". POST_DATE is the post's unix time in decimal (any int64: VK's
 * date is untrusted; out of range saturates to INT64_MIN/MAX), ZONE a digit picking one of the
 * zones loaded once; without a parsable first line the whole input is the text, posted at
 * 2026-03-10 12:00 UTC. The text goes through timeparse_text; the post date and every time found
 * go through tz_to_civil and timeparse_format_iso8601, as the classifier, notifications and
 * reminders use them. Checks: for a post date in 1970..2200 a time found is written back as
 * ISO 8601 with a four-digit year, and for the years the daemon lives in (1970..2200) the formatted
 * date is the civil date, and UTC's civil date converts back to the same instant.
 */
#include <stdio.h>

#include "fuzz.h"
#include "timeparse.h"

#define DATE_SANE_MAX INT64_C(7258118400) /* 2200-01-01 */

static struct tz *zones[5];

int LLVMFuzzerInitialize(int *argc, char **argv[])
{
        static const char *const names[] = {"Europe/Moscow", "UTC", "Asia/Yekaterinburg",
                                            "Asia/Kamchatka", "America/St_Johns"};
        for (size_t i = 0; i < ELEMENTSOF(zones); i++)
                if (tz_load(names[i], &zones[i]) < 0) {
                        fprintf(stderr, "tz_load(%s) failed\n", names[i]);
                        abort();
                }
        return 0;
}

static void check_instant(const struct tz *tz, int64_t t)
{
        struct civil_time c;
        char buf[64];
        int32_t off = tz_offset_at(tz, t);

        tz_to_civil(tz, t, &c);
        timeparse_format_iso8601(t, off, buf, sizeof(buf));
        if (c.year < 1970 || c.year > 2200)
                return;
        char want[64];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day,
                 c.hour, c.minute, c.second);
        fuzz_assert(strncmp(buf, want, strlen(want)) == 0, "%lld: \"%s\" but civil %s",
                    (long long)t, buf, want);
        fuzz_assert(c.weekday >= 0 && c.weekday <= 6, "weekday %d", c.weekday);

        struct civil_time u;
        tz_to_civil(zones[1], t, &u);
        int64_t back = tz_from_civil(zones[1], u.year, u.month, u.day, u.hour, u.minute, NULL);
        fuzz_assert(back + u.second == t, "%lld -> %04d-%02d-%02d %02d:%02d:%02d UTC -> %lld",
                    (long long)t, u.year, u.month, u.day, u.hour, u.minute, u.second,
                    (long long)(back + u.second));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        int64_t post_date = 1773144000; /* 2026-03-10T12:00:00Z */
        const struct tz *tz = zones[0];
        const uint8_t *text = data;
        size_t text_size = size;

        const uint8_t *nl = memchr(data, '\n', size < 64 ? size : 64);
        if (nl) {
                char line[64];
                char *end = NULL;
                memcpy(line, data, nl - data);
                line[nl - data] = '\0';
                long long d = strtoll(line, &end, 10);
                if (end != line) {
                        post_date = d;
                        while (*end == ' ')
                                end++;
                        if (*end >= '0' && *end <= '9')
                                tz = zones[(*end - '0') % ELEMENTSOF(zones)];
                        text = nl + 1;
                        text_size = size - (nl + 1 - data);
                }
        }

        /* the text as a C string, of its exact size */
        _cleanup_free_ char *s = malloc(text_size + 1);
        if (!s)
                return 0;
        memcpy(s, text, text_size);
        s[text_size] = '\0';

        check_instant(tz, post_date);
        struct time_match m;
        if (timeparse_text(s, post_date, tz, &m) >= 0) {
                char buf[64];
                timeparse_format_iso8601(m.at, m.utc_offset, buf, sizeof(buf));
                /* post.c bounds what VK says; past that, only no undefined behaviour */
                if (post_date >= 0 && post_date < DATE_SANE_MAX)
                        fuzz_assert(strlen(buf) == 25 && buf[4] == '-' && buf[0] >= '0' &&
                                            buf[0] <= '9',
                                    "post date %lld: start %lld written as \"%s\"",
                                    (long long)post_date, (long long)m.at, buf);
                fuzz_assert(m.utc_offset == tz_offset_at(tz, m.at), "offset %d, zone says %d",
                            m.utc_offset, tz_offset_at(tz, m.at));
                check_instant(tz, m.at);
        }
        return 0;
}
