/* test-util.c — the small shared helpers (src/util.c). A failure here shows in every message that
 * names a duration: "every 0 min" for an interval of 45 s, or a figure that is not the configured
 * one. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"

static const char *fmt(uint64_t usec)
{
        static char buf[FORMAT_DURATION_MAX];
        return format_duration(buf, sizeof(buf), usec);
}

static void test_format_duration(void **state)
{
        assert_string_equal(fmt(0), "0 s");
        assert_string_equal(fmt(45 * USEC_PER_SEC), "45 s");
        assert_string_equal(fmt(2 * USEC_PER_MINUTE), "2 min");
        assert_string_equal(fmt(6 * USEC_PER_HOUR), "6 h");
        assert_string_equal(fmt(USEC_PER_HOUR + 30 * USEC_PER_MINUTE), "1 h 30 min");
        assert_string_equal(fmt(90 * USEC_PER_SEC), "1 min 30 s");
        assert_string_equal(fmt(2 * USEC_PER_DAY + 3 * USEC_PER_HOUR), "2 d 3 h");
        assert_string_equal(fmt(7 * USEC_PER_DAY), "7 d");
        assert_string_equal(fmt(USEC_PER_DAY + 1 * USEC_PER_SEC), "1 d 1 s");
        assert_string_equal(fmt(1500 * USEC_PER_MSEC), "1 s 500 ms");
        assert_string_equal(fmt(250 * USEC_PER_MSEC), "250 ms");
        /* below the millisecond, which config durations never are: still not "0 s" */
        assert_string_equal(fmt(7), "7 µs");
        /* the microseconds under a millisecond are dropped, not rounded into a wrong figure */
        assert_string_equal(fmt(USEC_PER_MINUTE + 999), "1 min");
}

static void test_format_duration_parses_back(void **state)
{
        /* what a config says comes out as the same amount */
        static const struct {
                const char *config, *shown;
        } cases[] = {
                {"45s", "45 s"},         {"2m", "2 min"}, {"6h", "6 h"},
                {"1h30m", "1 h 30 min"}, {"2d", "2 d"},   {"250ms", "250 ms"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t usec;
                assert_int_equal(parse_duration_usec(cases[i].config, &usec), 0);
                assert_string_equal(fmt(usec), cases[i].shown);
        }
}

static void test_format_duration_small_buffers(void **state)
{
        char buf[8];

        /* cut, always terminated, never past the end */
        memset(buf, 'x', sizeof(buf));
        format_duration(buf, sizeof(buf), USEC_PER_HOUR + 30 * USEC_PER_MINUTE);
        assert_string_equal(buf, "1 h 30 ");
        format_duration(buf, 1, USEC_PER_HOUR);
        assert_string_equal(buf, "");
        assert_ptr_equal(format_duration(buf, 0, USEC_PER_HOUR), buf);
        /* the longest there is fits FORMAT_DURATION_MAX */
        char big[FORMAT_DURATION_MAX];
        format_duration(big, sizeof(big), UINT64_MAX);
        assert_string_equal(big, "213503982 d 8 h 1 min 49 s 551 ms");
}

static void test_plurals(void **state)
{
        assert_string_equal(plural(1, "sink", "sinks"), "sink");
        assert_string_equal(plural(0, "sink", "sinks"), "sinks");
        assert_string_equal(plural(2, "sink", "sinks"), "sinks");
        /* Russian: 1, 21, 101 one; 2-4, 22-24 few; 0, 5-20, 25-30, 111-114 many */
        static const struct {
                unsigned long long n;
                const char *want;
        } ru[] = {
                {0, "минут"},  {1, "минута"},   {2, "минуты"},  {4, "минуты"},  {5, "минут"},
                {11, "минут"}, {12, "минут"},   {14, "минут"},  {21, "минута"}, {22, "минуты"},
                {25, "минут"}, {101, "минута"}, {111, "минут"}, {112, "минут"}, {1004, "минуты"},
        };
        for (size_t i = 0; i < ELEMENTSOF(ru); i++)
                assert_string_equal(plural_ru(ru[i].n, "минута", "минуты", "минут"), ru[i].want);
        /* the digest's subject and the reminder use it: "Сводка: 21 запись", "через 3 минуты" */
        assert_string_equal(plural_ru(21, "запись", "записи", "записей"), "запись");
        assert_string_equal(plural_ru(13, "запись", "записи", "записей"), "записей");
}

static void test_closest_name(void **state)
{
        const char *const verbs[] = {"run", "once", "check-config", "status", NULL};
        assert_string_equal(closest_name("onse", verbs), "once");
        assert_string_equal(closest_name("chek-config", verbs), "check-config");
        assert_string_equal(closest_name("sttaus", verbs), "status"); /* a transposition */
        assert_null(closest_name("frobnicate", verbs));
        /* a two-letter word is within 2 of everything short: only a one-letter slip counts */
        assert_string_equal(closest_name("ru", verbs), "run");
        assert_null(closest_name("xu", verbs));
        assert_null(closest_name("once", NULL));
        /* the incremental form gives the same answer */
        struct suggest sg = SUGGEST_INIT("sttaus");
        for (size_t i = 0; verbs[i]; i++)
                suggest_consider(&sg, verbs[i]);
        assert_string_equal(sg.best, "status");
        assert_int_equal(edit_distance("", "abc"), 3);
        assert_int_equal(edit_distance("abc", "abc"), 0);
}

/* The full matrix, as edit_distance() once was: the reference the banded one must agree with. */
static size_t osa_reference(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), d[65][65];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
                        if (d[i - 1][j] + 1 < best)
                                best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            d[i - 2][j - 2] + 1 < best)
                                best = d[i - 2][j - 2] + 1;
                        d[i][j] = best;
                }
        return d[la][lb];
}

