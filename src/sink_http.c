/* sink_http.c — the plumbing the HTTP sinks share: their requests on the shared curl multi, from
 * the easy handle to the hand-over of the result, and how an answer reads.
 *
 * Owns nothing beyond each request's transfer; decides nothing a sink's server gives its own
 * meaning to (the sinks overrule answer.result, and word their own details). Logs nothing: the
 * sink names itself and what it sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "sink_http.h"
#include "util.h"

void sink_http_request_init(struct sink_http_request *q, struct sink *s, struct http *http,
                            sink_done_fn done, void *userdata)
{
        *q = (struct sink_http_request){
                .sink = s, .http = http, .done = done, .userdata = userdata};
}

int sink_http_request_new(struct sink *s, struct http *http, sink_done_fn done, void *userdata,
                          struct sink_http_request **ret)
{
        struct sink_http_request *q = malloc(sizeof(*q));
        if (!q)
                return -ENOMEM;
        sink_http_request_init(q, s, http, done, userdata);
        *ret = q;
        return 0;
}

void sink_http_request_reset(struct sink_http_request *q)
{
        if (q->easy) {
                /* does nothing once http has called back: it let go of the handle then */
                http_remove(q->http, q->easy);
                curl_easy_cleanup(q->easy);
                q->easy = NULL;
        }
        /* a header's value may come from a secret's file (webhook's header_files) */
        for (struct curl_slist *h = q->headers; h; h = h->next)
                explicit_bzero(h->data, strlen(h->data));
        curl_slist_free_all(q->headers);
        q->headers = NULL;
        free(q->body);
        q->body = NULL;
        http_buffer_done(&q->response);
        q->errbuf[0] = '\0';
}

void sink_http_request_done(struct sink_http_request *q)
{
        sink_http_request_unlink(q);
        sink_http_request_reset(q);
}

struct sink_http_request *sink_http_request_free(struct sink_http_request *q)
{
        if (!q)
                return NULL;
        sink_http_request_done(q);
        free(q);
        return NULL;
}

void sink_http_request_link(struct sink_http_request *q, struct sink_http_request **list)
{
        q->list = list;
        q->prev = NULL;
        q->next = *list;
        if (*list)
                (*list)->prev = q;
        *list = q;
}

void sink_http_request_unlink(struct sink_http_request *q)
{
        if (!q->list)
                return;
        if (q->prev)
                q->prev->next = q->next;
        else if (*q->list == q)
                *q->list = q->next;
        if (q->next)
                q->next->prev = q->prev;
        q->list = NULL;
        q->prev = q->next = NULL;
}

void sink_http_requests_drop(struct sink_http_request **list, sink_http_free_fn free_fn)
{
        while (*list) {
                struct sink_http_request *q = *list;
                sink_http_request_unlink(q);
                free_fn(q);
        }
}

int sink_http_header_append(struct curl_slist **list, const char *header)
{
        struct curl_slist *l = curl_slist_append(*list, header);
        if (!l)
                return -ENOMEM;
        *list = l;
        return 0;
}

static bool has_header(const struct curl_slist *list, const char *name)
{
        size_t n = strlen(name);
        for (; list; list = list->next)
                if (strncasecmp(list->data, name, n) == 0 && list->data[n] == ':')
                        return true;
        return false;
}

int sink_http_request_prepare(struct sink_http_request *q, const char *url, uint64_t timeout_usec,
                              const char *ca_file)
{
        int r = 0;

        if (!has_header(q->headers, "Content-Type"))
                r = sink_http_header_append(&q->headers, "Content-Type: application/json");
        /* 7.88 waits a second for "100 Continue" on bodies over 1 KiB; servers rarely send it */
        if (r >= 0 && !has_header(q->headers, "Expect"))
                r = sink_http_header_append(&q->headers, "Expect:");
        if (r >= 0 && !(q->easy = curl_easy_init()))
                r = -ENOMEM;
        if (r < 0)
                return r;
        CURL *c = q->easy;
        http_easy_defaults(c, timeout_usec);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, q->errbuf);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->headers);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(q->body));
        /* a redirected request is one the admin did not configure, and credentials go along */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        if (ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
        http_buffer_attach(c, &q->response, SINK_HTTP_RESPONSE_CAP);
        return 0;
}

void sink_http_answer_read(const struct sink_http_request *q, CURLcode code,
                           struct sink_http_answer *ret)
{
        long status = 0;
        curl_off_t retry_after = -1;

        (void)curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
        /* libcurl parses Retry-After both as delay-seconds and as an HTTP-date (made relative to
         * now); a date in the past comes out negative */
        if (curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK ||
            retry_after < 0)
                retry_after = 0;
        if (retry_after > SINK_HTTP_RETRY_AFTER_MAX)
                retry_after = SINK_HTTP_RETRY_AFTER_MAX;

        /* a body we stopped reading (CURLE_WRITE_ERROR past the cap) still came with a status */
        bool answered = status > 0 && (code == CURLE_OK || code == CURLE_WRITE_ERROR);
        enum sink_result result = !answered                        ? SINK_TRY_LATER
                                  : status >= 200 && status < 300  ? SINK_ACCEPTED
                                  : status == 429 || status >= 500 ? SINK_TRY_LATER
                                                                   : SINK_REJECTED;
        *ret = (struct sink_http_answer){
                .code = code,
                .status = status,
                .answered = answered,
                .retry_after = (int64_t)retry_after,
                .why = q->errbuf[0] ? q->errbuf : curl_easy_strerror(code),
                .result = result,
        };
}

uint64_t sink_http_answer_retry_usec(const struct sink_http_answer *a)
{
        if (a->result != SINK_TRY_LATER || !a->answered || a->retry_after <= 0)
                return 0;
        return (uint64_t)a->retry_after * USEC_PER_SEC;
}

void sink_http_answer_detail(const struct sink_http_answer *a, const char *said, char *out,
                             size_t size)
{
        const char *sep = said && said[0] ? ": " : "";

        said = said ? said : "";
        if (a->answered && sink_http_answer_retry_usec(a) > 0)
                snprintf(out, size, "HTTP %ld, retry after %" PRId64 " s%s%s", a->status,
                         a->retry_after, sep, said);
        else if (a->answered)
                snprintf(out, size, "HTTP %ld%s%s", a->status, sep, said);
        else if (a->code == CURLE_PEER_FAILED_VERIFICATION)
                snprintf(out, size, "certificate not trusted: set ca_file (%s)", a->why);
        else
                snprintf(out, size, "%s", a->why);
}

void sink_http_request_finish(struct sink_http_request *q, sink_http_free_fn free_fn,
                              enum sink_result result, uint64_t retry_after_usec,
                              const char *detail)
{
        struct sink *s = q->sink;
        sink_done_fn done = q->done;
        void *userdata = q->userdata;

        sink_http_request_unlink(q);
        free_fn(q);
        /* last: a done callback may free the sink (a reload after the final send) */
        done(s, result, retry_after_usec, detail, userdata);
}

void sink_http_printable(const char *s, size_t len, size_t max_chars, bool utf8, char *out,
                         size_t size)
{
        size_t o = 0, chars = 0;

        for (size_t i = 0; s && i < len && chars < max_chars && o + 1 < size; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c >= 0x80 && !utf8)
                        c = '?';
                else if (c < 0x20 || c == 0x7F)
                        c = ' ';
                if ((c & 0xC0) != 0x80)
                        chars++;
                out[o++] = (char)c;
        }
        /* a cut through a character leaves its start without the rest */
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
