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

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

/* The JSON both readers accept, one rule by construction: whatever reaches jansson has passed
 * answer_front() and is decoded with these flags, whole or a piece at a time. Duplicate keys are
 * refused everywhere: VK (an associative array serialised) never sends them, and the reader of a
 * call at a time could not tell which "response" a whole parse would have kept. */
#define ANSWER_JSON_FLAGS JSON_REJECT_DUPLICATES

/* The shared front half: what is refused before either reader looks at the answer. Strips one
 * UTF-8 BOM (some real answers start with one; jansson refuses it). Refuses a NUL byte anywhere:
 * JSON text never holds one, and jansson loses a NUL that ends a number or a literal (its lexer
 * takes the pushed-back '\0' for an empty buffer), so "[1\0]" read whole but not a piece at a
 * time. Refuses nesting deeper than VK_ANSWER_DEPTH_MAX, counted over the whole answer, so that
 * jansson's own limit (2048 levels, counted from where each parse starts: two levels apart
 * between the readers) is never the one that decides. Linear, one pass. */
static int answer_front(const char **body, size_t *size, const char **ret_reason)
{
        const char *s = *body;
        size_t n = *size, depth = 0;
        bool in_string = false;

        if (n > VK_ANSWER_MAX_BYTES) {
                *ret_reason = "answer larger than " STRINGIFY(VK_ANSWER_MAX_MIB) " MiB";
                return -EBADMSG;
        }
        if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                s += 3;
                n -= 3;
        }
        if (memchr(s, '\0', n)) {
                *ret_reason = "answer holds a NUL byte";
                return -EBADMSG;
        }
        for (size_t i = 0; i < n; i++) {
                if (in_string) {
                        if (s[i] == '\\')
                                i++;
                        else if (s[i] == '"')
                                in_string = false;
                } else if (s[i] == '"')
                        in_string = true;
                else if (s[i] == '[' || s[i] == '{') {
                        if (++depth > VK_ANSWER_DEPTH_MAX) {
                                *ret_reason =
                                        "answer nests arrays and objects deeper than " STRINGIFY(
                                                VK_ANSWER_DEPTH_MAX) " levels";
                                return -EBADMSG;
                        }
                } else if ((s[i] == ']' || s[i] == '}') && depth > 0)
                        depth--;
        }
        *body = s;
        *size = n;
        return 0;
}

