/* sink.h — where notifications go: one ops table per sink type, a registry by type name.
 *
 * send() is asynchronous on the event loop: it returns 0 at once and calls done exactly once,
 * later or (for sinks with nothing to wait for) before returning; or it returns a negative errno
 * and never calls done. A slow or failing sink never blocks another.
 *
 * Adding a sink type is more than one file and one line today, because config.c, not the sink,
 * owns every sink's settings. It takes the file under src/sinks/ (CMakeLists.txt globs it), its
 * extern below, its lines in sink_registry and sink_type_names (sink.c); in config.c a SINK_*
 * value, its name in config.c's own sink_type_names, the type lists in the "type" key's
 * description and in the unknown-type error, a row in sink_settings for each key of its own,
 * whose valid_for names the types that implement the key (the loader refuses it on others), and
 * any check across keys in parse_sink(); its fields in struct sink_conf (config.h); its section
 * in README.md and govwatch.yaml(5).
 */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "notification.h"

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
        const char *type; /* "console", "desktop", "email", "exec", "webhook" */
        int (*create)(const struct sink_conf *conf, const struct sink_context *ctx,
                      struct sink **ret);
        int (*send)(struct sink *s, const struct notification *n, sink_done_fn done,
                    void *userdata);
        void (*free)(struct sink *s);
        /* The title and body this type of sink would show for n with these settings, as plain
         * text before its medium's escaping: what send() delivers, and what a preview prints. */
        int (*render)(const struct sink_conf *conf, const struct notification *n, char **ret_title,
                      char **ret_body);
};

/* Every sink starts with this header; backends embed it first and add their own state. */
struct sink {
        const struct sink_ops *ops;
        const struct sink_conf *conf; /* borrowed from the config snapshot that created it */
        const char *name;
};

extern const struct sink_ops sink_console_ops; /* sinks/console.c */
extern const struct sink_ops sink_desktop_ops; /* sinks/desktop.c */
extern const struct sink_ops sink_email_ops;   /* sinks/email.c */
extern const struct sink_ops sink_exec_ops;    /* sinks/exec.c */
extern const struct sink_ops sink_webhook_ops; /* sinks/webhook.c */

const struct sink_ops *sink_ops_find(const char *type);
/* The registry's type names, NULL-terminated: what the render fuzzer goes through. config.c
 * has a list of its own, indexed by its SINK_* values for the valid_for masks. */
extern const char *const sink_type_names[];

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
static inline int sink_send(struct sink *s, const struct notification *n, sink_done_fn done,
                            void *userdata)
{
        return s->ops->send(s, n, done, userdata);
}
