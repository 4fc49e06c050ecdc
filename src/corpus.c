/* corpus.c — reads labelled posts (JSON lines) and assigns the shipped corpus's fixed split.
 *
 * The split is a function of the text alone, so it never changes when lines are added or
 * reordered, and a near-duplicate check (tests/corpus) keeps one story out of two splits.
 * A bad line fails the whole file with its FILE:LINE: an admin's example file that is half read
 * would train a model nobody asked for.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

#include "corpus.h"
#include "model.h"

#define CORPUS_MAX_SIZE (64u << 20)

const char *const corpus_split_names[_SPLIT_MAX] = {
        [SPLIT_TRAIN] = "train",
        [SPLIT_DEV] = "dev",
        [SPLIT_TEST] = "test",
};

enum corpus_split corpus_split_of(const char *text)
{
        unsigned bucket = (unsigned)(model_key(MODEL_KEY_INIT, text, strlen(text)) % 100);
        return bucket < 20 ? SPLIT_TEST : bucket < 35 ? SPLIT_DEV : SPLIT_TRAIN;
}

static void example_done(struct example *e)
{
        post_free(e->post);
        free(e->source);
        *e = (struct example){0};
}

void corpus_done(struct corpus *c)
{
        for (size_t i = 0; i < c->n; i++)
                example_done(&c->v[i]);
        free(c->v);
        *c = (struct corpus){0};
}

static _printf_(2, 3) int fail(char **ret_error, const char *fmt, ...)
{
        if (ret_error) {
                va_list ap;
                va_start(ap, fmt);
                free(*ret_error);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

static int parse_line(const char *path, unsigned lineno, const char *line, size_t len,
                      char *const *names, size_t n_names, bool split_by_hash, struct example *ret,
                      char **ret_error)
{
        json_error_t err;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
        if (!o)
                return fail(ret_error, "%s:%u: not JSON (column %d: %s)", path, lineno, err.column,
                            err.text);
        int r = 0;
        struct example e = {.line = lineno};
        const json_t *text = json_object_get(o, "text");
        const json_t *labels = json_object_get(o, "labels");
        if (!json_is_object(o)) {
                r = fail(ret_error, "%s:%u: expected a JSON object (a VK post with \"labels\")",
                         path, lineno);
                goto out;
        }
        if (!json_is_string(text)) {
                r = fail(ret_error, "%s:%u: \"text\" is missing or not a string", path, lineno);
                goto out;
        }
        if (!json_is_array(labels)) {
                r = fail(ret_error, "%s:%u: \"labels\" is missing or not a list of categories",
                         path, lineno);
                goto out;
        }
        size_t i;
        json_t *l;
        json_array_foreach(labels, i, l)
        {
                const char *name = json_string_value(l);
                size_t k = 0;
                while (name && k < n_names && !streq(names[k], name))
                        k++;
                if (!name || k == n_names) {
                        r = fail(ret_error, "%s:%u: unknown category %s%s%s in \"labels\"", path,
                                 lineno, name ? "\"" : "", name ? name : "(not a string)",
                                 name ? "\"" : "");
                        goto out;
                }
                e.labels |= UINT64_C(1) << k;
        }
        /* a text from a web page is a post without ids: give it some, VK's shape needs them */
        if (!json_is_integer(json_object_get(o, "id")))
                json_object_set_new(o, "id", json_integer(lineno));
        if (!json_is_integer(json_object_get(o, "owner_id")))
                json_object_set_new(o, "owner_id", json_integer(0));
        const char *reason = NULL;
        r = post_from_json(o, &e.post, &reason);
        if (r < 0) {
                r = r == -ENOMEM ? r
                                 : fail(ret_error, "%s:%u: not a VK post: %s", path, lineno,
                                        reason ? reason : strerror(-r));
                goto out;
        }
        const char *source = json_string_value(json_object_get(o, "source"));
        if (source && !(e.source = strdup(source))) {
                r = -ENOMEM;
                goto out;
        }
        e.synthetic = streq_ptr(json_string_value(json_object_get(o, "origin")), "synthetic");
        e.split = split_by_hash ? corpus_split_of(json_string_value(text)) : SPLIT_TRAIN;
        *ret = e;
        e = (struct example){0};
out:
        example_done(&e);
        json_decref(o);
        return r;
}

int corpus_read(struct corpus *c, const char *path, char *const *names, size_t n_names,
                bool split_by_hash, char **ret_error)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, first = c->n;
        int r = read_full_file(path, CORPUS_MAX_SIZE, false, &buf, &size);
        if (r < 0) {
                if (ret_error) {
                        free(*ret_error);
                        if (asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                                *ret_error = NULL;
                }
                return r;
        }
        unsigned lineno = 0;
        for (size_t off = 0; off < size;) {
                const char *line = buf + off;
                const char *nl = memchr(line, '\n', size - off);
                size_t len = nl ? (size_t)(nl - line) : size - off;
                off += len + (nl ? 1 : 0);
                lineno++;
                size_t blank = 0;
                while (blank < len && strchr(" \t\r", line[blank]))
                        blank++;
                if (blank == len)
                        continue;
                if (!greedy_realloc((void **)&c->v, &c->allocated, c->n + 1, sizeof(*c->v))) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = parse_line(path, lineno, line, len, names, n_names, split_by_hash, &c->v[c->n],
                               ret_error);
                if (r < 0)
                        goto fail;
                c->n++;
        }
        c->key = model_key(c->key ? c->key : MODEL_KEY_INIT, buf, size);
        return 0;
fail:
        while (c->n > first)
                example_done(&c->v[--c->n]);
        return r;
}