/* A misspelt sink name is compared with every sink's: the bounded distance must give the same
 * answer as the whole matrix whenever that is within the bound, and "too far" otherwise. */
static void test_edit_distance_bounded(void **state)
{
        uint64_t seed = 42;
        char a[65], b[65];
        for (unsigned n = 0; n < 20000; n++) {
                size_t la, lb;
                seed = seed * 6364136223846793005u + 1442695040888963407u;
                la = (seed >> 33) % (n % 10 == 0 ? 65 : 9);
                lb = (seed >> 45) % 5 == 0 ? la : (seed >> 20) % (n % 10 == 0 ? 65 : 9);
                for (size_t i = 0; i < la; i++) {
                        seed = seed * 6364136223846793005u + 1442695040888963407u;
                        a[i] = (char)('a' + (seed >> 40) % 3);
                }
                a[la] = '\0';
                memcpy(b, a, lb < la ? lb : la);
                for (size_t i = 0; i < lb; i++) { /* b: a with a few slips */
                        seed = seed * 6364136223846793005u + 1442695040888963407u;
                        if (i >= la || (seed >> 40) % 4 == 0)
                                b[i] = (char)('a' + (seed >> 50) % 3);
                }
                b[lb] = '\0';
                size_t want = osa_reference(a, b);
                assert_int_equal(edit_distance(a, b), want);
                for (size_t max = 0; max <= 5; max++)
                        assert_int_equal(edit_distance_max(a, b, max),
                                         want <= max ? want : SIZE_MAX);
        }
        /* names over 64 bytes are never near */
        memset(a, 'x', 64);
        a[64] = '\0';
        assert_int_equal(edit_distance_max(a, a, 2), 0);
        char longer[80] = {0};
        memset(longer, 'x', 65);
        assert_int_equal(edit_distance_max(longer, a, 2), SIZE_MAX);
        assert_int_equal(edit_distance_max("sinks", "snks", 0), SIZE_MAX);
        assert_int_equal(edit_distance_max("sinks", "snisk", 2), 2);
}

static void test_strv_join(void **state)
{
        char *cats[] = {"live", "service", NULL}, *none[] = {NULL};
        _cleanup_free_ char *a = strv_join(cats, ", ");
        _cleanup_free_ char *b = strv_join(none, ",");
        _cleanup_free_ char *c = strv_join(NULL, ",");
        assert_string_equal(a, "live, service");
        assert_string_equal(b, "");
        assert_string_equal(c, "");
}

/* A feed reader or node_exporter reads the old file or the new one, never half: the new one
 * replaces the old in one rename, the temporary file is gone, an admin's mode is kept when asked,
 * and a failure says which step failed. */
static void test_write_file_atomic(void **state)
{
        char dir[] = "/tmp/govwatch-test-atomic-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dirfd >= 0);
        const char *step = NULL;
        struct stat st;
        char buf[32] = {0};

        assert_int_equal(
                write_file_atomic(dirfd, "f", "f.tmp", "one", 3, 0640, WRITE_ATOMIC_SYNC, &step),
                0);
        assert_int_equal(fstatat(dirfd, "f", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(fchmodat(dirfd, "f", 0604, 0), 0);
        /* a temporary file a crash left behind is replaced, not an obstacle */
        int stale = openat(dirfd, "f.tmp", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(stale >= 0);
        close(stale);
        assert_int_equal(write_file_atomic(dirfd, "f", "f.tmp", "second", 6, 0640,
                                           WRITE_ATOMIC_KEEP_MODE, &step),
                         0);
        int fd = openat(dirfd, "f", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), 6);
        close(fd);
        assert_string_equal(buf, "second");
        assert_int_equal(fstatat(dirfd, "f", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0604); /* the admin's, kept */
        assert_int_equal(faccessat(dirfd, "f.tmp", F_OK, 0), -1);

        /* a directory in place of the file: the rename fails, and nothing is left behind */
        assert_int_equal(mkdirat(dirfd, "d", 0700), 0);
        assert_true(write_file_atomic(dirfd, "d", "d.tmp", "x", 1, 0600, 0, &step) < 0);
        assert_string_equal(step, "replace");
        assert_int_equal(faccessat(dirfd, "d.tmp", F_OK, 0), -1);

        assert_int_equal(unlinkat(dirfd, "f", 0), 0);
        assert_int_equal(unlinkat(dirfd, "d", AT_REMOVEDIR), 0);
        close(dirfd);
        assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_duration),
                cmocka_unit_test(test_plurals),
                cmocka_unit_test(test_closest_name),
                cmocka_unit_test(test_edit_distance_bounded),
                cmocka_unit_test(test_strv_join),
                cmocka_unit_test(test_format_duration_parses_back),
                cmocka_unit_test(test_format_duration_small_buffers),
                cmocka_unit_test(test_write_file_atomic),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
