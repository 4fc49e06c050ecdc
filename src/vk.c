/* vk.c — request building and answer parsing for the VK API; no I/O.
 *
 * execute is how govwatch stays inside ~3 requests a second: one HTTP request carries up to 25
 * wall.get calls. The answer pairs each failed inner call (a `false` in "response") with the next
 * entry of "execute_errors", in order.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>

#include "util.h"
#include "vk.h"

enum vk_error_class vk_error_class_of(int code)
{
        switch (code) {
        case 0:
                return VK_ERROR_NONE;
        case 5:
                return VK_ERROR_TOKEN;
        case 6:
        case 9:
                return VK_ERROR_RATE;
        case 1:
        case 10:
        case 13:
        case VK_ERROR_CODE_HTTP:
        case VK_ERROR_CODE_TRANSPORT:
        case VK_ERROR_CODE_MALFORMED:
        case VK_ERROR_CODE_TOO_LARGE: /* a sweep splits its batch instead (split_batch) */
                return VK_ERROR_TRANSIENT;
        case 15:
        case 18:
        case 30:
        case 203:
                return VK_ERROR_COMMUNITY;
        case 29:
                return VK_ERROR_QUOTA;
        case 100:
        case 104:
        case 113:
                return VK_ERROR_CONFIG;
        default:
                return VK_ERROR_OTHER;
        }
}

const char *vk_error_class_name(enum vk_error_class c)
{
        static const char *const names[] = {
                [VK_ERROR_NONE] = "none",           [VK_ERROR_TOKEN] = "token",
                [VK_ERROR_RATE] = "rate",           [VK_ERROR_TRANSIENT] = "transient",
                [VK_ERROR_COMMUNITY] = "community", [VK_ERROR_QUOTA] = "quota",
                [VK_ERROR_CONFIG] = "config",       [VK_ERROR_OTHER] = "other",
        };
        return (size_t)c < ELEMENTSOF(names) ? names[c] : "other";
}

int vk_execute_code_wall_get(const struct vk_wall_request *reqs, size_t n, char **ret)
{
        struct strbuf sb = {0};
        int r;

        if (n == 0 || n > VK_EXECUTE_MAX_CALLS)
                return -EINVAL;
        r = strbuf_puts(&sb, "return [");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                unsigned count = reqs[i].count == 0 ? 1 : reqs[i].count > 100 ? 100 : reqs[i].count;
                r = strbuf_appendf(&sb,
                                   "%sAPI.wall.get({\"owner_id\":%" PRId64
                                   ",\"count\":%u,\"offset\":%u,\"extended\":1})",
                                   i ? "," : "", reqs[i].owner_id, count, reqs[i].offset);
        }
        if (r >= 0)
                r = strbuf_puts(&sb, "];");
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

int vk_form_body(const char *const *keys, const char *const *values, size_t n, char **ret)
{
        struct strbuf sb = {0};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                char *k = curl_easy_escape(NULL, keys[i], 0);
                char *v = curl_easy_escape(NULL, values[i], 0);
                if (!k || !v)
                        r = -ENOMEM;
                else
                        r = strbuf_appendf(&sb, "%s%s=%s", i ? "&" : "", k, v);
                curl_free(k);
                curl_free(v);
        }
        if (r >= 0)
                r = strbuf_append(&sb, "", 0);
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

struct vk_result *vk_result_free(struct vk_result *res)
{
        if (!res)
                return NULL;
        for (size_t i = 0; i < res->n_calls; i++)
                free(res->calls[i].error_msg);
        free(res->calls);
        free(res->error_msg);
        json_decref(res->root);
        free(res);
        return NULL;
}

static size_t json_size(const json_t *v)
{
        return json_is_array(v) ? json_array_size(v) : json_object_size(v);
}

/* Keeps v (a reference the graveyard owns) to be freed later, when freeing it now would cost more
 * than one value: a container with something in it. */
static void push(struct vk_graveyard *g, json_t *v)
{
        if (json_size(v) == 0 ||
            !greedy_realloc((void **)&g->trees, &g->allocated, g->n + 1, sizeof(json_t *)))
                json_decref(v); /* cheap, or (out of memory) freed at once as before */
        else
                g->trees[g->n++] = v;
}

void vk_graveyard_bury(struct vk_graveyard *g, json_t *v, size_t bytes)
{
        /* a tree someone else still holds loses one reference; one read from no more than a
         * piece costs no more to free than the piece cost to parse, and waiting it would only
         * hold memory while the next answer is read */
        if (!g || !v || v->refcount > 1 || bytes <= VK_PIECE_MAX)
                json_decref(v);
        else
                push(g, v);
}

