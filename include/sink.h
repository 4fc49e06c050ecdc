/* sink.h — where notifications go: one ops table per sink type, a registry by type name.
 *
 * send() is asynchronous on the event loop: it returns 0 at once and calls done exactly once,
 * later or (for sinks with nothing to wait for) before returning; or it returns a negative errno
 * and never calls done. A slow or failing sink never blocks another.
 *
 * Adding a sink type is one file and one line: src/sinks/TYPE.c (CMakeLists.txt globs it) holds
 * the sink, the struct of its own settings, their table (setting.h) and its sink_ops; its line
 * goes in SINK_TYPES (sink.c), which declares it and lists it in sink_registry. config.c finds the
 * type by name in the registry, parses the keys every sink has (struct sink_conf) and the type's
 * own from its table, refuses a key of another type's table saying whose it is, and
 * govwatch.yaml(5) lists the type and its keys from the same table. Then its tests (README.md,
 * "Writing a sink").
 */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "notification.h"

struct setting;        /* setting.h: what a sink type's own table is made of */
struct setting_errors; /* setting.h */

/* HELD is not a kind of TRY_LATER: a hold is the sink doing its job (OpenSMTPD tells its queue
 * "delivery hold" by its own message, not as a temporary failure with a long delay), so only a
 * TRY_LATER counts an attempt, towards the sink's alert and towards `expire`. */
enum sink_result {
        SINK_ACCEPTED,  /* delivered: the outbox row is done */
        SINK_HELD,      /* taken into the sink's own hold (a digest): hand it over again at
                         * retry_after_usec (> 0), exactly then; not a failure */
        SINK_TRY_LATER, /* transient failure: retry with backoff, no sooner than
                         * retry_after_usec when non-zero; a dead letter past `expire` */
        SINK_REJECTED,  /* permanent: move to dead letters */
};
const char *sink_result_name(enum sink_result r);

struct sink;

/* detail: a short human-readable reason (server reply, exit status), may be NULL. */
typedef void (*sink_done_fn)(struct sink *s, enum sink_result result, uint64_t retry_after_usec,
                             const char *detail, void *userdata);

/* What a sink may use from the daemon. */
struct sink_context {
        sd_event *event;
        struct http *http;
        FILE *console; /* the console sink's stream (stdout) */
};

struct sink_ops {
        const char *type; /* the value of `type:` */
        /* The keys of this type beyond those every sink has (SINK_SETTINGS below), parsed into
         * a zeroed block of settings_size bytes, the type's own struct, that conf->settings
         * points to; what they hold is freed through the table. SETTING_SECTION and
         * SETTING_CUSTOM rows are config.c's alone. NULL, 0, 0: none. */
        const struct setting *settings;
        size_t n_settings;
        size_t settings_size;
        /* Checks across the type's own keys, after each has parsed on its own (a key with an
         * error keeps its default); reports through e, setting.h. NULL: none. */
        void (*check)(const struct sink_conf *conf, struct setting_errors *e);
        /* Sends in flight at once unless the admin sets concurrency; 0: 4. A chat or a phone's
         * list shows messages as they arrive: 1 keeps them in the order they were queued. */
        unsigned concurrency;
        /* The type can deliver without a sound (notification.silent): quiet_mode: silent is
         * accepted for it, and in its quiet hours the outbox sends at once, silently. */
        bool can_silence;
        int (*create)(const struct sink_conf *conf, const struct sink_context *ctx,
                      struct sink **ret);
        int (*send)(struct sink *s, const struct notification *n, sink_done_fn done,
                    void *userdata);
        void (*free)(struct sink *s);
        /* The title and body this type of sink would show for n with these settings, as plain
         * text before its medium's escaping: what send() delivers, and what a preview prints.
         * conf->settings may be NULL. */
        int (*render)(const struct sink_conf *conf, const struct notification *n, char **ret_title,
                      char **ret_body);
};

/* .settings, .n_settings and .settings_size of a sink_ops, from the table and its struct. */
#define SINK_SETTINGS(table, settings_type)                                                        \
        .settings = (table), .n_settings = ELEMENTSOF(table), .settings_size = sizeof(settings_type)

/* Every sink starts with this header; backends embed it first and add their own state. */
struct sink {
        const struct sink_ops *ops;
        const struct sink_conf *conf; /* borrowed from the config snapshot that created it */
        const char *name;
};

/* Every sink type this build knows, NULL-terminated: the one list of them. */
extern const struct sink_ops *const sink_registry[];
const struct sink_ops *sink_ops_find(const char *type);

int sink_create(const struct sink_conf *conf, const struct sink_context *ctx, struct sink **ret);
/* The title and body from the sink's templates (conf may be NULL), else these defaults; the body
 * cut at body_max_bytes (0: whole). What most render() implementations are. */
int sink_render_templates(const struct sink_conf *conf, const struct notification *n,
                          const char *default_title, const char *default_body,
                          size_t body_max_bytes, char **ret_title, char **ret_body);
/* The sink type's render() for conf; -EOPNOTSUPP for a type this build does not know. */
int sink_render(const struct sink_conf *conf, const struct notification *n, char **ret_title,
                char **ret_body);
struct sink *sink_free(struct sink *s);
/* How many sends of a sink may be in flight: its concurrency key, else its type's, else 4. */
unsigned sink_concurrency(const struct sink_conf *conf, const struct sink_ops *ops);
static inline int sink_send(struct sink *s, const struct notification *n, sink_done_fn done,
                            void *userdata)
{
        return s->ops->send(s, n, done, userdata);
}
