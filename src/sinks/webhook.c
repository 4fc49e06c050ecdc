/* sinks/webhook.c — a notification as one JSON document, sent to an http(s) endpoint.
 *
 * Owns the requests in flight. The body is notification_to_json(), or the admin's `body`
 * template (render.h's JSON mode: any JSON API, fed without a script); `method` is POST, PUT
 * or PATCH; `headers` are sent as written and `header_files` name files whose contents are a
 * header's value: a secret (a token), read at each send, never logged, wiped after use. The
 * answer decides: 2xx accepted, 429 and 5xx try later (after Retry-After, in seconds or as an
 * HTTP-date), anything else rejected for good, no answer at all (refused, timeout, TLS) try
 * later. TLS is always verified (ca_file for a private CA); redirects are not followed, since a
 * redirected request is a different request the admin did not configure. Its own keys are the
 * table below, which the config reads through the registry.
 */
#include <stdio.h>
#include <strings.h>

#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink_http.h"

#define DETAIL_BODY_CHARS 120
#define HEADERS_MAX       32   /* headers and header_files together */
#define HEADER_FILE_MAX   8192 /* bytes of a header's value in a file */

enum webhook_method { METHOD_POST, METHOD_PUT, METHOD_PATCH };
static const char *const method_names[] = {"POST", "PUT", "PATCH", NULL};

/* The keys of a webhook sink beyond those every sink has: sink_conf.settings. */
struct webhook_settings {
        char *url;
        char *ca_file;       /* NULL: the system's CAs */
        int method;          /* enum webhook_method */
        char **headers;      /* "Name: value" */
        char **header_files; /* "Name: /path", the file holding the value */
        char *body;          /* a JSON template; NULL: notification_to_json() */
};

static const char *check_http_url(const char *v, char *buf, size_t size)
{
        return setting_check_url(v, "http", buf, size);
}

/* RFC 9110 5.6.2: a field name is a token. */
static size_t token_len(const char *s)
{
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                         "!#$%&'*+-.^_`|~");
}

/* "Name: value": the name's length, or why the line is not a header we send, in buf. The
 * loader has refused control characters (CR, LF: a forged header) in every string already. */
static const char *check_header(const char *v, bool value_is_path, char *buf, size_t size)
{
        size_t n = token_len(v);
        const char *value;

        if (n == 0 || v[n] != ':') {
                snprintf(buf, size,
                         "expected a header as \"Name: value\", the name a token (letters, "
                         "digits and !#$%%&'*+-.^_`|~), got '%s'",
                         SETTING_QUOTE(v));
                return buf;
        }
        value = v + n + 1 + strspn(v + n + 1, " ");
        if ((n == 14 && strncasecmp(v, "Content-Length", n) == 0) ||
            (n == 17 && strncasecmp(v, "Transfer-Encoding", n) == 0)) {
                snprintf(buf, size, "header '%.*s' is govwatch's to set, from the body", (int)n, v);
                return buf;
        }
        if (!*value || (value_is_path && *value != '/')) {
                snprintf(buf, size, "header '%.*s' needs %s after the colon", (int)n, v,
                         value_is_path ? "the absolute path of the file with its value"
                                       : "a value");
                return buf;
        }
        return NULL;
}

static const char *check_header_value(const char *v, char *buf, size_t size)
{
        return check_header(v, false, buf, size);
}

static const char *check_header_file(const char *v, char *buf, size_t size)
{
        return check_header(v, true, buf, size);
}

static const char *check_body(const char *v, char *buf, size_t size)
{
        return render_json_check(v, buf, size);
}