/* Frees one value a turn, leaves first: the tree on top of the stack gives up its last child (an
 * array's last element, an object's first member: neither moves the others), which is freed at
 * once when it is cheap and otherwise goes on top; the tree itself goes once it is empty. So a
 * turn costs the same whatever the shape, and the stack holds one tree a level. */
bool vk_graveyard_release(struct vk_graveyard *g, size_t max_values)
{
        for (size_t released = 0; g->n > 0 && released < max_values; released++) {
                json_t *v = g->trees[g->n - 1], *child;
                size_t n = json_size(v);

                if (n == 0 || v->refcount > 1) { /* held elsewhere: dropping ours frees nothing */
                        g->n--;
                        json_decref(v);
                        continue;
                }
                if (json_is_array(v)) {
                        child = json_incref(json_array_get(v, n - 1));
                        (void)json_array_remove(v, n - 1);
                } else {
                        void *it = json_object_iter(v);
                        child = json_incref(json_object_iter_value(it));
                        (void)json_object_del(v, json_object_iter_key(it));
                }
                push(g, child);
        }
        return g->n == 0;
}

void vk_graveyard_done(struct vk_graveyard *g)
{
        while (g->n > 0)
                json_decref(g->trees[--g->n]);
        free(g->trees);
        *g = (struct vk_graveyard){0};
}

static int error_from_json(const json_t *err, int *ret_code, char **ret_msg)
{
        const json_t *code = json_object_get(err, "error_code");
        const json_t *msg = json_object_get(err, "error_msg");

        if (!json_is_integer(code))
                return -EBADMSG;
        /* clamp: a hostile answer must not overflow int or collide with our negative codes */
        json_int_t c = json_integer_value(code);
        *ret_code = c > 0 && c < 1000000 ? (int)c : 999999;
        *ret_msg = strdup(json_is_string(msg) ? json_string_value(msg) : "(no message)");
        return *ret_msg ? 0 : -ENOMEM;
}

/* A top-level "error": every call failed with it. */
static int take_top_level_error(struct vk_result *res, const json_t *error, const char **ret_reason)
{
        int r = error_from_json(error, &res->error_code, &res->error_msg);
        if (r < 0) {
                *ret_reason = "answer has an \"error\" without an integer error_code";
                return r == -ENOMEM ? r : -EBADMSG;
        }
        for (size_t i = 0; i < res->n_calls; i++) {
                res->calls[i].error_code = res->error_code;
                res->calls[i].error_msg = strdup(res->error_msg);
                if (!res->calls[i].error_msg)
                        return -ENOMEM;
        }
        return 0;
}

/* The next entry of "execute_errors" from *next on that is about an inner call. Real answers
 * end the list with one about the execute itself ({"method":"execute",...}, its code that of
 * some inner error): it belongs to no call, and pairing it with a false would blame a wall for
 * another's error. */
static const json_t *next_call_error(const json_t *errors, size_t *next)
{
        const json_t *e;

        while ((e = json_array_get(errors, (*next)++))) {
                const json_t *method = json_object_get(e, "method");
                if (!json_is_string(method) || !streq(json_string_value(method), "execute"))
                        return e;
        }
        return NULL;
}

/* Each failed call (a false in "response") takes the next entry of "execute_errors". */
static int take_execute_errors(struct vk_result *res, const bool *failed, const json_t *errors)
{
        size_t next_error = 0;

        for (size_t i = 0; i < res->n_calls; i++) {
                struct vk_call_result *c = &res->calls[i];
                if (!failed[i])
                        continue;
                const json_t *e = next_call_error(errors, &next_error);
                if (!e || error_from_json(e, &c->error_code, &c->error_msg) < 0) {
                        /* a false without its error: treat it as VK's internal error, retried */
                        c->error_code = 10;
                        free(c->error_msg);
                        c->error_msg = strdup("call failed without an execute_errors entry");
                        if (!c->error_msg)
                                return -ENOMEM;
                }
        }
        return 0;
}

static const char not_json[] = "answer is not valid JSON (truncated or not JSON at all)";
static const char wrong_count[] = "execute answer does not have one entry per call";

/* The JSON both readers accept, one rule by construction: whatever reaches jansson has passed
 * answer_open() and scan() and is decoded with these flags, whole or a piece at a time. Duplicate
 * keys are refused everywhere: VK (an associative array serialised) never sends them, and the
 * reader of a call at a time could not tell which "response" a whole parse would have kept. */
