/* util.c — small helpers shared by every stage: time, files, durations, string buffers. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static uint64_t now_usec(clockid_t clock)
{
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_realtime_usec(void)
{
        return now_usec(CLOCK_REALTIME);
}

uint64_t now_monotonic_usec(void)
{
        return now_usec(CLOCK_MONOTONIC);
}

int read_full_file(const char *path, size_t max_size, bool strip_newline, char **ret,
                   size_t *ret_size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        struct strbuf sb = {0};
        int r = 0;
        for (;;) {
                char chunk[8192];
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                if (sb.len + (size_t)n > max_size) {
                        r = -EFBIG;
                        break;
                }
                r = strbuf_append(&sb, chunk, (size_t)n);
                if (r < 0)
                        break;
        }
        close(fd);
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        if (!sb.buf) {
                r = strbuf_append(&sb, "", 0);
                if (r < 0)
                        return r;
        }
        if (strip_newline) {
                while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
                        sb.buf[--sb.len] = '\0';
        }
        *ret = sb.buf;
        if (ret_size)
                *ret_size = sb.len;
        return 0;
}

void *greedy_realloc(void **array, size_t *allocated, size_t need, size_t elem)
{
        if (need <= *allocated)
                return *array;
        size_t n = need < 8 ? 8 : need;
        if (n <= SIZE_MAX / 2)
                n = n * 2 > need ? n * 2 : n;
        if (elem == 0 || n > SIZE_MAX / elem)
                return NULL;
        void *p = realloc(*array, n * elem);
        if (!p)
                return NULL;
        *array = p;
        *allocated = n;
        return p;
}

int parse_duration_usec(const char *s, uint64_t *ret)
{
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                /* longest suffixes first so "ms" is not read as "m" + garbage */
                {"ms", USEC_PER_MSEC}, {"min", USEC_PER_MINUTE}, {"sec", USEC_PER_SEC},
                {"s", USEC_PER_SEC},   {"m", USEC_PER_MINUTE},   {"h", USEC_PER_HOUR},
                {"d", USEC_PER_DAY},   {"w", 7 * USEC_PER_DAY},
        };
        uint64_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        while (*s == ' ')
                s++;
        if (*s == '\0')
                return -EINVAL;
        while (*s) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                uint64_t v = 0;
                while (*s >= '0' && *s <= '9') {
                        if (v > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t)(*s - '0');
                        s++;
                }
                uint64_t mult = USEC_PER_SEC;
                bool matched = false;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].suffix);
                        if (strncmp(s, units[i].suffix, l) == 0) {
                                mult = units[i].usec;
                                s += l;
                                matched = true;
                                break;
                        }
                }
                if (!matched && *s != '\0')
                        return -EINVAL;
                if (!matched && any)
                        return -EINVAL; /* "1h30" is ambiguous */
                if (v > UINT64_MAX / mult || total > UINT64_MAX - v * mult)
                        return -ERANGE;
                total += v * mult;
                any = true;
                while (*s == ' ')
                        s++;
        }
        *ret = total;
        return 0;
}

char *format_duration(char *buf, size_t size, uint64_t usec)
{
        static const struct {
                const char *name;
                uint64_t usec;
        } units[] = {
                {"d", USEC_PER_DAY}, {"h", USEC_PER_HOUR},  {"min", USEC_PER_MINUTE},
                {"s", USEC_PER_SEC}, {"ms", USEC_PER_MSEC},
        };
        size_t len = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (usec == 0) {
                snprintf(buf, size, "0 s");
                return buf;
        }
        if (usec < USEC_PER_MSEC) {
                snprintf(buf, size, "%" PRIu64 " µs", usec);
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && len < size; i++) {
                uint64_t n = usec / units[i].usec;
                if (n == 0)
                        continue;
                usec %= units[i].usec;
                int k = snprintf(buf + len, size - len, "%s%" PRIu64 " %s", len ? " " : "", n,
                                 units[i].name);
                if (k < 0)
                        break;
                len += (size_t)k;
        }
        return buf;
}

