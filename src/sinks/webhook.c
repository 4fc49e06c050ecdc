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
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink.h"

#define RESPONSE_CAP      (64 * 1024) /* only read for the log */
#define RETRY_AFTER_MAX   (24 * 3600) /* an endpoint cannot park us for a week */
#define DETAIL_BODY_CHARS 120
#define HEADERS_MAX       32   /* headers and header_files together */
#define HEADER_FILE_MAX   8192 /* bytes of a header's value in a file */

struct webhook_sink;

struct webhook_request {
        struct webhook_sink *sink;
        CURL *easy;
        struct curl_slist *headers;
        char *body;
        struct http_buffer response;
        char errbuf[CURL_ERROR_SIZE];
        sink_done_fn done;
        void *userdata;
        struct webhook_request *prev, *next;
};

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
        struct webhook_request *requests;
};

static struct webhook_request *request_free(struct webhook_request *q)
{
        if (!q)
                return NULL;
        if (q->easy) {
                http_remove(q->sink->http, q->easy);
                curl_easy_cleanup(q->easy);
        }
        /* a header's value may come from a header file: a secret */
        for (struct curl_slist *h = q->headers; h; h = h->next)
                explicit_bzero(h->data, strlen(h->data));
        curl_slist_free_all(q->headers);
        free(q->body);
        http_buffer_done(&q->response);
        free(q);
        return NULL;
}

static void request_unlink(struct webhook_request *q)
{
        struct webhook_sink *w = q->sink;
        if (q->prev)
                q->prev->next = q->next;
        else if (w->requests == q)
                w->requests = q->next;
        if (q->next)
                q->next->prev = q->prev;
        q->prev = q->next = NULL;
}

/* The start of the response body, printable, for a human reading the log. */
static void body_excerpt(const struct http_buffer *b, char *out, size_t size)
{
        size_t o = 0;
        for (size_t i = 0; b->data && i < b->size && o + 1 < size && i < DETAIL_BODY_CHARS; i++) {
                unsigned char c = (unsigned char)b->data[i];
                out[o++] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
        }
        /* do not end on half a UTF-8 character */
        size_t lead = o;
        while (lead > 0 && o - lead < 4 && ((unsigned char)out[lead - 1] & 0xC0) == 0x80)
                lead--;
        if (lead > 0 && ((unsigned char)out[lead - 1] & 0xC0) == 0xC0) {
                unsigned char c = (unsigned char)out[lead - 1];
                size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (o - (lead - 1) < want)
                        o = lead - 1;
        }
        out[o] = '\0';
}