#define ANSWER_JSON_FLAGS JSON_REJECT_DUPLICATES

/* The shared front half: what is refused before either reader parses anything. answer_open()
 * refuses an answer over VK_ANSWER_MAX_BYTES and strips one UTF-8 BOM (some real answers start
 * with one; jansson refuses it). scan() then reads every byte once, in as many calls as the caller
 * likes, and refuses:
 * - a NUL byte anywhere: JSON text never holds one, and jansson loses a NUL that ends a number or
 *   a literal (its lexer takes the pushed-back '\0' for an empty buffer), so "[1\0]" read whole
 *   but not a piece at a time;
 * - nesting deeper than VK_ANSWER_DEPTH_MAX, counted over the whole answer, so that jansson's own
 *   limit (2048 levels, counted from where each parse starts) is never the one that decides;
 * - with -EFBIG, a value the piecewise reader would have to parse in one go and that is longer
 *   than VK_PIECE_MAX (a string, a number or a literal anywhere, an array or an object
 *   VK_PIECE_DEPTH levels deep), and an array or object above that depth, which it builds by
 *   hand, of more than VK_ITEMS_MAX entries. */
struct scan {
        size_t pos; /* read up to here */
        size_t depth, piece_start, string_start, scalar;
        size_t commas[VK_PIECE_DEPTH]; /* in the open container of each level above pieces */
        bool in_string, escaped;
};

static int answer_open(const char **body, size_t *size, const char **ret_reason)
{
        if (*size > VK_ANSWER_MAX_BYTES) {
                *ret_reason = "answer larger than " STRINGIFY(VK_ANSWER_MAX_MIB) " MiB";
                return -EFBIG;
        }
        if (*size >= 3 && memcmp(*body, "\xEF\xBB\xBF", 3) == 0) {
                *body += 3;
                *size -= 3;
        }
        return 0;
}

/* Inside a string at i: most of an answer is text, so on to its next '"' or '\\' at once.
 * Returns the last byte read, where the loop goes on. */
static size_t scan_string(struct scan *sc, const char *s, size_t i, size_t upto)
{
        if (sc->escaped) {
                sc->escaped = false;
                return i;
        }
        const char *q = memchr(s + i, '"', upto - i);
        const char *e = memchr(s + i, '\\', (q ? (size_t)(q - s) : upto) - i);
        if (e) {
                sc->escaped = true;
                return (size_t)(e - s);
        }
        if (q) {
                sc->in_string = false;
                return (size_t)(q - s);
        }
        return upto - 1; /* the string goes on in the next call */
}

static int scan(struct scan *sc, const char *s, size_t upto, const char **ret_reason)
{
        if (memchr(s + sc->pos, '\0', upto - sc->pos)) {
                *ret_reason = "answer holds a NUL byte";
                return -EBADMSG;
        }
        for (size_t i = sc->pos; i < upto; i++) {
                if (sc->in_string) {
                        i = scan_string(sc, s, i, upto);
                        if (!sc->in_string && i - sc->string_start >= VK_PIECE_MAX)
                                goto too_large; /* it ended at i */
                        continue;
                }
                switch (s[i]) {
                case '"':
                        sc->in_string = true;
                        sc->string_start = i;
                        sc->scalar = 0;
                        break;
                case '[':
                case '{':
                        if (++sc->depth > VK_ANSWER_DEPTH_MAX) {
                                *ret_reason =
                                        "answer nests arrays and objects deeper than " STRINGIFY(
                                                VK_ANSWER_DEPTH_MAX) " levels";
                                return -EBADMSG;
                        }
                        if (sc->depth == VK_PIECE_DEPTH)
                                sc->piece_start = i;
                        else if (sc->depth < VK_PIECE_DEPTH)
                                sc->commas[sc->depth] = 0;
                        sc->scalar = 0;
                        break;
                case ']':
                case '}':
                        if (sc->depth == VK_PIECE_DEPTH && i - sc->piece_start >= VK_PIECE_MAX)
                                goto too_large;
                        sc->depth -= sc->depth > 0;
                        sc->scalar = 0;
                        break;
                case ',':
                        if (sc->depth > 0 && sc->depth < VK_PIECE_DEPTH &&
                            ++sc->commas[sc->depth] >= VK_ITEMS_MAX) {
                                *ret_reason =
                                        "answer has an array or object of more than " STRINGIFY(
                                                VK_ITEMS_MAX) " entries";
                                return -EFBIG;
                        }
                        sc->scalar = 0;
                        break;
                case ' ':
                case '\t':
                case '\n':
                case '\r':
                case ':':
                        sc->scalar = 0;
                        break;
                default:
                        if (++sc->scalar > VK_PIECE_MAX)
                                goto too_large;
                }
        }
        sc->pos = upto;
        return 0;

too_large:
        *ret_reason = "answer holds a post, a string or another value over " STRINGIFY(
                VK_PIECE_MAX_KIB) " KiB";
        return -EFBIG;
}

