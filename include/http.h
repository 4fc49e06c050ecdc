/* http.h — libcurl's multi interface driven by sd-event: one connection cache for the VK API,
 * webhooks and SMTP, no blocking call on the loop.
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

struct http;

/* Called once per finished transfer with curl's result; the easy handle still belongs to the
 * caller, who frees it (after this returns, http no longer references it). */
typedef void (*http_done_fn)(CURL *easy, CURLcode result, void *userdata);

int http_new(sd_event *event, struct http **ret);
struct http *http_free(struct http *h);

/* Hands a configured easy handle to the multi; done is called when it finishes. */
int http_add(struct http *h, CURL *easy, http_done_fn done, void *userdata);
/* Aborts a transfer without calling its done callback. */
void http_remove(struct http *h, CURL *easy);
unsigned http_running(const struct http *h);

/* A response body collected in memory, capped (FACTS.md: CURLOPT_MAXFILESIZE does not stop a
 * transfer of unknown size, so the write callback counts). */
struct http_buffer {
        char *data;
        size_t size;
        size_t allocated;
        size_t cap;
        bool overflowed;
        CURL *easy; /* for the announced length */
};
/* Sets CURLOPT_WRITEFUNCTION/WRITEDATA on easy to fill buf. */
void http_buffer_attach(CURL *easy, struct http_buffer *buf, size_t cap);
void http_buffer_done(struct http_buffer *buf);

/* Sets the options every HTTP(S) request of ours should have (FACTS.md): timeouts, no signals,
 * compression, protocols limited to http/https, a User-Agent. */
void http_easy_defaults(CURL *easy, uint64_t timeout_usec);
