/* setting.h — the tables of keys config.c parses with, for the files that own keys of their own.
 *
 * One row a key: its name, its type, where its value goes (an offset into the struct the table
 * describes), its default (written as in the file and read by the same parser), a description
 * for govwatch.yaml(5) and its limits. config.c parses a mapping against a table, reporting
 * every problem as FILE:LINE:COL, frees what it parsed through the table, and generates the man
 * page from it. A sink type hands its table over in its sink_ops (sink.h); which sink types
 * know a key is the registry's to say, never the table's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum setting_type {
        SETTING_STRING,
        SETTING_PATH, /* a string; relative paths start at the config file's directory */
        SETTING_BOOL,
        SETTING_UINT, /* unsigned */
        SETTING_INT,  /* int, non-negative in the file */
        SETTING_SIZE, /* size_t */
        SETTING_DOUBLE,
        SETTING_DURATION,     /* uint64_t microseconds */
        SETTING_STRV,         /* NULL-terminated char ** */
        SETTING_ENUM,         /* int: index into enum_values */
        SETTING_CATEGORY_MAP, /* char *[_CATEGORY_BUILTIN_MAX]: {category: one of enum_values}
                               * for built-in categories, NULL where not set */
        SETTING_SECTION,      /* a nested mapping described by its own table (config.c only) */
        SETTING_CUSTOM,       /* parsed by parse (config.c only) */
};

struct setting;
struct loader; /* config.c's */
struct node;   /* config.c's */
/* Parses a non-null value into base; reports its own errors. */
typedef void (*setting_parse_fn)(struct loader *l, const struct setting *s,
                                 const struct node *value, void *base);
/* Checks one string (or one item of a list); returns NULL or the reason it is wrong. */
typedef const char *(*setting_check_fn)(const char *value, char *buf, size_t size);

struct setting {
        const char *key;
        enum setting_type type;
        size_t offset;
        const char *default_value; /* read like a value in the file; NULL: none */
        const char *description;
        bool required;
        bool positive;     /* numbers and durations: must be > 0 */
        uint64_t min, max; /* whole numbers; max 0: no upper bound */
        const char *const *enum_values;
        setting_check_fn check;
        setting_parse_fn parse;
        const struct setting *sub; /* SETTING_SECTION */
        size_t n_sub;
};

/* The five things every setting has; the rest are named where they matter. */
#define S(k, t, off, def, desc)                                                                    \
        .key = (k), .type = (t), .offset = (off), .default_value = (def), .description = (desc)

/* A value quoted in a message: one line, bounded, cut on a character boundary. */
const char *setting_quote(const char *s, char *buf, size_t size);
#define SETTING_QUOTE(s) setting_quote((s), (char[72]){0}, 72)

/* "SCHEME://host..." or "SCHEMEs://host..." (http/https, smtp/smtps): NULL, or why not. */
const char *setting_check_url(const char *v, const char *scheme, char *buf, size_t size);

/* Where a check across the keys of one mapping (a sink's) reports: at a key as written. */
struct setting_errors;
/* An error at the key's name in the mapping (at the mapping when the key is not there). */
void setting_error_at_key(struct setting_errors *e, const char *key, const char *fmt, ...)
        _printf_(3, 4);
/* An error at the key's value, or at its first item when the value is a list. */
void setting_error_at_value(struct setting_errors *e, const char *key, const char *fmt, ...)
        _printf_(3, 4);
