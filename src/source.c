/* source.c — VK API requests over curl multi, paced by a sliding window of requests a second.
 *
 * Owns the queue of requests not yet sent and the easy handles in flight. The window (budget.h)
 * paces the moment a request *leaves*, which is what VK counts: a request takes its place when it
 * is handed to curl, and is stamped when curl is about to write it on an established connection
 * (CURLOPT_PREREQFUNCTION), after DNS, TCP and TLS, however long they took. Until then it holds
 * its place as "leaving now or later". The pace timer is precise to a millisecond: sd-event's
 * default 250 ms accuracy bunched requests that were spaced in the queue. So no second ever
 * carries more than vk.requests_per_second requests, and the daemon never provokes error 6 on its
 * own. The window goes to the store (source_load_pace), so back-to-back processes keep to it
 * together.
 *
 * An answer is read a step at a time (vk_reader_step, VK_STEP_BYTES an event-loop iteration), and
 * freed the same way once its caller has used it (the graveyard): 32 MiB of JSON takes about a
 * second to read and to free, and the loop has timers, deliveries and signals to serve meanwhile.
 */
#include <stdio.h>

#include "budget.h"
#include "log.h"
#include "source.h"
#include "util.h"

struct request {
        struct request *next;
        struct source *src;
        char *url;
        char *body;
        size_t n_calls;
        CURL *easy;
        struct curl_slist *headers;
        struct http_buffer response;
        source_wall_fn wall; /* execute of wall.get: each call's wall, as it is parsed */
        bool left;           /* curl has started to write it: counted in the window at that time */
        /* the answer arrived and is read a step of VK_STEP_BYTES per event-loop iteration */
        struct vk_reader *reader;
        sd_event_source *reading;
        source_done_fn done;
        void *userdata;
};

struct source {
        sd_event *event;
        struct http *http;
        char *api_url;
        char *version;
        char *auth_header; /* "Authorization: Bearer ..." — a secret, never logged */
        uint64_t timeout_usec;
        struct rate_window window; /* CLOCK_MONOTONIC; the store keeps it in CLOCK_REALTIME */
        struct store *store;       /* where source_free saves the window; not owned */
        bool window_changed;       /* since it was loaded or saved */
        struct request *queue_head, *queue_tail;
        struct request *in_flight;
        sd_event_source *pace_timer;
        /* answers read and used, freed VK_RELEASE_VALUES values an event-loop iteration */
        struct vk_graveyard graves;
        sd_event_source *releasing;
        unsigned sent;
        unsigned pending;
};

static void request_free(struct request *req)
{
        if (!req)
                return;
        if (req->easy) {
                http_remove(req->src->http, req->easy);
                curl_easy_cleanup(req->easy);
        }
        sd_event_source_disable_unref(req->reading);
        vk_reader_free(req->reader);
        curl_slist_free_all(req->headers);
        http_buffer_done(&req->response);
        free(req->url);
        free(req->body);
        free(req);
}

/* 1 ms: a departure must not wait for sd-event to batch its wake-up with others */
#define PACE_TIMER_ACCURACY_USEC USEC_PER_MSEC
/* kv text in the store */
#define REQUEST_WINDOW_KEY "vk.request_window"

static void pump(struct source *src);

/* The pump runs from the pace timer when it cannot run now (inside curl's callbacks). */
static void pace_at(struct source *src, uint64_t at_usec)
{
        (void)sd_event_source_set_time(src->pace_timer, at_usec);
        (void)sd_event_source_set_enabled(src->pace_timer, SD_EVENT_ONESHOT);
}

static void request_left(struct request *req, uint64_t at_usec)
{
        struct source *src = req->src;
        if (req->left)
                rate_window_record(&src->window, at_usec); /* curl sent it again */
        else
                rate_window_sent(&src->window, at_usec);
        req->left = true;
        src->window_changed = true;
}

/* curl is about to write the request on a connection that is ready: it leaves now. The place it
 * held as "unsent" becomes a time, which may let the next one go. */
static int on_prereq(void *userdata, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
        struct request *req = userdata;
        uint64_t now = now_monotonic_usec();

        request_left(req, now);
        if (req->src->queue_head)
                pace_at(req->src, now);
        return CURL_PREREQFUNC_OK;
}

