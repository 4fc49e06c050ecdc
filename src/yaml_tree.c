/* yaml_tree.c — one YAML loader for the files an admin edits: the config and the rules file.
 *
 * libyaml's event API builds a small tree of nodes that keep their marks (its document API would
 * expand aliases with no bound and forget nothing about duplicate keys). Hostile input is bounded
 * while it is read: nodes, nesting depth, aliases and what their copies add up to; an alias
 * is a copy of its anchor's finished node, so no cycle can be built. Errors are collected, not
 * returned one by one: each with its mark, formatted only below the cap, a repeat at one mark
 * (an anchored value used in several places) kept once, sorted by position at the end. This
 * module knows no key of either file and never logs.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "yaml_tree.h"

/* ---- errors ------------------------------------------------------------------------------ */

void config_errors_done(struct config_errors *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->n_errors; i++)
                free(e->errors[i].message);
        free(e->errors);
        *e = (struct config_errors){0};
}

void config_errors_print(const struct config_errors *e, const char *path, FILE *f)
{
        for (size_t i = 0; i < e->n_errors; i++) {
                const struct config_error *err = &e->errors[i];
                if (err->mark.line == 0)
                        fprintf(f, "%s: %s\n", path, err->message);
                else
                        fprintf(f, "%s:%u:%u: %s\n", path, err->mark.line, err->mark.column,
                                err->message);
        }
}

int config_errors_join(const struct config_errors *e, const char *path, char **ret)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        config_errors_print(e, path, f);
        if (fclose(f) != 0 || !text) {
                free(text);
                return -ENOMEM;
        }
        if (len > 0 && text[len - 1] == '\n')
                text[len - 1] = '\0';
        *ret = text;
        return 0;
}

/* Cuts msg to YAML_TREE_MAX_MESSAGE bytes on a character boundary, marking the cut with "…". */
static void message_bound(char *msg)
{
        size_t len = strlen(msg), cut = YAML_TREE_MAX_MESSAGE - 3;
        if (len <= YAML_TREE_MAX_MESSAGE)
                return;
        while (cut > 0 && ((unsigned char)msg[cut] & 0xC0) == 0x80)
                cut--;
        memcpy(msg + cut, "\xE2\x80\xA6", 4);
}

int config_errors_addv(struct config_errors *e, struct conf_mark mark, bool force, const char *fmt,
                       va_list ap)
{
        char *msg = NULL;

        /* past the cap nothing is formatted: a file with a million mistakes costs a count */
        if (!force && e->n_errors >= YAML_TREE_MAX_ERRORS)
                return 0;
        if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        message_bound(msg);
        /* An anchored value used in several places would otherwise repeat the same error. */
        for (size_t i = 0; i < e->n_errors; i++)
                if (e->errors[i].mark.line == mark.line &&
                    e->errors[i].mark.column == mark.column && streq(e->errors[i].message, msg)) {
                        free(msg);
                        return 1;
                }
        if (!greedy_realloc((void **)&e->errors, &e->allocated, e->n_errors + 1,
                            sizeof(struct config_error))) {
                free(msg);
                return -ENOMEM;
        }
        e->errors[e->n_errors++] = (struct config_error){.mark = mark, .message = msg};
        return 1;
}

int config_errors_add(struct config_errors *e, struct conf_mark mark, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = config_errors_addv(e, mark, true, fmt, ap);
        va_end(ap);
        return r < 0 ? r : 0;
}

void yaml_report_errorv(struct yaml_report *rep, struct conf_mark mark, const char *fmt, va_list ap)
{
        int r = config_errors_addv(rep->errors, mark, false, fmt, ap);
        if (r == 0)
                rep->n_dropped++; /* repeats of one anchored value's error count here too */
        else if (r < 0)
                rep->oom = true;
}

void yaml_report_error(struct yaml_report *rep, struct conf_mark mark, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        yaml_report_errorv(rep, mark, fmt, ap);
        va_end(ap);
}

bool yaml_report_full(const struct yaml_report *rep)
{
        return rep->errors->n_errors >= YAML_TREE_MAX_ERRORS;
}

