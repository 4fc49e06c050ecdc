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
                                   ",\"count\":%u,\"offset\":%u})",
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

int vk_result_parse(const char *body, size_t size, size_t n_calls, struct vk_result **ret,
                    const char **ret_reason)
{
        struct vk_result *res;
        json_error_t jerr;
        const json_t *response, *error;
        int r;

        /* real VK answers sometimes start with a UTF-8 BOM, which jansson rejects */
        if (size >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
                body += 3;
                size -= 3;
        }

        res = calloc(1, sizeof(*res));
        if (!res)
                return -ENOMEM;
        res->root = json_loadb(body, size, 0, &jerr);
        if (!res->root) {
                vk_result_free(res);
                *ret_reason = "answer is not valid JSON (truncated or not JSON at all)";
                return -EBADMSG;
        }
        if (!json_is_object(res->root)) {
                vk_result_free(res);
                *ret_reason = "answer is not a JSON object";
                return -EBADMSG;
        }

        size_t n = n_calls > 0 ? n_calls : 1;
        res->calls = calloc(n, sizeof(struct vk_call_result));
        if (!res->calls) {
                vk_result_free(res);
                return -ENOMEM;
        }
        res->n_calls = n;

        error = json_object_get(res->root, "error");
        response = json_object_get(res->root, "response");
        if (error) {
                r = error_from_json(error, &res->error_code, &res->error_msg);
                if (r < 0) {
                        vk_result_free(res);
                        *ret_reason = "answer has an \"error\" without an integer error_code";
                        return r == -ENOMEM ? r : -EBADMSG;
                }
                for (size_t i = 0; i < n; i++) {
                        res->calls[i].error_code = res->error_code;
                        res->calls[i].error_msg = strdup(res->error_msg);
                        if (!res->calls[i].error_msg) {
                                vk_result_free(res);
                                return -ENOMEM;
                        }
                }
                *ret = res;
                return 0;
        }
        if (!response) {
                vk_result_free(res);
                *ret_reason = "answer has neither \"response\" nor \"error\"";
                return -EBADMSG;
        }

        if (n_calls == 0) {
                res->calls[0].response = (json_t *)response;
                *ret = res;
                return 0;
        }

        /* execute: an array of per-call values, or null when every call failed */
        const json_t *errors = json_object_get(res->root, "execute_errors");
        size_t next_error = 0;
        if (!json_is_null(response) &&
            (!json_is_array(response) || json_array_size(response) != n_calls)) {
                vk_result_free(res);
                *ret_reason = "execute answer does not have one entry per call";
                return -EBADMSG;
        }
        for (size_t i = 0; i < n_calls; i++) {
                const json_t *v = json_is_null(response) ? NULL : json_array_get(response, i);
                struct vk_call_result *c = &res->calls[i];

                if (v && !json_is_false(v)) {
                        c->response = (json_t *)v;
                        continue;
                }
                const json_t *e = json_array_get(errors, next_error++);
                if (!e || error_from_json(e, &c->error_code, &c->error_msg) < 0) {
                        /* a false without its error: treat it as VK's internal error, retried */
                        c->error_code = 10;
                        free(c->error_msg);
                        c->error_msg = strdup("call failed without an execute_errors entry");
                        if (!c->error_msg) {
                                vk_result_free(res);
                                return -ENOMEM;
                        }
                }
        }
        *ret = res;
        return 0;
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
