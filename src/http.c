/* http.c — curl multi on sd-event: curl tells us which sockets and which timeout to watch,
 * sd-event tells curl when they fire.
 *
 * Owns the multi handle and the per-socket event sources; the easy handles belong to callers.
 */
#include <stdlib.h>
#include <sys/epoll.h>

#include "http.h"
#include "log.h"
#include "util.h"

struct http {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        unsigned running;
};

struct transfer {
        http_done_fn done;
        void *userdata;
};

static void check_finished(struct http *h)
{
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(h->multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                CURL *easy = msg->easy_handle;
                CURLcode result = msg->data.result;
                struct transfer *t = NULL;

                curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
                curl_multi_remove_handle(h->multi, easy);
                curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                if (h->running > 0)
                        h->running--;
                if (t) {
                        http_done_fn done = t->done;
                        void *userdata = t->userdata;
                        free(t);
                        done(easy, result, userdata);
                }
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct http *h = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        curl_multi_socket_action(h->multi, fd, action, &running);
        check_finished(h);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct http *h = userdata;
        int running;

        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_finished(h);
        return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct http *h = userp;
        sd_event_source *source = socketp;
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                if (source) {
                        sd_event_source_disable_unref(source);
                        curl_multi_assign(h->multi, fd, NULL);
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (source) {
                r = sd_event_source_set_io_events(source, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(source, SD_EVENT_ON);
        } else {
                r = sd_event_add_io(h->event, &source, fd, events, on_io, h);
                if (r >= 0)
                        curl_multi_assign(h->multi, fd, source);
        }
        if (r < 0) {
                log_error_errno(r, "Failed to watch HTTP socket %d: %m", (int)fd);
                return -1;
        }
        return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
        struct http *h = userp;
        uint64_t when;
        int r;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0;

        r = sd_event_now(h->event, CLOCK_MONOTONIC, &when);
        if (r < 0)
                when = now_monotonic_usec();
        when += (uint64_t)timeout_ms * USEC_PER_MSEC;
        if (sd_event_source_set_time(h->timer, when) < 0 ||
            sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

int http_new(sd_event *event, struct http **ret)
{
        struct http *h;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->event = sd_event_ref(event);
        h->multi = curl_multi_init();
        if (!h->multi) {
                http_free(h);
                return -ENOMEM;
        }
        /* curl's timeouts start requests: the default accuracy (250 ms) would bunch them */
        r = sd_event_add_time(event, &h->timer, CLOCK_MONOTONIC, UINT64_MAX, USEC_PER_MSEC,
                              on_timer, h);
        if (r < 0) {
                http_free(h);
                return r;
        }
        (void)sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
        (void)sd_event_source_set_description(h->timer, "curl-timer");

        curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
        curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
        /* VK allows ~3 requests a second; a few connections are plenty and keep-alive does the
         * rest. */
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
        *ret = h;
        return 0;
}

struct http *http_free(struct http *h)
{
        if (!h)
                return NULL;
        /* Callers free their easy handles; by now none should be left in the multi. */
        if (h->multi)
                curl_multi_cleanup(h->multi);
        sd_event_source_disable_unref(h->timer);
        sd_event_unref(h->event);
        free(h);
        return NULL;
}

int http_add(struct http *h, CURL *easy, http_done_fn done, void *userdata)
{
        struct transfer *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->done = done;
        t->userdata = userdata;
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)t);
        if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
                curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                free(t);
                return -EIO;
        }
        h->running++;
        return 0;
}

void http_remove(struct http *h, CURL *easy)
{
        struct transfer *t = NULL;

        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        if (!t)
                return;
        curl_multi_remove_handle(h->multi, easy);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(t);
        if (h->running > 0)
                h->running--;
}

unsigned http_running(const struct http *h)
{
        return h->running;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct http_buffer *buf = userdata;
        size_t n = size * nmemb;

        if (buf->size + n > buf->cap) {
                buf->overflowed = true;
                return CURL_WRITEFUNC_ERROR;
        }
        if (!buf->data) {
                /* the announced size in one allocation: growing by doubling, a 0.5 MB answer
                 * would cost 1 MB and a copy at every step (a compressed one grows from here) */
                curl_off_t length = -1;
                if (curl_easy_getinfo(buf->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) ==
                            CURLE_OK &&
                    length > 0 && (uint64_t)length < buf->cap && (size_t)length >= n) {
                        buf->data = malloc((size_t)length + 1);
                        if (buf->data)
                                buf->allocated = (size_t)length + 1;
                }
        }
        if (!greedy_realloc((void **)&buf->data, &buf->allocated, buf->size + n + 1, 1))
                return CURL_WRITEFUNC_ERROR;
        memcpy(buf->data + buf->size, ptr, n);
        buf->size += n;
        buf->data[buf->size] = '\0';
        return n;
}

void http_buffer_attach(CURL *easy, struct http_buffer *buf, size_t cap)
{
        buf->cap = cap;
        buf->easy = easy;
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, buf);
}

void http_buffer_done(struct http_buffer *buf)
{
        free(buf->data);
        *buf = (struct http_buffer){0};
}

void http_easy_defaults(CURL *easy, uint64_t timeout_usec)
{
        long timeout_ms = (long)(timeout_usec / USEC_PER_MSEC);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "govwatchd/" GOVWATCH_VERSION);
}
