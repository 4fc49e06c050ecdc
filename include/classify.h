/* classify.h — Russian post classifier: post -> categories (+ planned start of a broadcast).
 *
 * Pure: no I/O after loading, no logging above debug. Categories are indices into the loaded
 * rule set; the six built-in ones (LABELS.md) always come first in this order, user-defined
 * categories follow. A result is a bit mask over those indices.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "post.h"

enum {
        CATEGORY_LIVE,
        CATEGORY_SERVICE,
        CATEGORY_SCHEDULE,
        CATEGORY_OUTAGE,
        CATEGORY_EMERGENCY,
        CATEGORY_CIVIC,
        _CATEGORY_BUILTIN_MAX,
        CATEGORY_MAX = 64, /* bits in a category mask */
};

extern const char *const category_builtin_names[_CATEGORY_BUILTIN_MAX];

/* Index of a built-in category name, or -ENOENT. */
int category_builtin_from_name(const char *name);

/* What a user's config adds to the rules (classifier: section). */
struct classify_user_category {
        char *name;     /* an existing category (adds to it) or a new one */
        char **phrases; /* NULL-terminated; words, stemmed like the rules */
        char **regexes; /* NULL-terminated; PCRE2, UTF mode, caseless */
        char **exclude; /* NULL-terminated; phrases that veto this category */
};

struct classify_options {
        const char *rules_file; /* NULL: the installed default rules */
        const char *timezone;   /* IANA name for reading times in text; NULL: Europe/Moscow */
        const struct classify_user_category *user;
        size_t n_user;
};

struct classifier;

struct classify_result {
        uint64_t categories; /* bit i set: category i */
        int64_t starts_at;   /* planned start of a live broadcast (unix time), 0: unknown */
        int32_t starts_at_utc_offset; /* seconds east of UTC at starts_at, for ISO 8601 output */
        /* A live post that moves an announced broadcast ("эфир переносится на ..."): starts_at is
         * then the NEW start (0 when only cancelled/postponed without a date). The daemon should
         * move (or, with starts_at 0, drop) the pending reminder of the same community's upcoming
         * broadcast instead of adding a second one. Decided by the "reschedule:" rules. */
        bool reschedule;
};

/* Loads rules. On a rule-file error, -EINVAL and a message "FILE:LINE:COL: ..." in *ret_error
 * (newly allocated) when ret_error is not NULL. */
int classifier_new(const struct classify_options *opts, struct classifier **ret, char **ret_error);
struct classifier *classifier_free(struct classifier *c);

size_t classifier_n_categories(const struct classifier *c);
const char *classifier_category_name(const struct classifier *c, unsigned idx);
int classifier_category_index(const struct classifier *c, const char *name); /* or -ENOENT */

/* Not thread-safe: a classifier keeps scratch buffers (one classifier per thread). */
int classifier_classify(const struct classifier *c, const struct post *p,
                        struct classify_result *ret);

/* Same, reading times in the text in time zone tz (a community's own zone; from tz_load() of
 * timeparse.h) instead of the classifier's default. tz NULL: the default. */
struct tz;
int classifier_classify_tz(const struct classifier *c, const struct post *p, const struct tz *tz,
                           struct classify_result *ret);

/* starts_at as "2026-12-05T17:00:00+03:00" into buf (>= 32 bytes); "" when unknown. */
void classify_result_starts_at(const struct classify_result *r, char *buf, size_t size);

/* Like classifier_classify, and writes which rules fired and their scores to f. */
int classifier_explain(const struct classifier *c, const struct post *p, FILE *f,
                       struct classify_result *ret);

/* Where the default rules file is, first found of: $GOVWATCH_RULES, ../share/govwatch/rules.yaml
 * next to the executable, GOVWATCH_PKGDATADIR, the source tree's data/rules.yaml. */
int classifier_default_rules_path(char **ret);

/* govwatchd classify [--rules FILE] [--explain] [--timezone ZONE]: VK post objects (JSON lines) on
 * stdin, {"owner_id","id","categories","starts_at"} lines on stdout; --explain writes the rules
 * that fired to stderr. argv[0] is "classify". Returns the exit status. (classify_cli.c) */
int verb_classify(int argc, char **argv);
