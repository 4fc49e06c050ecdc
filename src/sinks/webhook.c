/* sinks/webhook.c — a notification as one JSON object, POSTed to an http(s) endpoint.
 *
 * Owns the requests in flight. The body is notification_to_json(); the answer decides:
 * 2xx accepted, 429 and 5xx try later (after Retry-After, in seconds or as an HTTP-date),
 * anything else rejected for good, no answer at all (refused, timeout, TLS) try later.
 * TLS is always verified (ca_file for a private CA); redirects are not followed, since a
 * redirected POST is a different request the admin did not configure. Its own keys, url and
 * ca_file, are the table below, which the config reads through the registry.
 */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink.h"

#define RESPONSE_CAP      (64 * 1024) /* only read for the log */
#define RETRY_AFTER_MAX   (24 * 3600) /* an endpoint cannot park us for a week */
#define DETAIL_BODY_CHARS 120

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

/* The keys of a webhook sink beyond those every sink has: sink_conf.settings. */
struct webhook_settings {
        char *url;
        char *ca_file; /* NULL: the system's CAs */
};

static const char *check_http_url(const char *v, char *buf, size_t size)
{
        return setting_check_url(v, "http", buf, size);
}

#define OFF(f) offsetof(struct webhook_settings, f)
static const struct setting webhook_table[] = {
        {S("url", SETTING_STRING, OFF(url), NULL, "http:// or https:// endpoint"), .required = true,
         .check = check_http_url},
        {S("ca_file", SETTING_PATH, OFF(ca_file), NULL, "CA bundle for a private CA")},
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

static int webhook_send(struct sink *s, const struct notification *n, sink_done_fn done,
                        void *userdata)
{
        struct webhook_sink *w = (struct webhook_sink *)s;
        const struct sink_conf *conf = w->conf;
        const struct webhook_settings *set = w->settings;
        _cleanup_free_ char *title = NULL, *text = NULL;
        struct webhook_request *q;
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->sink = w;
        q->done = done;
        q->userdata = userdata;
        r = webhook_render(conf, n, &title, &text);
        if (r < 0)
                goto fail;
        r = -ENOMEM;
        q->body = notification_to_json_rendered(n, title, text);
        if (!q->body)
                goto fail;
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        if (h)
                q->headers = h;
        /* 7.88 waits a second for "100 Continue" on bodies over 1 KiB; endpoints rarely send it */
        if (h && (h = curl_slist_append(q->headers, "Expect:")))
                q->headers = h;
        if (!h)
                goto fail;
        q->easy = curl_easy_init();
        if (!q->easy)
                goto fail;
        CURL *c = q->easy;
        http_easy_defaults(c, conf->timeout_usec);
        curl_easy_setopt(c, CURLOPT_URL, set->url);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, q->errbuf);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->headers);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(q->body));
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        if (set->ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, set->ca_file);
        http_buffer_attach(c, &q->response, RESPONSE_CAP);

        r = http_add(w->http, c, on_done, q);
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
        .create = webhook_create,
        .send = webhook_send,
        .free = webhook_free,
        .render = webhook_render,
};
