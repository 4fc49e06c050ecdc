/* util.h — small helpers every stage uses: cleanup attributes, ownership hand-over, time.
 *
 * Habits borrowed from systemd: destructors accept NULL and return NULL, results leave through
 * ret_* parameters, and _cleanup_ makes ownership visible at the declaration.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x) /* a macro's value as a string literal */

/* The struct of type that holds ptr as its member. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Hand a pointer over to someone else and forget it here. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _ptr_ = (p);                                                         \
                (p) = NULL;                                                                        \
                _ptr_;                                                                             \
        })

/* Singly linked lists threaded through a `next` member (systemd's LIST_* habit, minus the
 * back pointers): append at the tail, remove wherever it is. */
#define LIST_APPEND(head, item)                                                                    \
        do {                                                                                       \
                __typeof__(item) *_p_ = &(head);                                                   \
                while (*_p_)                                                                       \
                        _p_ = &(*_p_)->next;                                                       \
                (item)->next = NULL;                                                               \
                *_p_ = (item);                                                                     \
        } while (0)

#define LIST_REMOVE(head, item)                                                                    \
        do {                                                                                       \
                for (__typeof__(item) *_p_ = &(head); *_p_; _p_ = &(*_p_)->next)                   \
                        if (*_p_ == (item)) {                                                      \
                                *_p_ = (item)->next;                                               \
                                (item)->next = NULL;                                               \
                                break;                                                             \
                        }                                                                          \
        } while (0)

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void strv_free(char **l)
{
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
static inline void strv_freep(char ***l)
{
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

static inline char **strv_copy(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        char **c = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; c && i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        while (i > 0)
                                free(c[--i]);
                        free(c);
                        return NULL;
                }
        return c;
}

static inline size_t strv_length(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool strv_contains(char *const *l, const char *s)
{
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* s after prefix, or NULL when s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline const char *strempty(const char *s)
{
        return s ? s : "";
}

#define USEC_PER_SEC    UINT64_C(1000000)
#define USEC_PER_MSEC   UINT64_C(1000)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR   (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY    (24 * USEC_PER_HOUR)

/* CLOCK_REALTIME and CLOCK_MONOTONIC in microseconds. */
uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);

/* Reads a whole small file (secrets, scenarios); strips one trailing newline when asked.
 * Refuses files larger than max_size with -EFBIG. */
int read_full_file(const char *path, size_t max_size, bool strip_newline, char **ret,
                   size_t *ret_size);

/* Grows *array to hold at least need elements of size elem; returns NULL on overflow/ENOMEM. */
void *greedy_realloc(void **array, size_t *allocated, size_t need, size_t elem);

/* Parses durations like "90s", "5m", "1h", "2d", "1h30m", "250ms"; bare numbers are seconds. */
int parse_duration_usec(const char *s, uint64_t *ret);

/* A duration for people, exact to the millisecond: "45 s", "2 min", "6 h", "1 h 30 min",
 * "2 d 3 h", "1 s 500 ms"; "0 s", and "N µs" below a millisecond. Returns buf, which
 * FORMAT_DURATION_MAX bytes always hold. */
#define FORMAT_DURATION_MAX 64
char *format_duration(char *buf, size_t size, uint64_t usec);

/* Appends to a growing string buffer; all-or-nothing. */
struct strbuf {
        char *buf;
        size_t len;
        size_t allocated;
};
int strbuf_append(struct strbuf *sb, const char *s, size_t len);
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
static inline int strbuf_puts(struct strbuf *sb, const char *s)
{
        return strbuf_append(sb, s, strlen(s));
}
static inline void strbuf_done(struct strbuf *sb)
{
        free(sb->buf);
        *sb = (struct strbuf){0};
}

/* Offset from UTC (seconds east) of the IANA zone tz at unix time t; tz NULL: the process's
 * local zone. Not thread-safe (swaps $TZ); govwatchd is single-threaded. */
/* 64 random bits for jitter (never for secrets): getrandom(), or the clock if it would block. */
uint64_t random_u64(void);

/* English: one for 1, many otherwise ("1 sink", "2 sinks"). */
static inline const char *plural(unsigned long long n, const char *one, const char *many)
{
        return n == 1 ? one : many;
}
/* Russian: one for 1, 21, 31…; few for 2–4, 22–24…; many for 0, 5–20, 25–30… ("1 минута",
 * "2 минуты", "5 минут", "11 минут"). */
static inline const char *plural_ru(unsigned long long n, const char *one, const char *few,
                                    const char *many)
{
        unsigned long long m100 = n % 100, m10 = n % 10;
        if (m100 >= 11 && m100 <= 14)
                return many;
        return m10 == 1 ? one : m10 >= 2 && m10 <= 4 ? few : many;
}

/* Optimal string alignment distance between two short names (SIZE_MAX past 64 bytes). */
size_t edit_distance(const char *a, const char *b);
/* The same when it is at most max, else SIZE_MAX; costs O(length * max), not O(length^2). */
size_t edit_distance_max(const char *a, const char *b, size_t max);
/* Names sorted for lookup by binary search, so that thousands of references to a few hundred
 * names (a config's sinks) cost O(log n) comparisons each. The names are not copied: they must
 * outlive the index. Of equal names the first one given is found. */
struct name_index_entry {
        const char *name;
        size_t index;
};
struct name_index {
        struct name_index_entry *v;
        size_t n;
};
/* name(userdata, i) for i < n: the names to index. 0 or -ENOMEM. */
int name_index_build(struct name_index *x, const char *(*name)(const void *userdata, size_t i),
                     const void *userdata, size_t n);
/* The index of name, or -1. */
ssize_t name_index_find(const struct name_index *x, const char *name);
void name_index_done(struct name_index *x);

/* The items joined by sep ("" for none); NULL on OOM. */
char *strv_join(char *const *l, const char *sep);

/* "Did you mean": offer each candidate; best is the nearest near-miss of word, or NULL. */
struct suggest {
        const char *word;
        const char *best;
        size_t distance;
};
#define SUGGEST_INIT(w)                                                                            \
        {                                                                                          \
                .word = (w), .distance = SIZE_MAX                                                  \
        }
void suggest_consider(struct suggest *s, const char *candidate);
/* The same over a NULL-terminated list. */
const char *closest_name(const char *word, const char *const *candidates);

/* write_file_atomic() flags: fsync the file, then the directory (it survives a crash); a regular
 * file already there keeps its mode and group. */
#define WRITE_ATOMIC_SYNC      (1u << 0)
#define WRITE_ATOMIC_KEEP_MODE (1u << 1)

/* Replaces name (a file in the directory dirfd, no '/') with data at once for any reader: tmp_name
 * beside it (replaced if a crash left it) is written, given mode, renamed over name. Returns 0, or
 * -errno with *ret_step (may be NULL) saying what failed, for a message: "create a temporary file
 * for", "set the permissions of", "write", "replace", "write the directory entry of". */
int write_file_atomic(int dirfd, const char *name, const char *tmp_name, const void *data,
                      size_t len, unsigned mode, unsigned flags, const char **ret_step);
