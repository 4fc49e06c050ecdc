/* source.h — the VK API client: sends requests over http.c, paced by a sliding window.
 *
 * Every VK request of every verb goes through here. The token goes in "Authorization: Bearer" and
 * nowhere else: not in the URL, not in the body, not in a log line. Requests wait in a FIFO until
 * the window (budget.h) lets one more leave; nothing sleeps.
 */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "post.h"
#include "store.h"
#include "vk.h"

struct source;

/* res is NULL when the request failed below the API; then error_code is one of the
 * VK_ERROR_CODE_* pseudo codes (VK_ERROR_CODE_TOO_LARGE: asking again brings the same answer)
 * and msg says why. res is the callee's to read during the call; the source frees it afterwards,
 * a step of the event loop at a time. */
typedef void (*source_done_fn)(struct vk_result *res, int error_code, const char *msg,
                               void *userdata);

int source_new(sd_event *event, struct http *http, const struct config *conf, const char *token,
               struct source **ret);
struct source *source_free(struct source *src);

/* Calls method with form parameters (v is added). n_calls: 0 for a plain method, else the
 * number of inner calls of an execute. */
int source_call(struct source *src, const char *method, const char *const *keys,
                const char *const *values, size_t n_params, size_t n_calls, source_done_fn done,
                void *userdata);

/* One call of an execute of wall.get, read: w, the callee's to free, or a negative result (w
 * NULL) with a static reason when the call's answer is no wall (post.h, wall_from_json). */
typedef void (*source_wall_fn)(size_t i, struct wall *w, int result, const char *reason,
                               void *userdata);

/* execute with up to 25 wall.get calls. wall() gets the wall of every call that succeeded, while
 * the answer is read (one wall's JSON alive at a time), before done() gets the result; its
 * calls[].response are NULL. */
int source_wall_get(struct source *src, const struct vk_wall_request *reqs, size_t n,
                    source_wall_fn wall, source_done_fn done, void *userdata);

/* Requests sent since creation (for figures and tests). */
unsigned source_requests_sent(const struct source *src);
unsigned source_pending(const struct source *src);

/* VK answered error 6 or 9 anyway: the next request waits a whole window from now. The source
 * does this itself for a top-level error 6 or 9; callers may add it for an inner one. */
void source_slow_down(struct source *src);
/* The window of recent departures as the store keeps it (kv text "vk.request_window", realtime),
 * so that back-to-back processes together keep to the limit. Load after source_new, before the
 * first request (0 when nothing was saved, -EBADMSG when the saved text is malformed: then the
 * window starts empty); from then on source_free saves it back to that store if any request left
 * since. source_save_pace saves now (after a sweep, before a reload swaps sources). */
int source_load_pace(struct source *src, struct store *store);
int source_save_pace(struct source *src, struct store *store);
