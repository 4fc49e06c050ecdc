/* sink_http.h — what the sinks that POST JSON to a server (webhook, ntfy, telegram) share: a
 * request on the shared curl multi and its life cycle, the reading of the answer with the usual
 * meaning of an HTTP status, and the printable excerpt of what a server said.
 *
 * A sink keeps its own decisions: which statuses mean something else for its server (ntfy's 401,
 * the Bot API's JSON), what its details and log lines say beyond the common "HTTP 503, retry after
 * 30 s: ...", and what it does between requests. The request is a plain struct a sink allocates
 * (sink_http_request_new) or embeds in its own state (telegram: one send, a request per chat).
 */
#pragma once

#include "http.h"
#include "sink.h"

#define SINK_HTTP_RESPONSE_CAP    (64 * 1024) /* an answer is read for the log and a JSON reply */
#define SINK_HTTP_RETRY_AFTER_MAX (24 * 3600) /* a server cannot park us for a week */

struct sink_http_request {
        struct sink *sink;
        struct http *http;
        sink_done_fn done;
        void *userdata;
        /* the sink's requests in flight, which its free() drops; NULL: in none */
        struct sink_http_request **list, *prev, *next;
        /* the transfer: what sink_http_request_reset() frees */
        CURL *easy;
        struct curl_slist *headers; /* wiped when freed: a value may be a secret */
        char *body;
        struct http_buffer response;
        char errbuf[CURL_ERROR_SIZE];
};

typedef struct sink_http_request *(*sink_http_free_fn)(struct sink_http_request *q);

void sink_http_request_init(struct sink_http_request *q, struct sink *s, struct http *http,
                            sink_done_fn done, void *userdata);
int sink_http_request_new(struct sink *s, struct http *http, sink_done_fn done, void *userdata,
                          struct sink_http_request **ret);
/* Frees the transfer (aborting it if it runs): q can make another. */
void sink_http_request_reset(struct sink_http_request *q);
/* Unlinks q and frees the transfer: what an embedded request needs before its owner goes. */
void sink_http_request_done(struct sink_http_request *q);
/* sink_http_request_done() and free(): for a request from sink_http_request_new(). */
struct sink_http_request *sink_http_request_free(struct sink_http_request *q);

void sink_http_request_link(struct sink_http_request *q, struct sink_http_request **list);
void sink_http_request_unlink(struct sink_http_request *q);
/* Frees every request in list without calling its done: the sink is going away, and the outbox
 * rows of the requests stay pending. */
void sink_http_requests_drop(struct sink_http_request **list, sink_http_free_fn free_fn);

/* Appends a copy of header ("Name: value") to *list. */
int sink_http_header_append(struct curl_slist **list, const char *header);
/* A new easy handle in q->easy that POSTs q->body as JSON to url with q->headers: our defaults
 * (http_easy_defaults()), Content-Type and an empty Expect unless q->headers has them, ca_file
 * when set, the answer into q->response; redirects not followed. -ENOMEM. */
int sink_http_request_prepare(struct sink_http_request *q, const char *url, uint64_t timeout_usec,
                              const char *ca_file);

/* What came back for a finished transfer, and what it means by the usual rules. */
struct sink_http_answer {
        CURLcode code;
        long status;         /* 0: none */
        bool answered;       /* a status came back (its body may have been cut at the cap) */
        int64_t retry_after; /* Retry-After, s, at most SINK_HTTP_RETRY_AFTER_MAX; 0: none */
        const char *why;     /* not answered: curl's message (q->errbuf or a static string) */
        /* 2xx accepted; 429, 5xx try later; other statuses rejected; no answer try later. A
         * sink may overrule it (ntfy's 401). */
        enum sink_result result;
};
void sink_http_answer_read(const struct sink_http_request *q, CURLcode code,
                           struct sink_http_answer *ret);
/* The Retry-After of a try later, for the outbox; 0 otherwise. */
uint64_t sink_http_answer_retry_usec(const struct sink_http_answer *a);
/* "HTTP 503, retry after 30 s: said", "HTTP 404: said" (said may be "" or NULL), "certificate
 * not trusted: set ca_file (why)", or curl's why. */
void sink_http_answer_detail(const struct sink_http_answer *a, const char *said, char *out,
                             size_t size);

/* Unlinks and frees q with free_fn, then calls its done: last, since a done callback may free the
 * sink (a reload after the final send). detail must not point into what free_fn frees. */
void sink_http_request_finish(struct sink_http_request *q, sink_http_free_fn free_fn,
                              enum sink_result result, uint64_t retry_after_usec,
                              const char *detail);

/* At most max_chars characters of s[0..len) on one line in out, control characters as spaces,
 * never ending in half a UTF-8 character; utf8 false: bytes above 0x7F as '?' (a body in an
 * encoding we do not know). */
void sink_http_printable(const char *s, size_t len, size_t max_chars, bool utf8, char *out,
                         size_t size);
