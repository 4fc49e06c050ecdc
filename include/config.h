/* config.h — the watch list and settings, as one immutable snapshot.
 *
 * config_load() reads YAML (yaml_tree.h's tree, with marks), validates everything, and either
 * returns a complete snapshot or every error it found as "FILE:LINE:COL: message". Nothing else
 * ever changes a snapshot; a reload builds a new one and swaps it in whole.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "classify.h"
#include "util.h"
#include "yaml_tree.h" /* struct conf_mark, struct config_errors and their functions */

#define CONFIG_DEFAULT_PATH GOVWATCH_CONFIG_DEFAULT_PATH /* CMake: sysconfdir/govwatch/... */

/* A community reference as written in the watch list, before resolution. */
enum community_ref_kind {
        COMMUNITY_REF_ID,          /* -123, club123, public123, event123: owner_id known */
        COMMUNITY_REF_USER_ID,     /* 123, id123: a personal page */
        COMMUNITY_REF_SCREEN_NAME, /* sevadm, https://vk.com/sevadm: needs resolving */
};

struct community_ref {
        enum community_ref_kind kind;
        int64_t owner_id;  /* for *_ID kinds: negative for communities */
        char *screen_name; /* for SCREEN_NAME, lower-case */
        char *raw;         /* as written */
        struct conf_mark mark;
};

/* Parses "https://vk.com/x", "vk.ru/x", "m.vk.com/x", "club1", "public1", "event1", "id1",
 * "-1", "1", "screen_name". -EINVAL with a static reason on anything else. */
int community_ref_parse(const char *s, struct community_ref *ret, const char **ret_reason);
/* Frees what community_ref_parse() allocated (screen_name, raw); accepts NULL. */
void community_ref_done(struct community_ref *r);

/* The keys every sink has; a type's own live in its settings (sink.h, sinks/TYPE.c). */
/* What quiet hours do to a notification: wait for the window to end, or go at once without a
 * sound (a sink type whose sink_ops.can_silence says it can). */
enum quiet_mode {
        QUIET_DEFER,
        QUIET_SILENT,
};

struct sink_conf {
        char *name;
        char *type; /* a type of the sink registry, sink.h */
        struct conf_mark mark;
        char *template_title;
        char *template_body;
        size_t max_length;                  /* 0: the sink's own default */
        char *quiet_hours;                  /* "23:00-07:00" or NULL */
        int quiet_start_min, quiet_end_min; /* minutes of the day; -1 when no quiet hours */
        bool quiet_emergency;               /* true: emergencies wait too */
        int quiet_mode;                     /* enum quiet_mode */
        unsigned concurrency;               /* in-flight sends; 0: the type's (sink_concurrency) */
        uint64_t timeout_usec;
        /* The type's own keys: the struct its sink_ops.settings describe, private to
         * sinks/TYPE.c; NULL for a type without keys of its own. */
        void *settings;
};

struct watch_conf {
        char *topic;
        struct community_ref *communities;
        size_t n_communities;
        uint64_t categories; /* mask over the classifier's categories */
        bool all_categories;
        bool uncategorized; /* also send posts with no category */
        size_t *sinks;      /* indices into config.sinks */
        size_t n_sinks;
        int priority;               /* scheduler weight, default 1 */
        uint64_t max_interval_usec; /* poll at least this often; 0: the scheduler's bound */
        unsigned backfill;          /* first sight: notify the newest N posts, default 0 */
        struct conf_mark mark;
};