#define OFF(f) offsetof(struct webhook_settings, f)
static const struct setting webhook_table[] = {
        {S("url", SETTING_STRING, OFF(url), NULL, "http:// or https:// endpoint"), .required = true,
         .check = check_http_url},
        {S("ca_file", SETTING_PATH, OFF(ca_file), NULL, "CA bundle for a private CA")},
        {S("method", SETTING_ENUM, OFF(method), "POST", "the HTTP method"),
         .enum_values = method_names},
        {S("headers", SETTING_STRV, OFF(headers), NULL,
           "\"Name: value\" headers sent with each request (Content-Type: application/json "
           "unless one is given)"),
         .check = check_header_value},
        {S("header_files", SETTING_STRV, OFF(header_files), NULL,
           "\"Name: /path\": a header whose value is the file's contents, a secret (a token): "
           "read at each send, never logged"),
         .check = check_header_file},
        {S("body", SETTING_STRING, OFF(body), NULL,
           "a JSON template of the request body, with the template placeholders and {title}, "
           "{body} inside its strings, JSON-escaped (default: the notification as JSON)"),
         .check = check_body},
};

struct webhook_sink {
        struct sink sink;
        const struct sink_conf *conf;
        const struct webhook_settings *settings; /* conf's */
        struct http *http;
        struct sink_http_request *requests;
};

static void on_done(CURL *easy, CURLcode code, void *userdata)
{
        struct sink_http_request *q = userdata;
        struct sink_http_answer a;
        char detail[CURL_ERROR_SIZE + 200], excerpt[DETAIL_BODY_CHARS + 1];

        sink_http_answer_read(q, code, &a);
        /* the start of the body, for a human reading the log; a 2xx needs none */
        excerpt[0] = '\0';
        if (a.answered && a.result != SINK_ACCEPTED)
                sink_http_printable(q->response.data, q->response.size, DETAIL_BODY_CHARS, true,
                                    excerpt, sizeof(excerpt));
        sink_http_answer_detail(&a, excerpt, detail, sizeof(detail));
        if (a.result == SINK_ACCEPTED)
                log_debug("Sink %s: %s", q->sink->name, detail);
        else
                log_warning("Sink %s: %s: %s", q->sink->name, sink_result_name(a.result), detail);
        sink_http_request_finish(q, sink_http_request_free, a.result,
                                 sink_http_answer_retry_usec(&a), detail);
}

/* The body of the POST is the notification's JSON with these two as "title" and "body". */
static int webhook_render(const struct sink_conf *conf, const struct notification *n,
                          char **ret_title, char **ret_body)
{
        return sink_render_templates(conf, n, RENDER_DEFAULT_TITLE, RENDER_DEFAULT_BODY,
                                     conf->max_length, ret_title, ret_body);
}

/* "Name: " and the contents of the file that "Name: /path" names, into *list; detail names the
 * header and the file, never what it holds. */
static int header_from_file(const char *line, struct curl_slist **list, char *detail, size_t size)
{
        size_t n = token_len(line);
        const char *path = line + n + 1 + strspn(line + n + 1, " ");
        _cleanup_free_ char *value = NULL, *header = NULL;
        size_t value_size = 0;
        int r = read_full_file(path, HEADER_FILE_MAX, true, &value, &value_size);

        if (r < 0)
                snprintf(detail, size, "cannot read the file of header %.*s, %s: %s", (int)n, line,
                         path, strerror(-r));
        else if (value[0] == '\0') {
                /* the unit's fallback for a missing credential is an empty one */
                snprintf(detail, size, "the file of header %.*s, %s, is empty", (int)n, line, path);
                r = -ENODATA;
        } else {
                for (const char *p = value; *p && r >= 0; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7F)
                                r = -EBADMSG;
                if (r < 0)
                        snprintf(detail, size,
                                 "the file of header %.*s, %s, holds a line break or another "
                                 "control character",
                                 (int)n, line, path);
        }
        if (r >= 0 && asprintf(&header, "%.*s: %s", (int)n, line, value) < 0) {
                header = NULL;
                r = -ENOMEM;
        }
        if (r >= 0)
                r = sink_http_header_append(list, header);
        if (value)
                explicit_bzero(value, value_size);
        if (header)
                explicit_bzero(header, strlen(header));
        return r;
}

/* The admin's headers, then those from header files; sink_http_request_prepare() adds ours
 * (Content-Type, an empty Expect) unless the admin set them. */