int strbuf_append(struct strbuf *sb, const char *s, size_t len)
{
        if (len > SIZE_MAX - sb->len - 1)
                return -ENOMEM;
        if (!greedy_realloc((void **)&sb->buf, &sb->allocated, sb->len + len + 1, 1))
                return -ENOMEM;
        if (len > 0)
                memcpy(sb->buf + sb->len, s, len);
        sb->len += len;
        sb->buf[sb->len] = '\0';
        return 0;
}

int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        if (!greedy_realloc((void **)&sb->buf, &sb->allocated, sb->len + (size_t)n + 1, 1))
                return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        sb->len += (size_t)n;
        return 0;
}

/* Optimal string alignment distance, for "did you mean", computed only as far as max: cells
 * more than max off the diagonal cannot lead to a distance within max, so only a band of
 * 2 * max + 1 cells a row is filled, and two rows in a row over max end it (a row's cells come
 * from the row above, or from the one above that plus 1). A hostile file's hundred misspellings
 * against 256 names of 64 bytes cost 64 * 5 cells each, not 64 * 64. */
size_t edit_distance_max(const char *a, const char *b, size_t max)
{
        size_t la = strnlen(a, 65), lb = strnlen(b, 65);
        if (la > 64 || lb > 64)
                return SIZE_MAX;
        if (max > 64)
                max = 64;
        if ((la > lb ? la - lb : lb - la) > max)
                return SIZE_MAX;
        size_t over = max + 1, d[65][66]; /* d[i][lb + 1]: the band's right edge, set to over */
        for (size_t j = 0; j <= lb && j <= max; j++)
                d[0][j] = j;
        d[0][(lb < max ? lb : max) + 1] = over;
        size_t prev_min = 0;
        for (size_t i = 1; i <= la; i++) {
                size_t lo = i > max ? i - max : 1, hi = i + max < lb ? i + max : lb;
                d[i][lo - 1] = lo == 1 ? i : over;
                size_t row_min = d[i][lo - 1] < over ? d[i][lo - 1] : over;
                for (size_t j = lo; j <= hi; j++) {
                        size_t cost = a[i - 1] != b[j - 1];
                        size_t best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        if (d[i - 1][j - 1] + cost < best)
                                best = d[i - 1][j - 1] + cost;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            d[i - 2][j - 2] + 1 < best)
                                best = d[i - 2][j - 2] + 1;
                        d[i][j] = best < over ? best : over;
                        if (d[i][j] < row_min)
                                row_min = d[i][j];
                }
                d[i][hi + 1] = over;
                if (row_min > max && prev_min > max)
                        return SIZE_MAX;
                prev_min = row_min;
        }
        return d[la][lb] <= max ? d[la][lb] : SIZE_MAX;
}

size_t edit_distance(const char *a, const char *b)
{
        return edit_distance_max(a, b, 64);
}

void suggest_consider(struct suggest *s, const char *candidate)
{
        /* a two-letter word is within 2 of every short name: suggest only real near-misses, and
         * only nearer ones than the best so far, so the distance is wanted only up to that */
        size_t len = strnlen(s->word, 65), max = 2;
        if (len == 0 || s->distance == 0)
                return;
        if (len <= max)
                max = len - 1;
        if (s->distance <= max)
                max = s->distance - 1;
        size_t d = edit_distance_max(s->word, candidate, max);
        if (d <= max) {
                s->best = candidate;
                s->distance = d;
        }
}

const char *closest_name(const char *word, const char *const *candidates)
{
        struct suggest s = SUGGEST_INIT(word);
        for (const char *const *c = candidates; c && *c; c++)
                suggest_consider(&s, *c);
        return s.best;
}

static int name_entry_compare(const void *a, const void *b)
{
        const struct name_index_entry *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : (x->index > y->index) - (x->index < y->index);
}

