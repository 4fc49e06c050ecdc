/* vk.h — the VK API as data: building execute batches, reading answers, classifying errors.
 *
 * Pure: no I/O, no logging. The HTTP shell (source.c) sends what this builds and hands the bytes
 * back here. Tokens never pass through this module: they go in a header, added by the shell.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define VK_EXECUTE_MAX_CALLS 25
#define VK_GETBYID_MAX       500
#define VK_USERS_GET_MAX     500 /* users.get takes 1000; batched like groups.getById */
#define VK_USER_NAME_MAX     256 /* bytes of a person's name kept; VK's are far shorter */

/* Work bounds on one API answer, which the daemon reads on its event loop.
 * The size: an execute of 25 wall.get of 20 posts is about 0.5 MB, of 100 posts (vk.wall_count's
 * maximum) about 2.5 MB; a wall of long posts, reposts and attachments a few times that. 32 MiB
 * leaves room for all of that and bounds what a broken proxy or a hostile server can make us
 * hold and parse (a body, then a tree about five times its size). The HTTP shell stops reading
 * past it (http_buffer_attach's cap, counted on decoded bytes, so a compressed answer cannot
 * expand past it either) and the parsers refuse a larger body too.
 * The depth: real answers nest 13 levels at most (an execute of wall.get with a repost's
 * attachments); past 128 it is not VK. */
#define VK_ANSWER_MAX_MIB   32
#define VK_ANSWER_MAX_BYTES ((size_t)VK_ANSWER_MAX_MIB * 1024 * 1024)
#define VK_ANSWER_DEPTH_MAX 128
/* The work of one step of the event loop on an answer. The daemon reads answers a piece at a
 * time (vk_reader_step), each step about VK_STEP_BYTES, and never parses more than VK_PIECE_MAX
 * bytes in one go: the arrays and objects of the first VK_PIECE_DEPTH - 1 levels are taken apart
 * by hand, and what is below them (in an execute of wall.get: a post, a group, a profile) or a
 * string, a number or a literal anywhere must fit in VK_PIECE_MAX. A real post, its text at VK's
 * 16,384 characters, a repost and ten photo attachments inside, is under 100 KiB. Parsing runs at
 * 20-45 ms a MiB (bench-hostile), so one step costs at most about 30 ms. */
#define VK_PIECE_MAX_KIB 256
#define VK_PIECE_MAX     ((size_t)VK_PIECE_MAX_KIB * 1024)
#define VK_PIECE_DEPTH   5 /* root 1, "response" 2, a call's answer 3, "items" 4, a post 5 */
#define VK_STEP_BYTES    ((size_t)64 * 1024)
#define VK_SCAN_BYTES    ((size_t)4 * 1024 * 1024) /* checked a step before parsing: ~5 ms */
/* At most this many entries in an array or object the reader takes apart by hand (above the
 * pieces): 25 calls, 100 posts, 500 groups or users in real answers. */
#define VK_ITEMS_MAX 10000
/* Values freed a step (vk_graveyard_release): a tree is released as it was read, a piece of the
 * event loop's time at a time. About 5 ms. */
#define VK_RELEASE_VALUES 16384

/* What an error code means for the poller (DESIGN.md, "Errors to tell apart"). */
enum vk_error_class {
        VK_ERROR_NONE,
        VK_ERROR_TOKEN,     /* 5: stop polling, say so loudly */
        VK_ERROR_RATE,      /* 6, 9: slow down globally */
        VK_ERROR_TRANSIENT, /* 1, 10, 13, HTTP 5xx, timeouts, malformed JSON: retry the batch */
        VK_ERROR_COMMUNITY, /* 15, 18, 30, 203: that community only */
        VK_ERROR_QUOTA,     /* 29: pause wall.get until the window frees */
        VK_ERROR_CONFIG,    /* 100, 104, 113: the watch list names something wrong */
        VK_ERROR_OTHER,
};
enum vk_error_class vk_error_class_of(int code);
const char *vk_error_class_name(enum vk_error_class c);

/* Pseudo error codes for failures below the API (never sent by VK, all negative). */
#define VK_ERROR_CODE_HTTP      (-1) /* non-2xx status */
#define VK_ERROR_CODE_TRANSPORT (-2) /* connect/timeout/reset */
#define VK_ERROR_CODE_MALFORMED (-3) /* not JSON, truncated, wrong shape */
#define VK_ERROR_CODE_TOO_LARGE (-4) /* over VK_ANSWER_MAX_BYTES or a piece over VK_PIECE_MAX */

struct vk_wall_request {
        int64_t owner_id;
        unsigned count;
        unsigned offset;
};

/* VKScript for one execute: "return [API.wall.get({...}),...];" (1..25 calls), each with
 * extended=1 so that the answer names the communities reposted originals came from. */
int vk_execute_code_wall_get(const struct vk_wall_request *reqs, size_t n, char **ret);

/* Form body "code=...&v=..." (percent-encoded). */
int vk_form_body(const char *const *keys, const char *const *values, size_t n, char **ret);

struct vk_call_result {
        int error_code;   /* 0 on success */
        char *error_msg;  /* NULL on success */
        json_t *response; /* borrowed from the owning result's root; NULL on error */
};

struct vk_result {
        json_t *root;
        int error_code; /* a top-level error: every call failed with it */
        char *error_msg;
        struct vk_call_result *calls;
        size_t n_calls;
};
struct vk_result *vk_result_free(struct vk_result *r);

