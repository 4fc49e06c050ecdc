/* fuzz.h — what the fuzz targets share: the libFuzzer entry points, inputs cut into fields, and
 * the checks a target makes on what a stage gave back.
 *
 * A target sees arbitrary bytes. Targets that need several values (a template and the
 * notification it renders, a mail's addresses and subject) read them as fields separated by NUL
 * bytes: no value the daemon handles can hold a NUL, so every field is a C string as it would be
 * in the daemon, and a seed is readable with `tr '\0' '\n'`. Each field is its own allocation of
 * its exact size, so that AddressSanitizer sees a read past the end of one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_FIELDS_MAX 24

struct fuzz_fields {
        char *v[FUZZ_FIELDS_MAX]; /* missing fields are "" */
        size_t len[FUZZ_FIELDS_MAX];
        size_t n; /* fields present in the input */
};

static inline void fuzz_fields_done(struct fuzz_fields *f)
{
        for (size_t i = 0; i < FUZZ_FIELDS_MAX; i++)
                free(f->v[i]);
        *f = (struct fuzz_fields){0};
}

/* Cuts data at NUL bytes into at most n fields (the last takes the rest, NULs included, cut at
 * its first NUL when used as a string). -ENOMEM only. */
static inline int fuzz_fields_split(const uint8_t *data, size_t size, size_t n,
                                    struct fuzz_fields *ret)
{
        struct fuzz_fields f = {0};
        size_t pos = 0;
        bool more = true; /* a field starts at pos */

        if (n > FUZZ_FIELDS_MAX)
                n = FUZZ_FIELDS_MAX;
        for (size_t i = 0; i < n; i++) {
                size_t start = pos, end = pos;
                if (more) {
                        const uint8_t *nul =
                                i + 1 < n && pos < size ? memchr(data + pos, 0, size - pos) : NULL;
                        end = nul ? (size_t)(nul - data) : size;
                        pos = nul ? end + 1 : size;
                        more = nul != NULL;
                        f.n = i + 1;
                }
                f.len[i] = end - start;
                f.v[i] = malloc(f.len[i] + 1);
                if (!f.v[i]) {
                        fuzz_fields_done(&f);
                        return -ENOMEM;
                }
                if (f.len[i] > 0)
                        memcpy(f.v[i], data + start, f.len[i]);
                f.v[i][f.len[i]] = '\0';
        }
        *ret = f;
        return 0;
}

/* A field read as a decimal number (strtoll: saturates at INT64_MIN/MAX), def when it is not
 * one. */
static inline int64_t fuzz_field_int(const struct fuzz_fields *f, size_t i, int64_t def)
{
        char *end = NULL;
        long long v;

        if (i >= FUZZ_FIELDS_MAX || !f->v[i] || !f->v[i][0])
                return def;
        v = strtoll(f->v[i], &end, 10);
        return end == f->v[i] ? def : (int64_t)v;
}

/* Whether s (len bytes) is well-formed UTF-8 without NUL: no overlong forms, surrogates or code
 * points past U+10FFFF (RFC 3629). */
static inline bool fuzz_utf8_valid(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < len) {
                unsigned char c = p[i];
                size_t n = c == 0     ? 0
                           : c < 0x80 ? 1
                           : c < 0xC2 ? 0
                           : c < 0xE0 ? 2
                           : c < 0xF0 ? 3
                           : c < 0xF5 ? 4
                                      : 0;
                if (n == 0 || n > len - i)
                        return false;
                for (size_t k = 1; k < n; k++)
                        if ((p[i + k] & 0xC0) != 0x80)
                                return false;
                if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0) ||
                    (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] >= 0x90))
                        return false;
                i += n;
        }
        return true;
}

/* A broken promise: say which, then abort() so that libFuzzer keeps the input. */
#define fuzz_assert(cond, ...)                                                                     \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                 \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* $GOVWATCH_SOURCE_DIR/rel, else the source tree this was built from. NULL on OOM. */
static inline char *fuzz_source_path(const char *rel)
{
        const char *dir = getenv("GOVWATCH_SOURCE_DIR");
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir ? dir : GOVWATCH_SOURCE_DIR, rel) < 0)
                return NULL;
        return p;
}