static size_t skip_space(const char *s, size_t size, size_t pos)
{
        while (pos < size && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
                pos++;
        return pos;
}

/* The position after tok and the white space before it, or 0 when tok is not next. */
static size_t skip_token(const char *s, size_t size, size_t pos, const char *tok)
{
        size_t n = strlen(tok);
        pos = skip_space(s, size, pos);
        return size - pos >= n && memcmp(s + pos, tok, n) == 0 ? pos + n : 0;
}

/* What a reader found, for the back half (judge()) to rule on whichever reader it was. */
struct answer {
        json_t *root;           /* the answer, or (streamed) all of it but "response" */
        const json_t *response; /* whole: root's "response", NULL when missing */
        bool streamed;          /* "response" was an array, read an entry at a time */
        size_t n_entries;       /* streamed: how many entries it had */
};

/* VK's usual execute answer, {"response":[...],"execute_errors":[...]}, from just after its '[':
 * each entry of the array is parsed alone and handed to each() (or marked failed) before the next
 * is read, and what follows the array is parsed as an object of its own. Entries past n_calls
 * are parsed and counted but not handed over: whether that is a wrong count or a top-level error
 * is judge()'s to say, once the rest is read, as it is for a whole parse. */
static int parse_streamed(const char *body, size_t size, size_t pos, struct vk_result *res,
                          bool *failed, vk_call_fn each, void *userdata, struct answer *a,
                          const char **ret_reason)
{
        json_error_t jerr;
        json_t *rest;
        size_t n = 0, p;

        if ((p = skip_token(body, size, pos, "]")))
                pos = p;
        else
                for (;;) {
                        int r = 0;

                        json_t *v = json_loadb(body + pos, size - pos,
                                               ANSWER_JSON_FLAGS | JSON_DECODE_ANY |
                                                       JSON_DISABLE_EOF_CHECK,
                                               &jerr);
                        if (!v || jerr.position <= 0 || (size_t)jerr.position > size - pos) {
                                json_decref(v);
                                *ret_reason = not_json;
                                return -EBADMSG;
                        }
                        pos += (size_t)jerr.position;
                        if (n < res->n_calls) {
                                if (json_is_false(v))
                                        failed[n] = true;
                                else
                                        r = each(n, v, userdata);
                        }
                        json_decref(v);
                        if (r < 0)
                                return r;
                        n++;
                        if ((p = skip_token(body, size, pos, ","))) {
                                pos = p;
                                continue;
                        }
                        if (!(p = skip_token(body, size, pos, "]"))) {
                                *ret_reason = not_json;
                                return -EBADMSG;
                        }
                        pos = p;
                        break;
                }

        if ((p = skip_token(body, size, pos, "}"))) {
                if (skip_space(body, size, p) != size) {
                        *ret_reason = not_json;
                        return -EBADMSG;
                }
                rest = json_object();
                if (!rest)
                        return -ENOMEM;
        } else if ((p = skip_token(body, size, pos, ",")) && skip_token(body, size, p, "\"")) {
                /* ,"execute_errors":[...]} is an object once its comma is a brace */
                _cleanup_free_ char *obj = malloc(size - p + 1);
                if (!obj)
                        return -ENOMEM;
                obj[0] = '{';
                memcpy(obj + 1, body + p, size - p);
                rest = json_loadb(obj, size - p + 1, ANSWER_JSON_FLAGS, &jerr);
                if (!rest) {
                        *ret_reason = not_json;
                        return -EBADMSG;
                }
        } else {
                *ret_reason = not_json;
                return -EBADMSG;
        }
        /* what JSON_REJECT_DUPLICATES refuses in a whole parse */
        if (json_object_get(rest, "response")) {
                json_decref(rest);
                *ret_reason = "answer has two \"response\" keys";
                return -EBADMSG;
        }
        *a = (struct answer){.root = rest, .streamed = true, .n_entries = n};
        return 0;
}

static int parse_whole(const char *body, size_t size, struct answer *a, const char **ret_reason)
{
        json_error_t jerr;
        json_t *root = json_loadb(body, size, ANSWER_JSON_FLAGS, &jerr);

        if (!root) {
                *ret_reason = not_json;
                return -EBADMSG;
        }
        if (!json_is_object(root)) {
                json_decref(root);
                *ret_reason = "answer is not a JSON object";
                return -EBADMSG;
        }
        *a = (struct answer){.root = root, .response = json_object_get(root, "response")};
        return 0;
}

/* The shared back half: one ruling on what either reader found. A top-level "error" wins over
 * whatever "response" holds; then "response" must be there and, for execute, an array of one
 * entry per call (or null: every call failed). */
static int judge(struct vk_result *res, bool *failed, const struct answer *a, size_t n_calls,
                 vk_call_fn each, void *userdata, const char **ret_reason)
{
        const json_t *error = json_object_get(res->root, "error");
        const json_t *response = a->response;
        int r;

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

static int parse(const char *body, size_t size, size_t n_calls, vk_call_fn each, void *userdata,
                 struct vk_result **ret, const char **ret_reason)
{
        _cleanup_(vk_result_freep) struct vk_result *res = NULL;
        _cleanup_free_ bool *failed = NULL;
        struct answer a = {0};
        size_t n = n_calls > 0 ? n_calls : 1, pos;
        const char *unused_reason;
        int r;

        if (!ret_reason) /* optional, as for post_from_json() */
                ret_reason = &unused_reason;
        r = answer_front(&body, &size, ret_reason);
        if (r < 0)
                return r;

        res = calloc(1, sizeof(*res));
        if (!res)
                return -ENOMEM;
        res->calls = calloc(n, sizeof(struct vk_call_result));
        failed = calloc(n, sizeof(bool));
        if (!res->calls || !failed)
                return -ENOMEM;
        res->n_calls = n;

        if (each && n_calls > 0 && (pos = skip_token(body, size, 0, "{")) &&
            (pos = skip_token(body, size, pos, "\"response\"")) &&
            (pos = skip_token(body, size, pos, ":")) && (pos = skip_token(body, size, pos, "[")))
                r = parse_streamed(body, size, pos, res, failed, each, userdata, &a, ret_reason);
        else
                r = parse_whole(body, size, &a, ret_reason);
        if (r < 0)
                return r;
        res->root = a.root;
        r = judge(res, failed, &a, n_calls, each, userdata, ret_reason);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(res);
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