/* Trees waiting to be freed a step at a time: freeing what 32 MiB of JSON became takes as long as
 * reading it did, which the event loop must not spend at once either. bury takes the reference to
 * a tree read from bytes of an answer: one from at most VK_PIECE_MAX bytes (a real wall, a small
 * answer) is freed now, as is any with a NULL graveyard; release frees max_values values, leaves
 * first, and says whether all is gone; done frees the rest now. */
struct vk_graveyard {
        json_t **trees;
        size_t n, allocated;
};
void vk_graveyard_bury(struct vk_graveyard *g, json_t *v, size_t bytes);
bool vk_graveyard_release(struct vk_graveyard *g, size_t max_values);
void vk_graveyard_done(struct vk_graveyard *g);
static inline void vk_result_freep(struct vk_result **r)
{
        *r = vk_result_free(*r);
}

/* Parses any API answer body: {"response": X} or {"error": {...}}. The JSON accepted is one
 * object, after at most one UTF-8 BOM and before nothing but white space, holding no NUL byte,
 * no duplicate key, at most VK_ANSWER_MAX_BYTES long, at most VK_ANSWER_DEPTH_MAX levels deep, and
 * no piece over VK_PIECE_MAX. A top-level "error" wins over "response". For execute, pass
 * n_calls > 0: "response" must be an array of that length (or null), false entries are matched in
 * order with the entries of "execute_errors" that are not about the execute itself
 * ("method":"execute"). For a plain method pass 0: calls has one entry. Any other body gives
 * -EBADMSG (-EFBIG for one too large) and *ret_reason (when not NULL). This one parses the answer
 * whole with jansson: it is the reference the piecewise reader (vk_reader) is checked against. */
int vk_result_parse(const char *body, size_t size, size_t n_calls, struct vk_result **ret,
                    const char **ret_reason);

/* vk_result_parse for an execute answer (n_calls > 0) that hands the response of each call that
 * succeeded to each(), once and in order, instead of keeping it: calls[i].response stays NULL.
 * It is the piecewise reader below in one step: each call's tree is released when each() returns,
 * so memory holds one wall's tree rather than the whole answer's (25 walls of 20 posts: 0.5 MB of
 * text, 2.5 MB as one tree). The answers accepted and the results are the same as
 * vk_result_parse's: one front half checks the bytes, one back half rules on what was read, and
 * the fuzzer compares the rest. A negative return of each() fails the parse with it. Before a
 * failure, or a top-level "error" at the end of the answer, each() may have been called: use what
 * it kept only for calls whose error_code is 0, and only when the parse succeeded. */
typedef int (*vk_call_fn)(size_t i, const json_t *response, void *userdata);
int vk_result_parse_each(const char *body, size_t size, size_t n_calls, vk_call_fn each,
                         void *userdata, struct vk_result **ret, const char **ret_reason);

/* The daemon's reader: vk_result_parse_each (each set, n_calls > 0) or vk_result_parse (each
 * NULL) a step at a time. vk_reader_new checks the bytes (one linear pass: -EBADMSG, or -EFBIG
 * for an answer over VK_ANSWER_MAX_BYTES, a piece over VK_PIECE_MAX or more than VK_ITEMS_MAX
 * entries above the pieces); body must outlive the reader. Each vk_reader_step reads on for about
 * budget bytes and returns 0 while there is more, 1 with *ret when the answer is read, or a
 * negative errno with *ret_reason. Same answers, same results, as vk_result_parse (the fuzzer
 * checks it, at every budget). What each() was given, and what a failed or freed reader had
 * built, goes to graves (NULL: freed at once). */
struct vk_reader;
int vk_reader_new(const char *body, size_t size, size_t n_calls, vk_call_fn each, void *userdata,
                  struct vk_graveyard *graves, struct vk_reader **ret, const char **ret_reason);
int vk_reader_step(struct vk_reader *r, size_t budget, struct vk_result **ret,
                   const char **ret_reason);
struct vk_reader *vk_reader_free(struct vk_reader *r);
static inline void vk_reader_freep(struct vk_reader **r)
{
        *r = vk_reader_free(*r);
}

struct vk_group {
        int64_t id; /* positive group id; owner_id is -id */
        char *screen_name;
        char *name;
        bool is_closed;
        const char *deactivated; /* NULL, "deleted", "banned" or "deactivated" (another value) */
};
/* groups.getById's response: {"groups":[...]} (5.199) or a bare array (older versions). */
int vk_groups_parse(const json_t *response, struct vk_group **ret, size_t *ret_n);
void vk_groups_free(struct vk_group *g, size_t n);

struct vk_user {
        int64_t id;              /* positive: the owner_id of the personal page */
        char *name;              /* "First Last" as one line of text; NULL when deactivated */
        const char *deactivated; /* NULL, "deleted", "banned" or "deactivated" (another value) */
};
/* users.get's response (5.199): a bare array of users. An entry without a positive integer id is
 * skipped, and so is an active user without first_name and last_name strings or a deactivated
 * that is not a string: the caller treats an id missing from the answer as one VK did not name.
 * A deactivated user has no name (VK puts "DELETED" there). Control characters, line and
 * paragraph separators become spaces, bidi controls are dropped, runs of spaces shrink to one and
 * the name is cut to VK_USER_NAME_MAX bytes on a character boundary: it is untrusted text that
 * ends up in log lines, status tables and notification titles. */
int vk_users_parse(const json_t *response, struct vk_user **ret, size_t *ret_n);
void vk_users_free(struct vk_user *u, size_t n);

/* utils.resolveScreenName's response: {"object_id":N,"type":"group"|"user"|...}, or [] when
 * the name is unknown (-ENOENT). Returns the owner_id (negative for groups). */
int vk_resolve_parse(const json_t *response, int64_t *ret_owner_id);