static int error_compare(const void *a, const void *b)
{
        const struct config_error *x = a, *y = b;
        if (x->mark.line != y->mark.line)
                return x->mark.line < y->mark.line ? -1 : 1;
        if (x->mark.column != y->mark.column)
                return x->mark.column < y->mark.column ? -1 : 1;
        /* qsort is not stable; the text gives a fixed order for errors at one place */
        return strcmp(x->message, y->message);
}

int yaml_report_finish(struct yaml_report *rep)
{
        struct config_errors *e = rep->errors;

        if (rep->n_dropped > 0 &&
            config_errors_add(e, (struct conf_mark){0, 0},
                              "%zu more %s not shown (after the first %d)", rep->n_dropped,
                              plural(rep->n_dropped, "error", "errors"), YAML_TREE_MAX_ERRORS) < 0)
                rep->oom = true;
        if (rep->oom) {
                (void)config_errors_add(e, (struct conf_mark){0, 0}, "out of memory");
                return -ENOMEM;
        }
        if (e->n_errors == 0)
                return 0;
        qsort(e->errors, e->n_errors, sizeof(struct config_error), error_compare);
        return -EINVAL;
}

/* ---- the node tree ----------------------------------------------------------------------- */

struct node *node_free(struct node *n)
{
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_items; i++)
                node_free(n->items[i]);
        free(n->items);
        free(n->scalar);
        free(n);
        return NULL;
}

static int node_append(struct node *parent, struct node *child)
{
        if (!greedy_realloc((void **)&parent->items, &parent->allocated, parent->n_items + 1,
                            sizeof(struct node *)))
                return -ENOMEM;
        parent->items[parent->n_items++] = child;
        return 0;
}

bool node_is_null(const struct node *n)
{
        if (!n)
                return true;
        if (n->kind != NODE_SCALAR || !n->plain)
                return false;
        return n->scalar[0] == '\0' || streq(n->scalar, "~") || streq(n->scalar, "null") ||
               streq(n->scalar, "Null") || streq(n->scalar, "NULL");
}

const char *node_kind_name(const struct node *n)
{
        switch (n->kind) {
        case NODE_SEQUENCE:
                return "a list";
        case NODE_MAPPING:
                return "a mapping";
        default:
                return "a string";
        }
}

const struct node *map_get(const struct node *map, const char *key, const struct node **ret_key)
{
        if (!map || map->kind != NODE_MAPPING)
                return NULL;
        for (size_t i = 0; i + 1 < map->n_items; i += 2) {
                const struct node *k = map->items[i];
                if (k->ignored || k->kind != NODE_SCALAR || !streq(k->scalar, key))
                        continue;
                if (ret_key)
                        *ret_key = k;
                return map->items[i + 1];
        }
        return NULL;
}

struct conf_mark mark_of(const struct node *n)
{
        return n ? n->mark : (struct conf_mark){1, 1};
}

const char *yaml_quote(const char *s, char *buf, size_t size)
{
        size_t i = 0, j = 0;
        const size_t limit = size - 4; /* room for "…" and the NUL */

        for (; s[i] && j < limit; i++) {
                unsigned char ch = (unsigned char)s[i];
                if ((ch & 0xC0) == 0x80 || ch >= 0xC0) {
                        /* keep multi-byte characters whole */
                        size_t l = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
                        if (j + l > limit)
                                break;
                        size_t k = 0;
                        for (; k < l && s[i + k]; k++)
                                buf[j++] = s[i + k];
                        i += k - 1;
                        continue;
                }
                buf[j++] = ch < 0x20 || ch == 0x7F ? '?' : (char)ch;
        }
        if (s[i]) {
                memcpy(buf + j, "\xE2\x80\xA6", 3);
                j += 3;
        }
        buf[j] = '\0';
        return buf;
}

const char *node_describe(const struct node *n, char *buf, size_t size)
{
        if (n->kind != NODE_SCALAR)
                return node_kind_name(n);
        char q[72];
        snprintf(buf, size, "'%s'", yaml_quote(n->scalar, q, sizeof(q)));
        return buf;
}

/* ---- scalars ----------------------------------------------------------------------------- */

int parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no",
                                                                               "off"};
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_uint64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;
        if (*s == '\0')
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *ret = v;
        return 0;
}