static void on_done(CURL *easy, CURLcode code, void *userdata)
{
        struct webhook_request *q = userdata;
        struct webhook_sink *w = q->sink;
        enum sink_result result;
        uint64_t retry_after_usec = 0;
        long status = 0;
        curl_off_t retry_after = -1;
        char detail[CURL_ERROR_SIZE + 200], excerpt[DETAIL_BODY_CHARS + 1];
        const char *why = q->errbuf[0] ? q->errbuf : curl_easy_strerror(code);

        (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        /* libcurl parses Retry-After both as delay-seconds and as an HTTP-date (made relative
         * to now); a date in the past comes out negative */
        if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
                retry_after = -1;
        body_excerpt(&q->response, excerpt, sizeof(excerpt));

        /* a body we stopped reading (CURLE_WRITE_ERROR past the cap) still came with a status */
        bool answered = status > 0 && (code == CURLE_OK || code == CURLE_WRITE_ERROR);
        if (answered && status >= 200 && status < 300) {
                result = SINK_ACCEPTED;
                snprintf(detail, sizeof(detail), "HTTP %ld", status);
        } else if (answered && (status == 429 || status >= 500)) {
                result = SINK_TRY_LATER;
                if (retry_after > 0) {
                        if (retry_after > RETRY_AFTER_MAX)
                                retry_after = RETRY_AFTER_MAX;
                        retry_after_usec = (uint64_t)retry_after * USEC_PER_SEC;
                        snprintf(detail, sizeof(detail), "HTTP %ld, retry after %" PRId64 " s%s%s",
                                 status, (int64_t)retry_after, excerpt[0] ? ": " : "", excerpt);
                } else
                        snprintf(detail, sizeof(detail), "HTTP %ld%s%s", status,
                                 excerpt[0] ? ": " : "", excerpt);
        } else if (answered) {
                result = SINK_REJECTED;
                snprintf(detail, sizeof(detail), "HTTP %ld%s%s", status, excerpt[0] ? ": " : "",
                         excerpt);
        } else if (code == CURLE_PEER_FAILED_VERIFICATION) {
                result = SINK_TRY_LATER;
                snprintf(detail, sizeof(detail), "certificate not trusted: set ca_file (%s)", why);
        } else {
                result = SINK_TRY_LATER;
                snprintf(detail, sizeof(detail), "%s", why);
        }
        if (result == SINK_ACCEPTED)
                log_debug("Sink %s: %s", w->sink.name, detail);
        else
                log_warning("Sink %s: %s: %s", w->sink.name, sink_result_name(result), detail);

        sink_done_fn done = q->done;
        void *ud = q->userdata;
        request_unlink(q);
        curl_easy_cleanup(q->easy);
        q->easy = NULL; /* http has let go of it already */
        request_free(q);
        done(&w->sink, result, retry_after_usec, detail, ud);
}

/* The body of the POST is the notification's JSON with these two as "title" and "body". */
static int webhook_render(const struct sink_conf *conf, const struct notification *n,
                          char **ret_title, char **ret_body)
{
        return sink_render_templates(conf, n, RENDER_DEFAULT_TITLE, RENDER_DEFAULT_BODY,
                                     conf->max_length, ret_title, ret_body);
}

/* Whether the admin sets header name (case-insensitive), in headers or header_files. */
static bool has_header(const struct webhook_settings *set, const char *name)
{
        size_t n = strlen(name);
        for (int k = 0; k < 2; k++)
                for (char **h = k ? set->header_files : set->headers; h && *h; h++)
                        if (token_len(*h) == n && strncasecmp(*h, name, n) == 0)
                                return true;
        return false;
}

static int header_append(struct curl_slist **list, const char *header)
{
        struct curl_slist *l = curl_slist_append(*list, header);
        if (!l)
                return -ENOMEM;
        *list = l;
        return 0;
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
                r = header_append(list, header);
        if (value)
                explicit_bzero(value, value_size);
        if (header)
                explicit_bzero(header, strlen(header));
        return r;
}

/* The admin's headers, those from header files, then ours unless the admin set them:
 * Content-Type, and an empty Expect (7.88 waits a second for "100 Continue" on bodies over
 * 1 KiB; endpoints rarely send it). */
static int request_headers(const struct webhook_settings *set, struct curl_slist **list,
                           char *detail, size_t size)
{
        int r = 0;

        snprintf(detail, size, "out of memory");
        for (char **h = set->headers; h && *h && r >= 0; h++)
                r = header_append(list, *h);
        for (char **h = set->header_files; h && *h && r >= 0; h++)
                r = header_from_file(*h, list, detail, size);
        if (r >= 0 && !has_header(set, "Content-Type"))
                r = header_append(list, "Content-Type: application/json");
        if (r >= 0 && !has_header(set, "Expect"))
                r = header_append(list, "Expect:");
        return r;
}

static CURL *request_easy(struct webhook_sink *w, struct webhook_request *q)
{
        const struct webhook_settings *set = w->settings;
        CURL *c = curl_easy_init();

        if (!c)
                return NULL;
        http_easy_defaults(c, w->conf->timeout_usec);
        curl_easy_setopt(c, CURLOPT_URL, set->url);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, q->errbuf);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->headers);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        if (set->method != METHOD_POST)
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_names[set->method]);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(q->body));
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        if (set->ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, set->ca_file);
        http_buffer_attach(c, &q->response, RESPONSE_CAP);
        return c;
}

static int webhook_send(struct sink *s, const struct notification *n, sink_done_fn done,
                        void *userdata)
{
        struct webhook_sink *w = (struct webhook_sink *)s;
        const struct sink_conf *conf = w->conf;
        const struct webhook_settings *set = w->settings;
        _cleanup_free_ char *title = NULL, *text = NULL;
        struct webhook_request *q;
        char detail[512];
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->sink = w;
        q->done = done;
        q->userdata = userdata;
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
                request_free(q);
                done(s, SINK_TRY_LATER, 0, detail, userdata);
                return 0;
        }
        r = r < 0 ? r : (q->easy = request_easy(w, q)) ? 0 : -ENOMEM;
        if (r >= 0)
                r = http_add(w->http, q->easy, on_done, q);
        if (r < 0)
                goto fail;
        q->next = w->requests;
        if (w->requests)
                w->requests->prev = q;
        w->requests = q;
        return 0;
fail:
        if (q->easy) {
                curl_easy_cleanup(q->easy);
                q->easy = NULL;
        }
        request_free(q);
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
        /* requests in flight are dropped, not completed: their outbox rows stay pending */
        while (w->requests) {
                struct webhook_request *q = w->requests;
                request_unlink(q);
                request_free(q);
        }
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