static size_t skip_space(const char *s, size_t size, size_t pos)
{
        while (pos < size && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
                pos++;
        return pos;
}

/* What a reader found, for the back half (judge()) to rule on whichever reader it was. */
struct answer {
        json_t *root;           /* the answer, or (streamed) all of it but "response" */
        const json_t *response; /* whole: root's "response", NULL when missing */
        bool streamed;          /* "response" was an array, handed over an entry at a time */
        size_t n_entries;       /* streamed: how many entries it had */
};

static int parse_whole(const char *body, size_t size, struct answer *a, const char **ret_reason)
{
        json_error_t jerr;
        json_t *root = json_loadb(body, size, ANSWER_JSON_FLAGS, &jerr);

        if (!root) {
                *ret_reason = not_json;
                return -EBADMSG;
        }
        *a = (struct answer){.root = root, .response = json_object_get(root, "response")};
        return 0;
}

/* The shared back half: one ruling on what either reader found. The answer must be an object; a
 * top-level "error" wins over whatever "response" holds; then "response" must be there and, for
 * execute, an array of one entry per call (or null: every call failed). */
static int judge(struct vk_result *res, bool *failed, const struct answer *a, size_t n_calls,
                 vk_call_fn each, void *userdata, const char **ret_reason)
{
        const json_t *error = json_object_get(res->root, "error");
        const json_t *response = a->response;
        int r;

        if (!json_is_object(res->root)) {
                *ret_reason = "answer is not a JSON object";
                return -EBADMSG;
        }
        if (error)
                return take_top_level_error(res, error, ret_reason);
        if (!a->streamed && !response) {
                *ret_reason = "answer has neither \"response\" nor \"error\"";
                return -EBADMSG;
        }
        if (n_calls == 0) {
                res->calls[0].response = (json_t *)response;
                return 0;
        }
        if (a->streamed ? a->n_entries != n_calls
                        : !json_is_null(response) && (!json_is_array(response) ||
                                                      json_array_size(response) != n_calls)) {
                *ret_reason = wrong_count;
                return -EBADMSG;
        }
        for (size_t i = 0; !a->streamed && i < n_calls; i++) {
                json_t *v = json_is_null(response) ? NULL : json_array_get(response, i);

                if (!v || json_is_false(v))
                        failed[i] = true;
                else if (!each)
                        res->calls[i].response = v;
                else {
                        r = each(i, v, userdata);
                        if (r < 0)
                                return r;
                }
        }
        return take_execute_errors(res, failed, json_object_get(res->root, "execute_errors"));
}

/* ---- the piecewise reader -------------------------------------------------------------------
 *
 * Reads an answer a piece at a time, so that the event loop can do something else between
 * pieces (vk_reader_step's budget). The arrays and objects of the first VK_PIECE_DEPTH - 1
 * levels are taken apart by hand, a bracket, a key, a comma at a time; everything else (a post,
 * a group, a profile, a string, a number: at most VK_PIECE_MAX bytes, scan() saw to it)
 * is a piece jansson parses whole. The tree is built back as a whole parse would build it, except
 * the root's "response" array of an execute read with each(): its entries (a wall each) go to
 * each() as they are finished and are not kept. */

enum expect {
        EXPECT_VALUE_OR_END, /* after '[' */
        EXPECT_VALUE,        /* after ',' in an array, ':' in an object */
        EXPECT_COMMA_OR_END, /* after a value */
        EXPECT_KEY_OR_END,   /* after '{' */
        EXPECT_KEY,          /* after ',' in an object */
        EXPECT_COLON,        /* after a key */
};

struct frame {
        json_t *value; /* the array or object being built; NULL: the handed-over "response" */
        bool object;
        enum expect expect;
        char *key;    /* object: the key whose value comes next */
        size_t start; /* where its '[' or '{' is */
};

struct vk_reader {
        const char *body;
        size_t size, pos;
        size_t n_calls;
        vk_call_fn each;
        void *userdata;
        struct frame stack[VK_PIECE_DEPTH - 1];
        size_t depth;  /* frames open */
        json_t *root;  /* the finished root value */
        bool streamed; /* the root's "response" was handed over entry by entry */
        size_t n_entries;
        struct vk_result *res;
        bool *failed;
        struct vk_graveyard *graves; /* what each() was given, and whatever is left; not owned */
        struct scan scan;            /* the front half, a step of VK_SCAN_BYTES at a time */
};

struct vk_reader *vk_reader_free(struct vk_reader *r)
{
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->depth; i++) {
                vk_graveyard_bury(r->graves, r->stack[i].value, r->size);
                free(r->stack[i].key);
        }
        vk_graveyard_bury(r->graves, r->root, r->size);
        if (r->res) {
                vk_graveyard_bury(r->graves, TAKE_PTR(r->res->root), r->size);
                vk_result_free(r->res);
        }
        free(r->failed);
        free(r);
        return NULL;
}