int name_index_build(struct name_index *x, const char *(*name)(const void *userdata, size_t i),
                     const void *userdata, size_t n)
{
        struct name_index_entry *v = calloc(n ? n : 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = (struct name_index_entry){.name = name(userdata, i), .index = i};
        qsort(v, n, sizeof(*v), name_entry_compare);
        name_index_done(x);
        *x = (struct name_index){.v = v, .n = n};
        return 0;
}

ssize_t name_index_find(const struct name_index *x, const char *name)
{
        size_t lo = 0, hi = x->n; /* the first entry not below name, in [lo, hi] */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(x->v[mid].name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < x->n && streq(x->v[lo].name, name) ? (ssize_t)x->v[lo].index : -1;
}

void name_index_done(struct name_index *x)
{
        free(x->v);
        *x = (struct name_index){0};
}

char *strv_join(char *const *l, const char *sep)
{
        struct strbuf sb = {0};
        int r = strbuf_append(&sb, "", 0);
        for (char *const *p = l; r >= 0 && p && *p; p++)
                r = strbuf_appendf(&sb, "%s%s", p == l ? "" : sep, *p);
        if (r < 0) {
                strbuf_done(&sb);
                return NULL;
        }
        return sb.buf;
}

/* Jitter, not secrets: the kernel's pool when it answers at once, else the clock. */
uint64_t random_u64(void)
{
        uint64_t v = 0;
        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
                v = now_monotonic_usec() * UINT64_C(6364136223846793005);
        return v;
}

static int write_all(int fd, const char *data, size_t len)
{
        for (size_t done = 0; done < len;) {
                ssize_t k = write(fd, data + done, len - done);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        done += (size_t)k;
        }
        return 0;
}

/* The file at fd: given mode (and gid unless (gid_t)-1), filled with data, synced if asked. */
static int write_file_contents(int fd, const void *data, size_t len, mode_t mode, gid_t gid,
                               unsigned flags, const char **step)
{
        /* the group an admin gave the file: best effort, a service may not be in it */
        if (gid != (gid_t)-1)
                (void)fchown(fd, (uid_t)-1, gid);
        if (fchmod(fd, mode) < 0) {
                *step = "set the permissions of";
                return -errno;
        }
        *step = "write";
        int r = write_all(fd, data, len);
        if (r == 0 && (flags & WRITE_ATOMIC_SYNC) && fsync(fd) < 0)
                r = -errno;
        return r;
}

int write_file_atomic(int dirfd, const char *name, const char *tmp_name, const void *data,
                      size_t len, unsigned mode, unsigned flags, const char **ret_step)
{
        const char *step = "create a temporary file for";
        gid_t gid = (gid_t)-1;
        struct stat st;
        int fd, r;

        if ((flags & WRITE_ATOMIC_KEEP_MODE) &&
            fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
                mode = st.st_mode & 07777;
                gid = st.st_gid;
        }
        if (unlinkat(dirfd, tmp_name, 0) < 0 && errno != ENOENT) {
                r = -errno;
                goto out;
        }
        fd = openat(dirfd, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                r = -errno;
                goto out;
        }
        r = write_file_contents(fd, data, len, (mode_t)mode, gid, flags, &step);
        if (close(fd) < 0 && r == 0 && errno != EINTR)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp_name, dirfd, name) < 0) {
                r = -errno;
                step = "replace";
        }
        if (r < 0) {
                (void)unlinkat(dirfd, tmp_name, 0);
                goto out;
        }
        /* the rename itself, on disk; a file system without fsync on directories has no need */
        if ((flags & WRITE_ATOMIC_SYNC) && fsync(dirfd) < 0 && errno != EINVAL) {
                r = -errno;
                step = "write the directory entry of";
        }
out:
        if (r < 0 && ret_step)
                *ret_step = step;
        return r;
}
