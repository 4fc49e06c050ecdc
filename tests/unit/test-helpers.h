/* test-helpers.h — shared by the unit tests: finding fixtures, reading them. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

/* $GOVWATCH_SOURCE_DIR/<rel>, or the compiled-in source dir. Caller frees. */
static inline char *source_path(const char *rel)
{
        const char *dir = getenv("GOVWATCH_SOURCE_DIR");
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir ? dir : GOVWATCH_SOURCE_DIR, rel) < 0)
                return NULL;
        return p;
}

static inline char *read_fixture(const char *rel, size_t *ret_size)
{
        _cleanup_free_ char *path = source_path(rel);
        char *data = NULL;
        assert_non_null(path);
        int r = read_full_file(path, 16 * 1024 * 1024, false, &data, ret_size);
        if (r < 0)
                fail_msg("cannot read fixture %s: %s", path, strerror(-r));
        return data;
}