static int on_releasing(sd_event_source *s, void *userdata)
{
        struct source *src = userdata;
        if (vk_graveyard_release(&src->graves, VK_RELEASE_VALUES))
                (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

/* Something went to the graveyard: it is freed from the next iterations on. */
static void release_later(struct source *src)
{
        if (src->graves.n > 0)
                (void)sd_event_source_set_enabled(src->releasing, SD_EVENT_ON);
}

/* The request is over, answered or not: it leaves the in-flight list and its caller learns. The
 * answer is the caller's to read during done(), then goes to the graveyard. */
static void finish(struct request *req, struct vk_result *res, int code, const char *msg)
{
        struct source *src = req->src;
        size_t size = req->response.size;

        for (struct request **p = &src->in_flight; *p; p = &(*p)->next)
                if (*p == req) {
                        *p = req->next;
                        break;
                }
        src->pending--;
        if (res && vk_error_class_of(res->error_code) == VK_ERROR_RATE)
                source_slow_down(src); /* VK counts more than we do (another client?) */
        source_done_fn done = req->done;
        void *ud = req->userdata;
        request_free(req);

        done(res, res ? 0 : code, res ? NULL : msg, ud);
        if (res)
                vk_graveyard_bury(&src->graves, TAKE_PTR(res->root), size);
        vk_result_free(res);
        release_later(src);
        pump(src);
}

static int refused_code(int r)
{
        return r == -EFBIG ? VK_ERROR_CODE_TOO_LARGE : VK_ERROR_CODE_MALFORMED;
}

/* One step of reading the answer; the loop runs whatever else is due before the next. */
static int on_reading(sd_event_source *s, void *userdata)
{
        struct request *req = userdata;
        struct vk_result *res = NULL;
        const char *reason = NULL;
        char msg[256];

        int r = vk_reader_step(req->reader, VK_STEP_BYTES, &res, &reason);
        if (r == 0)
                return 0;
        if (r < 0)
                snprintf(msg, sizeof(msg), "%s", reason ? reason : strerror(-r));
        finish(req, r > 0 ? res : NULL, refused_code(r), msg);
        return 0;
}

/* The reader's each(): one call's answer, as a wall, to the request's wall(). Its JSON tree is
 * released when this returns (vk.h), so one wall's tree at most is alive at a time. */
static int wall_json(size_t i, const json_t *response, void *userdata)
{
        struct request *req = userdata;
        struct wall *w = NULL;
        const char *reason = NULL;
        int r;

        if (i >= req->n_calls)
                return -EBADMSG;
        r = wall_from_json(response, &w, &reason);
        req->wall(i, r < 0 ? NULL : w, r, reason, req->userdata);
        return 0;
}
static void on_done(CURL *easy, CURLcode result, void *userdata)
{
        struct request *req = userdata;
        struct source *src = req->src;
        const char *reason = NULL;
        char msg[256];
        long status = 0;
        int r;

        /* it never reached the point of being written (no connection): count it anyway, as the
         * safe side, now that its time is known */
        if (!req->left)
                request_left(req, now_monotonic_usec());

        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        /* the easy handle is finished (http.c has taken it off); the answer is in req->response */
        curl_easy_cleanup(req->easy);
        req->easy = NULL;
        if (result != CURLE_OK) {
                if (req->response.overflowed) {
                        snprintf(msg, sizeof(msg), "answer larger than %zu bytes",
                                 req->response.cap);
                        finish(req, NULL, VK_ERROR_CODE_TOO_LARGE, msg);
                } else {
                        snprintf(msg, sizeof(msg), "%s", curl_easy_strerror(result));
                        finish(req, NULL, VK_ERROR_CODE_TRANSPORT, msg);
                }
                return;
        }
        if (status < 200 || status > 299) {
                snprintf(msg, sizeof(msg), "HTTP status %ld", status);
                finish(req, NULL, VK_ERROR_CODE_HTTP, msg);
                return;
        }
        r = vk_reader_new(req->response.data ? req->response.data : "", req->response.size,
                          req->n_calls, req->wall ? wall_json : NULL, req, &src->graves,
                          &req->reader, &reason);
        if (r >= 0) {
                r = sd_event_add_defer(src->event, &req->reading, on_reading, req);
                reason = NULL;
        }
        if (r < 0) {
                snprintf(msg, sizeof(msg), "%s", reason ? reason : strerror(-r));
                finish(req, NULL, refused_code(r), msg);
                return;
        }
        /* a defer source fires once unless told otherwise; this one until the answer is read */
        (void)sd_event_source_set_enabled(req->reading, SD_EVENT_ON);
        (void)sd_event_source_set_description(req->reading, "vk-answer");
}

static int start(struct source *src, struct request *req)
{
        int r;

        req->easy = curl_easy_init();
        if (!req->easy)
                return -ENOMEM;
        http_easy_defaults(req->easy, src->timeout_usec);
        req->headers = curl_slist_append(NULL, src->auth_header);
        if (!req->headers)
                return -ENOMEM;
        curl_easy_setopt(req->easy, CURLOPT_URL, req->url);
        curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->headers);
        curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
        curl_easy_setopt(req->easy, CURLOPT_PREREQFUNCTION, on_prereq);
        curl_easy_setopt(req->easy, CURLOPT_PREREQDATA, req);
        http_buffer_attach(req->easy, &req->response, VK_ANSWER_MAX_BYTES);
        r = http_add(src->http, req->easy, on_done, req);
        if (r < 0)
                return r;
        req->next = src->in_flight;
        src->in_flight = req;
        src->sent++;
        return 0;
}

static int on_pace(sd_event_source *s, uint64_t usec, void *userdata)
{
        pump(userdata);
        return 0;
}

static void pump(struct source *src)
{
        uint64_t now = now_monotonic_usec(), at = UINT64_MAX;

        while (src->queue_head && rate_window_take(&src->window, now, &at) >= 0) {
                struct request *req = src->queue_head;
                src->queue_head = req->next;
                if (!src->queue_head)
                        src->queue_tail = NULL;
                req->next = NULL;
                int r = start(src, req);
                if (r < 0) {
                        char msg[128];
                        snprintf(msg, sizeof(msg), "could not start request: %s", strerror(-r));
                        source_done_fn done = req->done;
                        void *ud = req->userdata;
                        src->pending--;
                        request_left(req, now); /* gives its place back, counted */
                        request_free(req);
                        done(NULL, VK_ERROR_CODE_TRANSPORT, msg, ud);
                }
        }
        /* UINT64_MAX: requests handed to curl fill the window; the first to leave wakes us */
        if (src->queue_head && at != UINT64_MAX)
                pace_at(src, at);
}

int source_new(sd_event *event, struct http *http, const struct config *conf, const char *token,
               struct source **ret)
{
        struct source *src = calloc(1, sizeof(*src));
        int r;

        if (!src)
                return -ENOMEM;
        src->event = sd_event_ref(event);
        src->http = http;
        src->api_url = strdup(conf->vk.api_url);
        src->version = strdup(conf->vk.version);
        if (asprintf(&src->auth_header, "Authorization: Bearer %s", token) < 0)
                src->auth_header = NULL;
        if (!src->api_url || !src->version || !src->auth_header) {
                source_free(src);
                return -ENOMEM;
        }
        src->timeout_usec = conf->vk.timeout_usec;
        r = rate_window_init(&src->window,
                             conf->vk.requests_per_second > 0 ? conf->vk.requests_per_second : 3);
        if (r < 0) {
                source_free(src);
                return r;
        }
        r = sd_event_add_time(event, &src->pace_timer, CLOCK_MONOTONIC, UINT64_MAX,
                              PACE_TIMER_ACCURACY_USEC, on_pace, src);
        if (r < 0) {
                source_free(src);
                return r;
        }
        (void)sd_event_source_set_enabled(src->pace_timer, SD_EVENT_OFF);
        (void)sd_event_source_set_description(src->pace_timer, "vk-pace");
        r = sd_event_add_defer(event, &src->releasing, on_releasing, src);
        if (r < 0) {
                source_free(src);
                return r;
        }
        (void)sd_event_source_set_enabled(src->releasing, SD_EVENT_OFF);
        (void)sd_event_source_set_description(src->releasing, "vk-release");
        *ret = src;
        return 0;
}

struct source *source_free(struct source *src)
{
        if (!src)
                return NULL;
        /* before the requests in flight go: those not yet written may still be, any moment */
        if (src->store && src->window_changed) {
                int r = source_save_pace(src, src->store);
                if (r < 0)
                        log_warning_errno(r, "Failed to save the VK request window, ignoring: %m");
        }
        while (src->queue_head) {
                struct request *req = src->queue_head;
                src->queue_head = req->next;
                request_free(req);
        }
        while (src->in_flight) {
                struct request *req = src->in_flight;
                src->in_flight = req->next;
                request_free(req);
        }
        sd_event_source_disable_unref(src->pace_timer);
        sd_event_source_disable_unref(src->releasing);
        vk_graveyard_done(&src->graves);
        sd_event_unref(src->event);
        if (src->auth_header) /* a secret: don't leave it in freed memory */
                explicit_bzero(src->auth_header, strlen(src->auth_header));
        free(src->auth_header);
        free(src->api_url);
        free(src->version);
        free(src);
        return NULL;
}

static int call(struct source *src, const char *method, const char *const *keys,
                const char *const *values, size_t n_params, size_t n_calls, source_wall_fn wall,
                source_done_fn done, void *userdata)
{
        const char *k[8], *v[8];
        struct request *req;
        int r;

        if (n_params + 1 > ELEMENTSOF(k))
                return -E2BIG;
        for (size_t i = 0; i < n_params; i++) {
                k[i] = keys[i];
                v[i] = values[i];
        }
        k[n_params] = "v";
        v[n_params] = src->version;

        req = calloc(1, sizeof(*req));
        if (!req)
                return -ENOMEM;
        req->src = src;
        req->n_calls = n_calls;
        req->wall = wall;
        req->done = done;
        req->userdata = userdata;
        r = vk_form_body(k, v, n_params + 1, &req->body);
        if (r < 0 || asprintf(&req->url, "%s/%s", src->api_url, method) < 0) {
                req->url = NULL;
                request_free(req);
                return r < 0 ? r : -ENOMEM;
        }
        if (src->queue_tail)
                src->queue_tail->next = req;
        else
                src->queue_head = req;
        src->queue_tail = req;
        src->pending++;
        pump(src);
        return 0;
}

int source_call(struct source *src, const char *method, const char *const *keys,
                const char *const *values, size_t n_params, size_t n_calls, source_done_fn done,
                void *userdata)
{
        return call(src, method, keys, values, n_params, n_calls, NULL, done, userdata);
}

int source_wall_get(struct source *src, const struct vk_wall_request *reqs, size_t n,
                    source_wall_fn wall, source_done_fn done, void *userdata)
{
        _cleanup_free_ char *code = NULL;
        int r = vk_execute_code_wall_get(reqs, n, &code);
        if (r < 0)
                return r;
        const char *k[] = {"code"};
        const char *v[] = {code};
        return call(src, "execute", k, v, 1, n, wall, done, userdata);
}

unsigned source_requests_sent(const struct source *src)
{
        return src->sent;
}

unsigned source_pending(const struct source *src)
{
        return src->pending;
}

void source_slow_down(struct source *src)
{
        rate_window_slow_down(&src->window, now_monotonic_usec());
        src->window_changed = true;
}

int source_load_pace(struct source *src, struct store *store)
{
        _cleanup_free_ char *text = NULL;
        int r;

        src->store = store;
        r = store_kv_get_text(store, REQUEST_WINDOW_KEY, &text);
        if (r == -ENOENT)
                return 0; /* never saved: nothing left recently */
        if (r < 0)
                return r;
        r = rate_window_load(&src->window, text, now_monotonic_usec(), now_realtime_usec());
        if (r < 0)
                return r;
        pump(src); /* requests queued before the load wait as they should now */
        return 0;
}

int source_save_pace(struct source *src, struct store *store)
{
        _cleanup_free_ char *text = NULL;
        int r = rate_window_save(&src->window, now_monotonic_usec(), now_realtime_usec(), &text);
        if (r < 0)
                return r;
        r = store_kv_put_text(store, REQUEST_WINDOW_KEY, text);
        if (r < 0)
                return r;
        src->window_changed = false;
        return 0;
}