int parse_double(const char *s, double *ret)
{
        char *end;
        /* strtod also reads "nan", "inf" and hex; a rate or a weight is plain decimal */
        if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
                return -EINVAL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno != 0 || *end != '\0' || !isfinite(v))
                return -EINVAL;
        *ret = v;
        return 0;
}

/* ---- building the tree from events ------------------------------------------------------- */

struct anchor {
        char *name;
        const struct node *node; /* owned by the tree being built */
};

struct frame {
        struct node *node;
        char *anchor;
};

struct builder {
        struct yaml_report *rep;
        const char *what;
        struct frame stack[YAML_TREE_MAX_DEPTH]; /* the collections still open */
        size_t depth;
        struct node *root;
        unsigned n_documents;
        size_t n_nodes;
        struct anchor *anchors;
        size_t n_anchors, allocated_anchors;
        unsigned n_aliases;
        size_t n_alias_nodes;
};

static struct conf_mark mark_from_yaml(yaml_mark_t m)
{
        return (struct conf_mark){.line = (unsigned)m.line + 1, .column = (unsigned)m.column + 1};
}

/* libyaml gives only a byte offset for encoding errors; count lines and characters ourselves. */
static struct conf_mark mark_from_offset(const char *data, size_t size, size_t offset)
{
        struct conf_mark m = {1, 1};
        for (size_t i = 0; i < offset && i < size; i++) {
                if (data[i] == '\n') {
                        m.line++;
                        m.column = 1;
                } else if (((unsigned char)data[i] & 0xC0) != 0x80)
                        m.column++;
        }
        return m;
}

static void syntax_error(struct builder *b, const yaml_parser_t *p, const char *data, size_t size)
{
        if (p->error == YAML_MEMORY_ERROR) {
                b->rep->oom = true;
                return;
        }
        if (p->error == YAML_READER_ERROR) {
                struct conf_mark m = mark_from_offset(data, size, p->problem_offset);
                if (p->problem_value >= 0)
                        yaml_report_error(b->rep, m, "%s (byte 0x%02X): the file must be UTF-8",
                                          strempty(p->problem), (unsigned)p->problem_value);
                else
                        yaml_report_error(b->rep, m, "%s: the file must be UTF-8",
                                          strempty(p->problem));
                return;
        }
        struct conf_mark m = mark_from_yaml(p->problem_mark);
        if (p->context)
                yaml_report_error(b->rep, m, "%s (%s at %zu:%zu)", strempty(p->problem), p->context,
                                  p->context_mark.line + 1, p->context_mark.column + 1);
        else
                yaml_report_error(b->rep, m, "%s", strempty(p->problem));
}

static int node_copy(struct builder *b, const struct node *src, size_t depth, struct node **ret)
{
        if (src->kind != NODE_SCALAR && depth >= YAML_TREE_MAX_DEPTH)
                return -ELOOP;
        if (++b->n_alias_nodes > YAML_TREE_MAX_ALIAS_NODES)
                return -E2BIG;

        _cleanup_(node_freep) struct node *n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->kind = src->kind;
        n->mark = src->mark;
        n->plain = src->plain;
        n->ignored = src->ignored;
        if (src->scalar) {
                n->scalar = malloc(src->scalar_len + 1);
                if (!n->scalar)
                        return -ENOMEM;
                memcpy(n->scalar, src->scalar, src->scalar_len + 1);
                n->scalar_len = src->scalar_len;
        }
        for (size_t i = 0; i < src->n_items; i++) {
                struct node *child;
                int r = node_copy(b, src->items[i], depth + 1, &child);
                if (r < 0)
                        return r;
                r = node_append(n, child);
                if (r < 0) {
                        node_free(child);
                        return r;
                }
        }
        *ret = TAKE_PTR(n);
        return 0;
}

static int anchor_add(struct builder *b, const char *name, const struct node *n)
{
        if (!name)
                return 0;
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        if (!greedy_realloc((void **)&b->anchors, &b->allocated_anchors, b->n_anchors + 1,
                            sizeof(struct anchor))) {
                free(copy);
                return -ENOMEM;
        }
        b->anchors[b->n_anchors++] = (struct anchor){.name = copy, .node = n};
        return 0;
}