int vk_reader_new(const char *body, size_t size, size_t n_calls, vk_call_fn each, void *userdata,
                  struct vk_graveyard *graves, struct vk_reader **ret, const char **ret_reason)
{
        _cleanup_(vk_reader_freep) struct vk_reader *r = NULL;
        size_t n = n_calls > 0 ? n_calls : 1;
        const char *unused_reason;
        int k;

        if (!ret_reason) /* optional, as for post_from_json() */
                ret_reason = &unused_reason;
        if (each && n_calls == 0)
                return -EINVAL;
        k = answer_open(&body, &size, ret_reason);
        if (k < 0)
                return k;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        *r = (struct vk_reader){.body = body,
                                .size = size,
                                .n_calls = n_calls,
                                .each = each,
                                .userdata = userdata,
                                .graves = graves};
        r->res = calloc(1, sizeof(*r->res));
        r->failed = calloc(n, sizeof(bool));
        if (!r->res || !r->failed)
                return -ENOMEM;
        r->res->calls = calloc(n, sizeof(struct vk_call_result));
        if (!r->res->calls)
                return -ENOMEM;
        r->res->n_calls = n;
        *ret = TAKE_PTR(r);
        return 0;
}

/* The root's "response", an array, of an execute read with each(): handed over, not kept. */
static bool hands_over(const struct vk_reader *r, char open)
{
        return r->each && open == '[' && r->depth == 1 && r->stack[0].object &&
               streq(r->stack[0].key, "response");
}

/* A value is finished, from span bytes of the answer: it goes where its frame says. */
static int place(struct vk_reader *r, json_t *v, size_t span)
{
        struct frame *f;

        if (r->depth == 0) {
                r->root = v;
                return 0;
        }
        f = &r->stack[r->depth - 1];
        f->expect = EXPECT_COMMA_OR_END;
        if (!f->value) { /* an entry of the handed-over "response": a wall, or false */
                size_t i = r->n_entries++;
                int k = 0;
                if (i < r->n_calls) {
                        if (json_is_false(v))
                                r->failed[i] = true;
                        else
                                k = r->each(i, v, r->userdata);
                }
                vk_graveyard_bury(r->graves, v, span); /* a real wall: freed now */
                return k;
        }
        if (!f->object)
                return json_array_append_new(f->value, v) < 0 ? -ENOMEM : 0;
        _cleanup_free_ char *key = TAKE_PTR(f->key);
        /* what JSON_REJECT_DUPLICATES refuses in a whole parse; the handed-over "response" is
         * not in the tree, so it is looked for by name */
        if (json_object_get(f->value, key) ||
            (r->depth == 1 && r->streamed && streq(key, "response"))) {
                json_decref(v);
                return -EBADMSG;
        }
        return json_object_set_new(f->value, key, v) < 0 ? -ENOMEM : 0;
}

/* One piece, parsed whole by jansson: a value from pos, or (key) an object's key. */
static int piece(struct vk_reader *r, json_t **ret)
{
        json_error_t jerr;
        json_t *v = json_loadb(r->body + r->pos, r->size - r->pos,
                               ANSWER_JSON_FLAGS | JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);

        if (!v || jerr.position <= 0 || (size_t)jerr.position > r->size - r->pos) {
                json_decref(v);
                return -EBADMSG;
        }
        r->pos += (size_t)jerr.position;
        *ret = v;
        return 0;
}

/* A ']' or '}' at pos closes the innermost frame: its value goes where the frame below says. */
static int close_frame(struct vk_reader *r)
{
        struct frame *f = &r->stack[r->depth - 1];
        json_t *v = f->value;
        size_t span;

        r->pos++;
        span = r->pos - f->start;
        free(f->key);
        *f = (struct frame){0};
        r->depth--;
        if (v)
                return place(r, v, span);
        /* the handed-over "response" is done: nothing to place */
        f = &r->stack[r->depth - 1];
        f->expect = EXPECT_COMMA_OR_END;
        free(f->key);
        f->key = NULL;
        return 0;
}

