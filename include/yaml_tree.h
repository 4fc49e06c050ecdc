/* yaml_tree.h — the YAML files an admin edits (the config, the rules file), as one small tree.
 *
 * yaml_tree_build() reads libyaml's events into nodes that keep their marks, with hostile input
 * bounded before it costs anything (size, nodes, nesting depth, aliases and what they expand to)
 * and duplicate keys refused. Every problem goes to one error list of marks and messages, so a
 * loader reports all of them as FILE:LINE:COL at once. The marks and the list are config.h's
 * struct conf_mark and struct config_errors, declared here because the rules file shares them.
 * The scalar readers (booleans, whole numbers, decimals) are the one way either file spells them.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* What one file may ask of the loader: each is refused with its own message. */
#define YAML_TREE_MAX_SIZE        (1024 * 1024)
#define YAML_TREE_MAX_DEPTH       64
#define YAML_TREE_MAX_ALIASES     32
#define YAML_TREE_MAX_ALIAS_NODES 10000
/* Values in the file: scalars, lists and mappings (aliases' copies count apart). Every value costs
 * a libyaml event, a node, a check and a free, about 0.2 us together: a file of "[a,a,a,...]"
 * holds 500,000 of them in its 1 MiB and took 100 ms. 100,000 hold 10,000 watch entries of a
 * topic, a community and a sink each, or one list of 90,000 communities. */
#define YAML_TREE_MAX_NODES 100000
/* A message is never longer than YAML_TREE_MAX_MESSAGE bytes and never formatted at all past
 * YAML_TREE_MAX_ERRORS, so a hostile file costs linear work. */
#define YAML_TREE_MAX_ERRORS  100
#define YAML_TREE_MAX_MESSAGE 512

struct conf_mark {
        unsigned line;   /* 1-based */
        unsigned column; /* 1-based */
};

struct config_error {
        struct conf_mark mark; /* 0:0 when the error has no position (unreadable file) */
        char *message;
};

struct config_errors {
        struct config_error *errors;
        size_t n_errors;
        size_t allocated;
};
void config_errors_done(struct config_errors *e);
/* Adds one error found after loading (the classifier does not build, ...): 0 or -ENOMEM. */
int config_errors_add(struct config_errors *e, struct conf_mark mark, const char *fmt, ...)
        _printf_(3, 4);
/* Adds one error unless force is false and the list is full: 1 added (or a repeat of one at the
 * same mark, which is not added again), 0 past the cap, -ENOMEM. */
int config_errors_addv(struct config_errors *e, struct conf_mark mark, bool force, const char *fmt,
                       va_list ap) _printf_(4, 0);
/* Prints "FILE:LINE:COL: message" per error. */
void config_errors_print(const struct config_errors *e, const char *path, FILE *f);
/* The same lines in one string, without the last newline. */
int config_errors_join(const struct config_errors *e, const char *path, char **ret);

/* What a loader found: the list, the errors past its cap, and whether memory ran out. */
struct yaml_report {
        struct config_errors *errors;
        size_t n_dropped;
        bool oom;
};
void yaml_report_error(struct yaml_report *rep, struct conf_mark mark, const char *fmt, ...)
        _printf_(3, 4);
void yaml_report_errorv(struct yaml_report *rep, struct conf_mark mark, const char *fmt, va_list ap)
        _printf_(3, 0);
/* Whether another error would still be shown: callers skip costly work (suggestions, lists)
 * for errors that would only be counted. */
bool yaml_report_full(const struct yaml_report *rep);
/* Ends a load: says how many errors were not shown, or that memory ran out, and sorts the list
 * by position. -ENOMEM, -EINVAL when there are errors, else 0. */
int yaml_report_finish(struct yaml_report *rep);

enum node_kind {
        NODE_SCALAR,
        NODE_SEQUENCE,
        NODE_MAPPING,
};

struct node {
        enum node_kind kind;
        struct conf_mark mark;
        char *scalar; /* NUL-terminated; scalar_len tells whether the value itself held a NUL */
        size_t scalar_len;
        bool plain;   /* unquoted: only then can it be null */
        bool ignored; /* a duplicate or unusable key: reported once, then skipped by every walk */
        struct node **items; /* sequence: the items; mapping: key, value, key, value, ... */
        size_t n_items;
        size_t allocated;
};

struct node *node_free(struct node *n);
static inline void node_freep(struct node **n)
{
        *n = node_free(*n);
}

/* Reads data (size bytes, no NUL needed) into a tree: 0 with *ret (NULL for a file of no
 * document), or a negative errno with the errors in rep. what names the file in messages ("the
 * configuration"). The caller checks the size (YAML_TREE_MAX_SIZE) before, with its own words. */
int yaml_tree_build(struct yaml_report *rep, const char *data, size_t size, const char *what,
                    struct node **ret);

bool node_is_null(const struct node *n);
const char *node_kind_name(const struct node *n);
/* Looks a key up in a mapping; ignored (duplicate) keys never match. */
const struct node *map_get(const struct node *map, const char *key, const struct node **ret_key);
/* n's mark, 1:1 for no node. */
struct conf_mark mark_of(const struct node *n);

/* A value quoted in a message: one line, bounded, cut on a character boundary. */
const char *yaml_quote(const char *s, char *buf, size_t size);
#define QUOTE(s) yaml_quote((s), (char[72]){0}, 72)
/* What a message says the user wrote instead: the value itself, or its shape. */
const char *node_describe(const struct node *n, char *buf, size_t size);
#define DESCRIBE(n) node_describe((n), (char[80]){0}, 80)

/* The scalar readers, named like util.h's parse_duration_usec() (durations, "5m"): -EINVAL when
 * s is not one. Booleans are true/yes/on and false/no/off in any case; whole numbers are plain
 * decimal digits (-ERANGE past UINT64_MAX); decimals are plain too ("nan", "inf" and hex are
 * refused). */
int parse_bool(const char *s, bool *ret);
int parse_uint64(const char *s, uint64_t *ret);
int parse_double(const char *s, double *ret);