static const struct node *anchor_find(const struct builder *b, const char *name)
{
        /* YAML lets a later anchor of the same name replace an earlier one. */
        for (size_t i = b->n_anchors; i > 0; i--)
                if (streq(b->anchors[i - 1].name, name))
                        return b->anchors[i - 1].node;
        return NULL;
}

struct key_ref {
        const struct node *key;
        size_t index;
};

static int key_ref_compare(const void *a, const void *b)
{
        const struct key_ref *x = a, *y = b;
        int r = strcmp(x->key->scalar, y->key->scalar);
        if (r != 0)
                return r;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* libyaml does not notice duplicate keys; a later one would silently win. Sorting keeps a
 * hostile mapping with many keys from costing quadratic time. */
static int mapping_check_keys(struct builder *b, struct node *map)
{
        size_t n = map->n_items / 2, n_refs = 0;
        _cleanup_free_ struct key_ref *refs = calloc(n ? n : 1, sizeof(struct key_ref));
        if (!refs)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                struct node *k = map->items[2 * i];
                if (k->kind != NODE_SCALAR) {
                        yaml_report_error(b->rep, k->mark, "a key must be a string, not %s",
                                          DESCRIBE(k));
                        k->ignored = true;
                        continue;
                }
                if (k->plain && streq(k->scalar, "<<")) {
                        yaml_report_error(b->rep, k->mark,
                                          "merge keys ('<<') are not supported: write the keys "
                                          "out, or use an alias for a whole value");
                        k->ignored = true;
                        continue;
                }
                refs[n_refs++] = (struct key_ref){.key = k, .index = i};
        }
        qsort(refs, n_refs, sizeof(struct key_ref), key_ref_compare);
        for (size_t i = 1; i < n_refs; i++) {
                size_t first = i - 1;
                while (i < n_refs && streq(refs[i].key->scalar, refs[first].key->scalar)) {
                        yaml_report_error(b->rep, refs[i].key->mark,
                                          "duplicate key '%s' (first at %u:%u)",
                                          QUOTE(refs[i].key->scalar), refs[first].key->mark.line,
                                          refs[first].key->mark.column);
                        map->items[2 * refs[i].index]->ignored = true;
                        i++;
                }
        }
        return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev, struct conf_mark mark,
                     struct node **ret)
{
        struct node *n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        *ret = n; /* the caller frees it on failure */
        n->kind = NODE_SCALAR;
        n->mark = mark;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->scalar_len = ev->data.scalar.length;
        n->scalar = malloc(n->scalar_len + 1);
        if (!n->scalar)
                return -ENOMEM;
        memcpy(n->scalar, ev->data.scalar.value, n->scalar_len);
        n->scalar[n->scalar_len] = '\0';
        return anchor_add(b, (const char *)ev->data.scalar.anchor, n);
}

static int on_alias(struct builder *b, const yaml_event_t *ev, struct conf_mark mark,
                    struct node **ret)
{
        const char *name = (const char *)ev->data.alias.anchor;
        if (++b->n_aliases > YAML_TREE_MAX_ALIASES) {
                yaml_report_error(b->rep, mark,
                                  "more than %d aliases: refusing the file (a \"billion laughs\" "
                                  "attack?)",
                                  YAML_TREE_MAX_ALIASES);
                return -EINVAL;
        }
        const struct node *target = anchor_find(b, name);
        if (!target) {
                yaml_report_error(b->rep, mark, "undefined alias '*%s'", QUOTE(name));
                return -EINVAL;
        }
        int r = node_copy(b, target, b->depth, ret);
        if (r == -E2BIG)
                yaml_report_error(b->rep, mark,
                                  "aliases expand to more than %d values: refusing the file (a "
                                  "\"billion laughs\" attack?)",
                                  YAML_TREE_MAX_ALIAS_NODES);
        else if (r == -ELOOP)
                yaml_report_error(b->rep, mark, "nesting deeper than %d levels",
                                  YAML_TREE_MAX_DEPTH);
        if (r == -E2BIG || r == -ELOOP)
                return -EINVAL;
        return r;
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, struct conf_mark mark)
{
        if (b->depth >= YAML_TREE_MAX_DEPTH) {
                yaml_report_error(b->rep, mark, "nesting deeper than %d levels",
                                  YAML_TREE_MAX_DEPTH);
                return -EINVAL;
        }
        const yaml_char_t *anchor = ev->type == YAML_SEQUENCE_START_EVENT
                                            ? ev->data.sequence_start.anchor
                                            : ev->data.mapping_start.anchor;
        struct node *c = calloc(1, sizeof(*c));
        char *a = anchor ? strdup((const char *)anchor) : NULL;
        if (!c || (anchor && !a)) {
                free(c);
                free(a);
                return -ENOMEM;
        }
        c->kind = ev->type == YAML_SEQUENCE_START_EVENT ? NODE_SEQUENCE : NODE_MAPPING;
        c->mark = mark;
        b->stack[b->depth++] = (struct frame){.node = c, .anchor = a};
        return 0;
}