/* A '[' or '{' at pos, above the pieces, opens a frame: an array or object built by hand, or
 * none for the handed-over "response". */
static int open_frame(struct vk_reader *r, char open)
{
        struct frame *f = &r->stack[r->depth];
        bool handed = hands_over(r, open);

        if (handed && (r->streamed || json_object_get(r->stack[0].value, "response")))
                return -EBADMSG; /* a second "response" */
        *f = (struct frame){
                .object = open == '{',
                .expect = open == '{' ? EXPECT_KEY_OR_END : EXPECT_VALUE_OR_END,
                .start = r->pos++,
        };
        if (handed)
                r->streamed = true;
        else {
                f->value = open == '{' ? json_object() : json_array();
                if (!f->value)
                        return -ENOMEM;
        }
        r->depth++;
        return 0;
}

/* An object's key at pos, c its first byte: kept in the frame until its value is placed. */
static int read_key(struct vk_reader *r, struct frame *f, char c)
{
        json_t *v;
        int k;

        if (c != '"')
                return -EBADMSG;
        k = piece(r, &v);
        if (k < 0)
                return k;
        f->key = strdup(json_string_value(v));
        json_decref(v);
        if (!f->key)
                return -ENOMEM;
        f->expect = EXPECT_COLON;
        return 0;
}

/* The next token: a bracket, a comma, a colon, a key or a piece. */
static int advance(struct vk_reader *r)
{
        struct frame *f = r->depth > 0 ? &r->stack[r->depth - 1] : NULL;
        size_t start;
        char c;
        json_t *v;
        int k;

        r->pos = skip_space(r->body, r->size, r->pos);
        if (r->pos == r->size)
                return -EBADMSG; /* ended inside a value */
        c = r->body[r->pos];
        switch (f ? f->expect : EXPECT_VALUE) {
        case EXPECT_VALUE_OR_END:
        case EXPECT_COMMA_OR_END:
        case EXPECT_KEY_OR_END:
                if (c == (f->object ? '}' : ']'))
                        return close_frame(r);
                if (f->expect == EXPECT_COMMA_OR_END) {
                        if (c != ',')
                                return -EBADMSG;
                        r->pos++;
                        f->expect = f->object ? EXPECT_KEY : EXPECT_VALUE;
                        return 0;
                }
                if (f->expect == EXPECT_KEY_OR_END)
                        return read_key(r, f, c);
                __attribute__((fallthrough));
        case EXPECT_VALUE:
                if ((c == '[' || c == '{') && r->depth < VK_PIECE_DEPTH - 1)
                        return open_frame(r, c);
                start = r->pos;
                k = piece(r, &v);
                return k < 0 ? k : place(r, v, r->pos - start);
        case EXPECT_KEY:
                return read_key(r, f, c);
        case EXPECT_COLON:
                if (c != ':')
                        return -EBADMSG;
                r->pos++;
                f->expect = EXPECT_VALUE;
                return 0;
        }
        return -EBADMSG;
}

int vk_reader_step(struct vk_reader *r, size_t budget, struct vk_result **ret,
                   const char **ret_reason)
{
        size_t end = r->pos + (budget < r->size - r->pos ? budget : r->size - r->pos);
        const char *unused_reason;
        struct answer a;
        int k;

        if (!ret_reason)
                ret_reason = &unused_reason;
        /* every byte is checked before the first is parsed, as the whole reader does */
        if (r->scan.pos < r->size) {
                size_t upto = r->size - r->scan.pos > VK_SCAN_BYTES ? r->scan.pos + VK_SCAN_BYTES
                                                                    : r->size;
                return scan(&r->scan, r->body, upto, ret_reason);
        }
        while (!r->root) {
                k = advance(r);
                if (k < 0) {
                        *ret_reason = not_json;
                        return k;
                }
                if (!r->root && r->pos >= end && r->pos < r->size)
                        return 0;
        }
        if (skip_space(r->body, r->size, r->pos) != r->size) {
                *ret_reason = not_json;
                return -EBADMSG;
        }
        a = (struct answer){
                .root = r->root,
                .response = r->streamed ? NULL : json_object_get(r->root, "response"),
                .streamed = r->streamed,
                .n_entries = r->n_entries,
        };
        r->res->root = TAKE_PTR(r->root);
        k = judge(r->res, r->failed, &a, r->n_calls, r->each, r->userdata, ret_reason);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r->res);
        return 1;
}