struct config {
        char *path;
        struct {
                char *api_url;
                char *token_file;
                char *version;
                double requests_per_second;
                unsigned daily_wall_get;
                uint64_t timeout_usec;
                unsigned wall_count; /* posts per wall.get, default 20 */
        } vk;
        char *state_dir;
        /* The longest sleep between sweeps, default 5m: when a community is polled is the
         * scheduler's (within min/max_interval), but the daemon asks it again at least this often.
         * Also the wait before a sweep that failed to start is tried again, and the least time
         * between two resolutions of a watch list a transient error left partly unresolved. */
        uint64_t poll_interval_usec;
        uint64_t min_interval_usec; /* scheduler bounds per community */
        uint64_t max_interval_usec;
        char *timezone;
        bool resend_on_category_change; /* edited post whose categories changed: send again */
        bool skip_ads;                  /* default true */
        bool skip_donut;                /* default true */
        uint64_t remind_before_usec;    /* default 15m */
        uint64_t outbox_expire_usec;    /* default 4d */
        uint64_t history_keep_usec;     /* default 30d */
        char *metrics_file;             /* node_exporter textfile (metrics.h); NULL: none */
        char **alerts;                  /* sink names for alerts about the daemon itself */
        struct {
                unsigned community; /* failed polls of one wall in a row (default 3) */
                unsigned sink;      /* failed sends of one sink in a row (default 5) */
        } alert_after;
        struct {
                char *rules_file; /* NULL: default rules */
                struct classify_user_category *user;
                size_t n_user;
                char **examples; /* an admin's labelled posts (corpus.h), NULL: none */
        } classifier;
        struct sink_conf *sinks;
        size_t n_sinks;
        struct name_index sink_index; /* sinks by name, for config_find_sink() */
        struct watch_conf *watch;
        size_t n_watch;
        /* every category name usable in watch entries (built-ins, then user-defined) */
        char **category_names;
};

/* Loads and validates path. On failure returns -EINVAL (or -errno for an unreadable file) and
 * fills errors (which the caller must config_errors_done()). */
int config_load(const char *path, struct config **ret, struct config_errors *errors);
/* Same, from a memory buffer; path is only used in messages. */
int config_load_string(const char *path, const char *data, size_t size, struct config **ret,
                       struct config_errors *errors);

struct config *config_free(struct config *c);
static inline void config_freep(struct config **c)
{
        *c = config_free(*c);
}
#define _cleanup_config_free_ _cleanup_(config_freep)

/* Prints every key with its default and description, from the same tables that parse the file
 * (for --help-style output and the man page). */
void config_settings_print(FILE *f);

/* Finds a sink by name; -1 when there is none. */
ssize_t config_find_sink(const struct config *c, const char *name);

/* Reads the VK token: vk.token_file, else $GOVWATCH_VK_TOKEN, else
 * $CREDENTIALS_DIRECTORY/vk-token. Never logs the value. */
int config_read_token(const struct config *c, char **ret);

/* One key of the file, as the loader's own tables describe it: for the man page, govwatch.yaml(5),
 * which is generated from these at build time so that no key goes undocumented. */
enum config_key_kind {
        CONFIG_KEY_VALUE,   /* a value: a string, a number, a list of strings, ... */
        CONFIG_KEY_SECTION, /* a mapping of fixed keys, which follow it: vk, classifier */
        CONFIG_KEY_MAP,     /* NAME: {...} for any name, its keys follow as "sinks.NAME.url" */
        CONFIG_KEY_LIST,    /* a list of mappings, its keys follow as "watch[].topic" */
};

struct config_key {
        const char *path; /* "vk.api_url", "sinks.NAME.url", "watch[].topic" */
        enum config_key_kind kind;
        const char *type;          /* "string", "path", "boolean", "whole number", "number",
                                    * "duration", "list of strings", "one word"; NULL: see the
                                    * description */
        const char *default_value; /* as written in the file; NULL: none */
        const char *description;
        const char *const *values; /* "one word": the words allowed, NULL-terminated */
        const char *only_for;      /* a sink type's own key: that type ("email"); NULL */
        const char *required_for;  /* NULL: optional; "": required; or the sink type needing it */
        bool positive;             /* numbers and durations: must be > 0 */
        uint64_t min, max;         /* whole numbers; max 0: no upper bound */
};
/* Returns < 0 to stop the walk with that value. key and its strings live for the call only. */
typedef int (*config_key_fn)(const struct config_key *key, void *userdata);
/* Calls fn for every key config_load() accepts, in the order of its tables, a section (or map, or
 * list) before its own keys. 0 when every key was visited. */
int config_keys_foreach(config_key_fn fn, void *userdata);