static int on_collection_end(struct builder *b, struct node **ret)
{
        struct frame f = b->stack[--b->depth];
        int r = 0;

        *ret = f.node;
        if (f.node->kind == NODE_MAPPING)
                r = mapping_check_keys(b, f.node);
        /* registered only when complete: an alias inside its own anchor is "undefined", which
         * rules out cycles */
        if (r >= 0)
                r = anchor_add(b, f.anchor, f.node);
        free(f.anchor);
        return r;
}

static bool event_is_value(const yaml_event_t *ev)
{
        return ev->type == YAML_SCALAR_EVENT || ev->type == YAML_SEQUENCE_START_EVENT ||
               ev->type == YAML_MAPPING_START_EVENT;
}

/* One event: sets *ret to a finished node (to attach) and *done at the stream's end. */
static int on_event(struct builder *b, const yaml_event_t *ev, struct node **ret, bool *done)
{
        struct conf_mark mark = mark_from_yaml(ev->start_mark);

        if (event_is_value(ev) && ++b->n_nodes > YAML_TREE_MAX_NODES) {
                yaml_report_error(b->rep, mark,
                                  "more than %d values (scalars, lists and mappings): refusing "
                                  "the file",
                                  YAML_TREE_MAX_NODES);
                return -EINVAL;
        }
        switch (ev->type) {
        case YAML_STREAM_END_EVENT:
                *done = true;
                return 0;
        case YAML_DOCUMENT_START_EVENT:
                if (++b->n_documents > 1) {
                        yaml_report_error(b->rep, mark,
                                          "a second YAML document: %s is one document", b->what);
                        return -EINVAL;
                }
                return 0;
        case YAML_SCALAR_EVENT:
                return on_scalar(b, ev, mark, ret);
        case YAML_ALIAS_EVENT:
                return on_alias(b, ev, mark, ret);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                return on_collection_start(b, ev, mark);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                return on_collection_end(b, ret);
        default:
                return 0;
        }
}

/* A finished node becomes the root or the last item of the collection it is in. */
static int attach(struct builder *b, struct node *n)
{
        if (b->depth == 0) {
                b->root = n;
                return 0;
        }
        int r = node_append(b->stack[b->depth - 1].node, n);
        if (r < 0)
                node_free(n);
        return r;
}

static void builder_done(struct builder *b)
{
        /* On failure, the unfinished collections are still on the stack. */
        while (b->depth > 0) {
                b->depth--;
                node_free(b->stack[b->depth].node);
                free(b->stack[b->depth].anchor);
        }
        for (size_t i = 0; i < b->n_anchors; i++)
                free(b->anchors[i].name);
        free(b->anchors);
        b->root = node_free(b->root);
}

int yaml_tree_build(struct yaml_report *rep, const char *data, size_t size, const char *what,
                    struct node **ret)
{
        struct builder b = {.rep = rep, .what = what};
        yaml_parser_t parser;
        bool done = false;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)data, size);

        while (!done && r >= 0) {
                yaml_event_t ev;
                struct node *n = NULL;

                if (!yaml_parser_parse(&parser, &ev)) {
                        syntax_error(&b, &parser, data, size);
                        r = rep->oom ? -ENOMEM : -EINVAL;
                        break;
                }
                r = on_event(&b, &ev, &n, &done);
                yaml_event_delete(&ev);
                if (n && r < 0)
                        node_free(n);
                else if (n)
                        r = attach(&b, n);
        }
        yaml_parser_delete(&parser);
        if (r >= 0)
                *ret = TAKE_PTR(b.root);
        builder_done(&b);
        return r;
}