static int parse(const char *body, size_t size, size_t n_calls, vk_call_fn each, void *userdata,
                 struct vk_result **ret, const char **ret_reason)
{
        _cleanup_(vk_reader_freep) struct vk_reader *r = NULL;
        struct answer a = {0};
        const char *unused_reason;
        int k;

        if (!ret_reason) /* optional, as for post_from_json() */
                ret_reason = &unused_reason;
        k = vk_reader_new(body, size, n_calls, each, userdata, NULL, &r, ret_reason);
        if (k < 0)
                return k;
        if (each) /* the daemon's reader, in one step */
        {
                while ((k = vk_reader_step(r, SIZE_MAX, ret, ret_reason)) == 0)
                        ;
                return k < 0 ? k : 0;
        }

        /* the reference: jansson, whole, against which the fuzzer checks the piecewise reader */
        k = scan(&r->scan, r->body, r->size, ret_reason);
        if (k < 0)
                return k;
        k = parse_whole(r->body, r->size, &a, ret_reason);
        if (k < 0)
                return k;
        r->res->root = a.root;
        k = judge(r->res, r->failed, &a, n_calls, NULL, NULL, ret_reason);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r->res);
        return 0;
}

int vk_result_parse(const char *body, size_t size, size_t n_calls, struct vk_result **ret,
                    const char **ret_reason)
{
        return parse(body, size, n_calls, NULL, NULL, ret, ret_reason);
}

int vk_result_parse_each(const char *body, size_t size, size_t n_calls, vk_call_fn each,
                         void *userdata, struct vk_result **ret, const char **ret_reason)
{
        if (n_calls == 0 || !each)
                return -EINVAL;
        return parse(body, size, n_calls, each, userdata, ret, ret_reason);
}

void vk_groups_free(struct vk_group *g, size_t n)
{
        for (size_t i = 0; g && i < n; i++) {
                free(g[i].screen_name);
                free(g[i].name);
        }
        free(g);
}

int vk_groups_parse(const json_t *response, struct vk_group **ret, size_t *ret_n)
{
        const json_t *groups =
                json_is_array(response) ? response : json_object_get(response, "groups");
        struct vk_group *g = NULL;
        size_t n = 0;

        if (!json_is_array(groups))
                return -EBADMSG;
        if (json_array_size(groups) > 0) {
                g = calloc(json_array_size(groups), sizeof(*g));
                if (!g)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < json_array_size(groups); i++) {
                const json_t *o = json_array_get(groups, i);
                const json_t *id = json_object_get(o, "id");
                const json_t *sn = json_object_get(o, "screen_name");
                const json_t *name = json_object_get(o, "name");

                if (!json_is_integer(id) || json_integer_value(id) <= 0)
                        continue;
                g[n].id = (int64_t)json_integer_value(id);
                g[n].screen_name = strdup(json_is_string(sn) ? json_string_value(sn) : "");
                g[n].name = strdup(json_is_string(name) ? json_string_value(name) : "");
                const json_t *closed = json_object_get(o, "is_closed");
                g[n].is_closed = json_is_integer(closed) ? json_integer_value(closed) != 0
                                                         : json_is_true(closed);
                const json_t *d = json_object_get(o, "deactivated");
                if (json_is_string(d))
                        g[n].deactivated = streq(json_string_value(d), "deleted")  ? "deleted"
                                           : streq(json_string_value(d), "banned") ? "banned"
                                                                                   : "deactivated";
                n++;
                if (!g[n - 1].screen_name || !g[n - 1].name) {
                        vk_groups_free(g, n);
                        return -ENOMEM;
                }
        }
        *ret = g;
        *ret_n = n;
        return 0;
}

/* Length of the UTF-8 sequence at p (left > 0 bytes there), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
        size_t n = p[0] < 0x80             ? 1
                   : (p[0] & 0xE0) == 0xC0 ? 2
                   : (p[0] & 0xF0) == 0xE0 ? 3
                   : (p[0] & 0xF8) == 0xF0 ? 4
                                           : 0;
        if (n == 0 || n > left || (n == 2 && p[0] < 0xC2))
                return 0;
        for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
        return n;
}

/* A person's name being put together from untrusted parts: one line, single spaces. */
struct name_buf {
        char buf[VK_USER_NAME_MAX + 1];
        size_t len;
        bool full;
};