static int request_headers(const struct webhook_settings *set, struct curl_slist **list,
                           char *detail, size_t size)
{
        int r = 0;

        snprintf(detail, size, "out of memory");
        for (char **h = set->headers; h && *h && r >= 0; h++)
                r = sink_http_header_append(list, *h);
        for (char **h = set->header_files; h && *h && r >= 0; h++)
                r = header_from_file(*h, list, detail, size);
        return r;
}

static int webhook_send(struct sink *s, const struct notification *n, sink_done_fn done,
                        void *userdata)
{
        struct webhook_sink *w = (struct webhook_sink *)s;
        const struct sink_conf *conf = w->conf;
        const struct webhook_settings *set = w->settings;
        _cleanup_free_ char *title = NULL, *text = NULL;
        struct sink_http_request *q;
        char detail[512];
        int r;

        r = sink_http_request_new(s, w->http, done, userdata, &q);
        if (r < 0)
                return r;
        r = webhook_render(conf, n, &title, &text);
        if (r >= 0 && set->body)
                r = render_json_template(set->body, n, title, text, conf->max_length, &q->body);
        else if (r >= 0 && !(q->body = notification_to_json_rendered(n, title, text)))
                r = -ENOMEM;
        if (r < 0)
                goto fail;
        r = request_headers(set, &q->headers, detail, sizeof(detail));
        if (r < 0 && r != -ENOMEM) {
                /* a header file the admin must fix: the notification waits for it */
                log_warning("Sink %s: %s", s->name, detail);
                sink_http_request_free(q);
                done(s, SINK_TRY_LATER, 0, detail, userdata);
                return 0;
        }
        if (r >= 0)
                r = sink_http_request_prepare(q, set->url, conf->timeout_usec, set->ca_file);
        if (r >= 0 && set->method != METHOD_POST)
                curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, method_names[set->method]);
        if (r >= 0)
                r = http_add(w->http, q->easy, on_done, q);
        if (r < 0)
                goto fail;
        sink_http_request_link(q, &w->requests);
        return 0;
fail:
        sink_http_request_free(q);
        return log_warning_errno(r, "Sink %s: cannot start the request: %m", s->name);
}

/* Headers across both lists: a name given twice would be sent twice; a secret one shadowed. */
static void webhook_check(const struct sink_conf *conf, struct setting_errors *e)
{
        const struct webhook_settings *set = conf->settings;
        char *const *lists[] = {set->headers, set->header_files};
        const char *keys[] = {"headers", "header_files"};

        if (strv_length(set->headers) + strv_length(set->header_files) > HEADERS_MAX) {
                setting_error_at_key(e, set->header_files ? "header_files" : "headers",
                                     "more than %d headers", HEADERS_MAX);
                return;
        }
        for (size_t k = 0; k < 2; k++)
                for (char *const *h = lists[k]; h && *h; h++) {
                        size_t n = token_len(*h);
                        bool twice = false;
                        for (size_t j = 0; j <= k && !twice; j++)
                                for (char *const *g = lists[j]; g && *g && g != h && !twice; g++)
                                        twice = token_len(*g) == n && strncasecmp(*g, *h, n) == 0;
                        if (twice)
                                setting_error_at_value(e, keys[k],
                                                       "header '%.*s' is given twice (names are "
                                                       "case-insensitive)",
                                                       (int)n, *h);
                }
}

static void webhook_free(struct sink *s)
{
        struct webhook_sink *w = (struct webhook_sink *)s;

        if (!w)
                return;
        sink_http_requests_drop(&w->requests, sink_http_request_free);
        free(w);
}

static int webhook_create(const struct sink_conf *conf, const struct sink_context *ctx,
                          struct sink **ret)
{
        const struct webhook_settings *set = conf->settings;
        struct webhook_sink *w;

        if (!ctx || !ctx->http || !set || !set->url)
                return -EINVAL;
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->conf = conf;
        w->settings = set;
        w->http = ctx->http;
        *ret = &w->sink;
        return 0;
}

const struct sink_ops sink_webhook_ops = {
        .type = "webhook",
        SINK_SETTINGS(webhook_table, struct webhook_settings),
        .check = webhook_check,
        .create = webhook_create,
        .send = webhook_send,
        .free = webhook_free,
        .render = webhook_render,
};