static void name_put(struct name_buf *nb, const char *s, size_t n)
{
        if (nb->full || n > VK_USER_NAME_MAX - nb->len) {
                nb->full = true; /* cut on a character boundary */
                return;
        }
        memcpy(nb->buf + nb->len, s, n);
        nb->len += n;
        nb->buf[nb->len] = '\0';
}

static void name_append(struct name_buf *nb, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t left = strlen(s);

        while (left > 0 && !nb->full) {
                size_t n = utf8_len(p, left);
                bool space = false, drop = false;

                if (n == 1)
                        space = p[0] <= 0x20 || p[0] == 0x7f;
                else if (n == 2 && p[0] == 0xC2)
                        space = p[1] <= 0xA0; /* C1 controls, no-break space */
                else if (n == 3 && p[0] == 0xE2 && p[1] == 0x80) {
                        space = p[2] == 0xA8 || p[2] == 0xA9;  /* line, paragraph separator */
                        drop = p[2] == 0x8E || p[2] == 0x8F || /* LRM, RLM */
                               (p[2] >= 0xAA && p[2] <= 0xAE); /* embeddings, overrides */
                } else if (n == 3 && p[0] == 0xE2 && p[1] == 0x81)
                        drop = p[2] >= 0xA6 && p[2] <= 0xA9; /* isolates */

                if (n == 0)
                        name_put(nb, "\xEF\xBF\xBD", 3);
                else if (space) {
                        if (nb->len > 0 && nb->buf[nb->len - 1] != ' ')
                                name_put(nb, " ", 1);
                } else if (!drop)
                        name_put(nb, (const char *)p, n);
                n = n ? n : 1;
                p += n;
                left -= n;
        }
}

void vk_users_free(struct vk_user *u, size_t n)
{
        for (size_t i = 0; u && i < n; i++)
                free(u[i].name);
        free(u);
}

int vk_users_parse(const json_t *response, struct vk_user **ret, size_t *ret_n)
{
        struct vk_user *u = NULL;
        size_t n = 0;

        if (!json_is_array(response))
                return -EBADMSG;
        if (json_array_size(response) > 0) {
                u = calloc(json_array_size(response), sizeof(*u));
                if (!u)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < json_array_size(response); i++) {
                const json_t *o = json_array_get(response, i);
                const json_t *id = json_object_get(o, "id");
                const json_t *first = json_object_get(o, "first_name");
                const json_t *last = json_object_get(o, "last_name");
                const json_t *deactivated = json_object_get(o, "deactivated");
                struct name_buf nb = {.len = 0};

                if (!json_is_integer(id) || json_integer_value(id) <= 0)
                        continue;
                if (deactivated && !json_is_null(deactivated)) {
                        if (!json_is_string(deactivated))
                                continue;
                        const char *d = json_string_value(deactivated);
                        u[n++] = (struct vk_user){
                                .id = (int64_t)json_integer_value(id),
                                .deactivated = streq(d, "deleted")  ? "deleted"
                                               : streq(d, "banned") ? "banned"
                                                                    : "deactivated",
                        };
                        continue;
                }
                if (!json_is_string(first) || !json_is_string(last))
                        continue;
                name_append(&nb, json_string_value(first));
                if (nb.len > 0 && nb.buf[nb.len - 1] != ' ')
                        name_put(&nb, " ", 1);
                name_append(&nb, json_string_value(last));
                while (nb.len > 0 && nb.buf[nb.len - 1] == ' ')
                        nb.buf[--nb.len] = '\0';
                if (nb.len == 0)
                        continue;
                u[n].id = (int64_t)json_integer_value(id);
                u[n].name = strdup(nb.buf);
                if (!u[n++].name) {
                        vk_users_free(u, n);
                        return -ENOMEM;
                }
        }
        *ret = u;
        *ret_n = n;
        return 0;
}

int vk_resolve_parse(const json_t *response, int64_t *ret_owner_id)
{
        if (json_is_array(response))
                return -ENOENT;
        const json_t *id = json_object_get(response, "object_id");
        const json_t *type = json_object_get(response, "type");
        if (!json_is_integer(id) || !json_is_string(type) || json_integer_value(id) <= 0)
                return -EBADMSG;
        if (streq(json_string_value(type), "group") || streq(json_string_value(type), "page") ||
            streq(json_string_value(type), "event"))
                *ret_owner_id = -(int64_t)json_integer_value(id);
        else if (streq(json_string_value(type), "user"))
                *ret_owner_id = (int64_t)json_integer_value(id);
        else
                return -ENOENT; /* an application or something else without a wall */
        return 0;
}
