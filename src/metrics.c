/* metrics.c — the daemon seen from a monitoring system: a node_exporter textfile and the
 * healthcheck verb (metrics.h).
 *
 * Counters (polls, VK errors, posts, sink answers) live in memory and count since the process
 * started. Gauges of state come from where `status` reads them — the store's outbox counts by
 * sink, the alert counters, the kv row of the last successful sweep — and the quota from the
 * daemon's own budget window, so the file, `status` and healthcheck never disagree.
 *
 * The file is written whole to a temporary file beside it and renamed over it, so that a reader
 * (node_exporter reads *.prom; the temporary name does not end so) sees the old file or the new
 * one, never half of one. It must never fail or stall the daemon: a file that cannot be written is
 * warned about once, until it can be again; nothing is fsynced (a lost write is rewritten after
 * the next sweep or delivery round).
 *
 * Whether the daemon runs, healthcheck learns from a lock: `run` holds an open file description
 * lock on state_dir/govwatchd.lock for its whole life, which the kernel drops when the process
 * dies however it dies. healthcheck only asks (F_OFD_GETLK), so it never takes the lock from
 * under a daemon that is starting. That works wherever the state directory is shared: the
 * hardened system unit (run healthcheck as root), a container (the same file system), a
 * monitoring check on the host of a bind-mounted state directory.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "detect.h"
#include "govwatch.h"
#include "log.h"
#include "metrics.h"
#include "sweep.h"
#include "tz_cache.h"

struct code_count {
        int code;
        uint64_t n;
};

struct answer_count {
        char *sink;
        char *category;
        enum sink_result result;
        uint64_t n;
};

struct metrics {
        int64_t start; /* unix time */
        uint64_t polls_ok, polls_error, posts_seen;
        struct code_count *vk_errors;
        size_t n_vk_errors, vk_errors_allocated;
        struct answer_count *answers;
        size_t n_answers, answers_allocated;
        int lock_fd;
        bool write_failed; /* warned; said again only after a write that worked */
};

static int64_t now_sec(void)
{
        return (int64_t)(now_realtime_usec() / USEC_PER_SEC);
}

int metrics_new(struct metrics **ret)
{
        struct metrics *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->start = now_sec();
        m->lock_fd = -1;
        *ret = m;
        return 0;
}

struct metrics *metrics_free(struct metrics *m)
{
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_answers; i++) {
                free(m->answers[i].sink);
                free(m->answers[i].category);
        }
        free(m->answers);
        free(m->vk_errors);
        if (m->lock_fd >= 0)
                close(m->lock_fd); /* the lock goes with it */
        free(m);
        return NULL;
}

/* ---- counting ------------------------------------------------------------------------------ */

void metrics_sweep_done(struct govwatch *gw, const struct sweep_outcome *o)
{
        struct metrics *m = gw->metrics;
        unsigned read = 0, failed = 0, answered = 0;

        if (!m)
                return;
        for (size_t i = 0; i < o->n_walls; i++) {
                read += o->walls[i].result == SWEEP_WALL_READ;
                failed += o->walls[i].result == SWEEP_WALL_FAILED;
                answered += o->walls[i].result == SWEEP_WALL_READ ||
                            (o->walls[i].result == SWEEP_WALL_FAILED && o->walls[i].error_code > 0);
        }
        /* a wall whose request went out but whose answer never came (the batch failed, the
         * answer was malformed) failed too, without a wall result of its own */
        m->polls_ok += read;
        m->polls_error += o->polled > read + failed ? o->polled - read : failed;

        /* VK answered for a wall: the daemon, the network and the token work, whatever the
         * wall's own state (a wall closed to us is the admin's alert, not the daemon's health) */
        if (gw->dry_run || !gw->store || o->result < 0 || answered == 0)
                return;
        int r = store_kv_put_int(gw->store, METRICS_LAST_SWEEP_KEY, now_sec());
        if (r < 0)
                log_warning_errno(r, "Failed to record the time of the last sweep, ignoring: %s",
                                  store_errmsg(gw->store));
}

void metrics_vk_error(struct govwatch *gw, int code)
{
        struct metrics *m = gw->metrics;

        if (!m || code <= 0)
                return;
        for (size_t i = 0; i < m->n_vk_errors; i++)
                if (m->vk_errors[i].code == code) {
                        m->vk_errors[i].n++;
                        return;
                }
        if (!greedy_realloc((void **)&m->vk_errors, &m->vk_errors_allocated, m->n_vk_errors + 1,
                            sizeof(*m->vk_errors)))
                return;
        m->vk_errors[m->n_vk_errors++] = (struct code_count){.code = code, .n = 1};
}

void metrics_posts_recorded(struct govwatch *gw, const struct detect_result *d)
{
        if (!gw->metrics)
                return;
        /* the posts that got a row: new ones (and a first sight's backfill), and old ones found
         * edited without a row; a resend updates a row it had */
        for (size_t i = 0; i < d->n_posts; i++)
                gw->metrics->posts_seen +=
                        d->posts[i].verdict == DETECT_NEW || d->posts[i].verdict == DETECT_RECORD;
}

/* The category a sink's answer counts under: the notification's first (the rules' order), so
 * that summing over categories counts each notification once; an alert about the daemon has
 * none, and counts as "alert". */
static const char *answer_category(const struct notification *n)
{
        if (n->categories && n->categories[0])
                return n->categories[0];
        return n->kind ? n->kind : "none";
}

void metrics_notification(struct govwatch *gw, const char *sink, const struct notification *n,
                          enum sink_result result)
{
        struct metrics *m = gw->metrics;
        const char *category = answer_category(n);

        if (!m || !sink)
                return;
        for (size_t i = 0; i < m->n_answers; i++) {
                struct answer_count *a = &m->answers[i];
                if (a->result == result && streq(a->sink, sink) && streq(a->category, category)) {
                        a->n++;
                        return;
                }
        }
        if (!greedy_realloc((void **)&m->answers, &m->answers_allocated, m->n_answers + 1,
                            sizeof(*m->answers)))
                return;
        struct answer_count a = {
                .sink = strdup(sink), .category = strdup(category), .result = result, .n = 1};
        if (!a.sink || !a.category) {
                free(a.sink);
                free(a.category);
                return;
        }
        m->answers[m->n_answers++] = a;
}

/* ---- the state `status` shows, shared with healthcheck ------------------------------------- */

/* 1 and the row when the sink has failed alert_after.sink sends in a row (it is alerted), 0 when
 * not, or a negative errno. */
static int sink_failing(struct store *s, const struct config *conf, const char *sink,
                        struct alert_row *ret)
{
        _cleanup_free_ char *subject = NULL;
        struct alert_row a = {0};
        int r = alert_subject(ALERT_SINK, 0, sink, &subject);
        if (r < 0)
                return r;
        r = store_alert_get(s, subject, &a);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!a.alerted && a.failures < alert_threshold(conf, ALERT_SINK)) {
                free(a.last_error);
                return 0;
        }
        *ret = a;
        return 1;
}

/* 1 and the row when the last thing VK said of the token is that it refused it, else 0. */
static int token_refused(struct store *s, struct alert_row *ret)
{
        struct alert_row a = {0};
        int r = store_alert_get(s, "token", &a);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (a.failures == 0) {
                free(a.last_error);
                return 0;
        }
        *ret = a;
        return 1;
}

/* ---- the textfile ---------------------------------------------------------------------------
 */

int metrics_append_label_value(struct strbuf *sb, const char *s)
{
        int r = 0;
        for (const char *p = s; r >= 0 && *p; p++) {
                size_t plain = strcspn(p, "\\\"\n");
                r = strbuf_append(sb, p, plain);
                p += plain;
                if (r < 0 || !*p)
                        break;
                r = strbuf_puts(sb, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
        }
        return r;
}

static int family(struct strbuf *sb, const char *name, const char *type, const char *help)
{
        return strbuf_appendf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} n, the value escaped */
static int sample1(struct strbuf *sb, const char *name, const char *label, const char *value,
                   uint64_t n)
{
        int r = strbuf_appendf(sb, "%s{%s=\"", name, label);
        if (r >= 0)
                r = metrics_append_label_value(sb, value);
        if (r >= 0)
                r = strbuf_appendf(sb, "\"} %" PRIu64 "\n", n);
        return r;
}

static const char *result_label(enum sink_result r)
{
        switch (r) {
        case SINK_ACCEPTED:
                return "accepted";
        case SINK_HELD:
                return "held";
        case SINK_TRY_LATER:
                return "try_later";
        case SINK_REJECTED:
                return "rejected";
        }
        return "unknown";
}

static int render_counters(const struct metrics *m, struct strbuf *sb)
{
        int r = family(sb, "govwatch_start_time_seconds", "gauge",
                       "When this govwatchd process started, in unix time.");
        if (r >= 0)
                r = strbuf_appendf(sb, "govwatch_start_time_seconds %" PRId64 "\n", m->start);
        if (r >= 0)
                r = family(sb, "govwatch_polls_total", "counter",
                           "Walls polled since the daemon started: ok when read, error when VK "
                           "refused the wall or its answer never came.");
        if (r >= 0)
                r = strbuf_appendf(sb,
                                   "govwatch_polls_total{result=\"ok\"} %" PRIu64 "\n"
                                   "govwatch_polls_total{result=\"error\"} %" PRIu64 "\n",
                                   m->polls_ok, m->polls_error);
        if (r >= 0)
                r = family(sb, "govwatch_vk_errors_total", "counter",
                           "VK API errors in answers to wall.get batches (the whole request or "
                           "one wall) and to resolving, by VK error code.");
        for (size_t i = 0; r >= 0 && i < m->n_vk_errors; i++)
                r = strbuf_appendf(sb, "govwatch_vk_errors_total{code=\"%d\"} %" PRIu64 "\n",
                                   m->vk_errors[i].code, m->vk_errors[i].n);
        if (r >= 0)
                r = family(sb, "govwatch_posts_seen_total", "counter",
                           "Posts recorded as seen for the first time (new posts; a first "
                           "sight records only its backfill).");
        if (r >= 0)
                r = strbuf_appendf(sb, "govwatch_posts_seen_total %" PRIu64 "\n", m->posts_seen);
        if (r >= 0)
                r = family(sb, "govwatch_notifications_total", "counter",
                           "Sink answers to notifications, by sink, first category (alert for "
                           "the daemon's own alerts) and result.");
        for (size_t i = 0; r >= 0 && i < m->n_answers; i++) {
                const struct answer_count *a = &m->answers[i];
                r = strbuf_puts(sb, "govwatch_notifications_total{sink=\"");
                if (r >= 0)
                        r = metrics_append_label_value(sb, a->sink);
                if (r >= 0)
                        r = strbuf_puts(sb, "\",category=\"");
                if (r >= 0)
                        r = metrics_append_label_value(sb, a->category);
                if (r >= 0)
                        r = strbuf_appendf(sb, "\",result=\"%s\"} %" PRIu64 "\n",
                                           result_label(a->result), a->n);
        }
        return r;
}

static int render_quota(struct govwatch *gw, struct strbuf *sb)
{
        struct scheduler_status ss;
        int r;

        if (!gw->scheduler)
                return 0;
        scheduler_status(gw->scheduler, now_realtime_usec(), &ss);
        r = family(sb, "govwatch_vk_quota_limit", "gauge",
                   "The daily wall.get budget (vk.daily_wall_get).");
        if (r >= 0)
                r = strbuf_appendf(sb, "govwatch_vk_quota_limit %u\n", ss.limit);
        if (r >= 0)
                r = family(sb, "govwatch_vk_quota_used", "gauge",
                           "wall.get calls spent in the last 24 hours, execute's inner calls "
                           "included.");
        if (r >= 0)
                r = strbuf_appendf(sb, "govwatch_vk_quota_used %u\n", ss.used);
        if (r >= 0)
                r = family(sb, "govwatch_vk_quota_left", "gauge",
                           "wall.get calls left of the daily budget in the last 24 hours.");
        if (r >= 0)
                r = strbuf_appendf(sb, "govwatch_vk_quota_left %u\n",
                                   ss.limit > ss.used ? ss.limit - ss.used : 0);
        return r;
}

/* Outbox and alert state of each configured sink, as `status` reads it: each sink's counts read
 * once (a scan of its outbox rows), then written out family by family. A sink whose state cannot
 * be read is left out of all three. */
static int render_sinks(struct govwatch *gw, struct strbuf *sb)
{
        const struct config *conf = gw->conf;
        static const struct {
                const char *name, *help;
        } families[] = {
                {"govwatch_outbox_pending", "Notifications waiting for the sink (due or not)."},
                {"govwatch_outbox_dead", "Dead letters of the sink: given up on, kept."},
                {"govwatch_sink_failing",
                 "1 while the sink has failed alert_after.sink sends in a row, else 0."},
        };
        _cleanup_free_ uint64_t *v = calloc(conf->n_sinks * 3 + 1, sizeof(uint64_t));
        _cleanup_free_ bool *known = calloc(conf->n_sinks + 1, sizeof(bool));
        int r = 0;

        if (!v || !known)
                return -ENOMEM;
        for (size_t i = 0; i < conf->n_sinks; i++) {
                unsigned pending = 0, delivered = 0, dead = 0;
                struct alert_row a = {0};
                int failing = sink_failing(gw->store, conf, conf->sinks[i].name, &a);

                free(a.last_error);
                known[i] =
                        failing >= 0 && store_outbox_sink_counts(gw->store, conf->sinks[i].name,
                                                                 &pending, &delivered, &dead) >= 0;
                v[3 * i] = pending;
                v[3 * i + 1] = dead;
                v[3 * i + 2] = failing > 0;
        }
        for (size_t f = 0; r >= 0 && f < ELEMENTSOF(families); f++) {
                r = family(sb, families[f].name, "gauge", families[f].help);
                for (size_t i = 0; r >= 0 && i < conf->n_sinks; i++)
                        if (known[i])
                                r = sample1(sb, families[f].name, "sink", conf->sinks[i].name,
                                            v[3 * i + f]);
        }
        return r;
}

static int render_state(struct govwatch *gw, struct strbuf *sb)
{
        struct alert_row a = {0};
        int64_t last = 0;
        int r;

        r = family(sb, "govwatch_last_sweep_success_timestamp_seconds", "gauge",
                   "When a sweep last got VK's answer for a wall, in unix time (absent: never).");
        if (r >= 0 && store_kv_get_int(gw->store, METRICS_LAST_SWEEP_KEY, &last) >= 0)
                r = strbuf_appendf(
                        sb, "govwatch_last_sweep_success_timestamp_seconds %" PRId64 "\n", last);
        int refused = token_refused(gw->store, &a);
        free(a.last_error);
        if (r >= 0)
                r = family(sb, "govwatch_token_accepted", "gauge",
                           "0 when VK refused the token the last time it was used, else 1.");
        if (r >= 0)
                r = strbuf_appendf(sb, "govwatch_token_accepted %d\n",
                                   !(gw->token_invalid || refused > 0));
        if (r >= 0)
                r = family(sb, "govwatch_build_info", "gauge", "The version of govwatchd.");
        if (r >= 0)
                r = strbuf_puts(sb, "govwatch_build_info{version=\"" GOVWATCH_VERSION "\"} 1\n");
        return r;
}

/* text, whole, in place of path: .NAME.tmp beside it, renamed over it (node_exporter reads only
 * *.prom). Not synced: a write lost to a crash is made again after the next sweep. */
static int write_atomically(const char *path, const char *text, size_t size)
{
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;

        dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
        if (!dir || asprintf(&tmp, ".%s.tmp", name) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        /* node_exporter runs as its own user: the counts are no secret */
        int r = write_file_atomic(dirfd, name, tmp, text, size, 0644, 0, NULL);
        close(dirfd);
        return r;
}

void metrics_write(struct govwatch *gw)
{
        struct metrics *m = gw->metrics;
        struct strbuf sb = {0};
        const char *path = gw->conf ? gw->conf->metrics_file : NULL;
        int r;

        if (!m || !path || gw->dry_run || !gw->store)
                return;
        r = render_counters(m, &sb);
        if (r >= 0)
                r = render_quota(gw, &sb);
        if (r >= 0)
                r = render_sinks(gw, &sb);
        if (r >= 0)
                r = render_state(gw, &sb);
        if (r >= 0)
                r = write_atomically(path, sb.buf, sb.len);
        strbuf_done(&sb);
        if (r < 0 && !m->write_failed)
                log_warning_errno(r,
                                  "Failed to write the metrics file %s, ignoring: %m. Said once; "
                                  "it is tried again after each sweep and delivery round.",
                                  path);
        else if (r >= 0 && m->write_failed)
                log_info("Metrics file %s written again.", path);
        m->write_failed = r < 0;
}

/* ---- the daemon's lock --------------------------------------------------------------------- */

static char *lock_path(const char *state_dir)
{
        char *p = NULL;
        return asprintf(&p, "%s/%s", state_dir, METRICS_LOCK_FILENAME) < 0 ? NULL : p;
}

/* PID and start from the lock file's text; 0s when it says nothing readable. */
static void lock_read(int fd, int64_t *ret_pid, int64_t *ret_start)
{
        char buf[64] = "";
        ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);

        *ret_pid = *ret_start = 0;
        if (k > 0) {
                buf[k] = '\0';
                if (sscanf(buf, "%" SCNd64 " %" SCNd64, ret_pid, ret_start) != 2)
                        *ret_pid = *ret_start = 0;
        }
}

void metrics_daemon_started(struct govwatch *gw)
{
        struct metrics *m = gw->metrics;
        _cleanup_free_ char *path = NULL;
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        char text[64];
        int fd;

        if (!m || m->lock_fd >= 0 || !gw->conf->state_dir ||
            !(path = lock_path(gw->conf->state_dir)))
                return;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                log_warning_errno(errno,
                                  "Failed to create %s, ignoring: %m; healthcheck will "
                                  "report this daemon as not running.",
                                  path);
                return;
        }
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
                int64_t pid, start;
                lock_read(fd, &pid, &start);
                log_warning("Another govwatchd (PID %" PRId64 ") runs with the state directory "
                            "%s; both would poll and send the same. healthcheck sees that one.",
                            pid, gw->conf->state_dir);
                close(fd);
                return;
        }
        int n = snprintf(text, sizeof(text), "%d %" PRId64 "\n", (int)getpid(), m->start);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n)
                log_warning_errno(errno, "Failed to write %s, ignoring: %m", path);
        m->lock_fd = fd;
}

/* ---- healthcheck --------------------------------------------------------------------------- */

uint64_t healthcheck_default_max_age_usec(const struct config *conf)
{
        uint64_t age =
                conf->max_interval_usec > UINT64_MAX / 2 ? UINT64_MAX : 2 * conf->max_interval_usec;
        return age < USEC_PER_HOUR ? USEC_PER_HOUR : age;
}

static const char *when(int64_t t, char *buf, size_t size)
{
        struct tm tm;
        if (tz_localtime(NULL, t, &tm) < 0 || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "@%" PRId64, t);
        return buf;
}

static const char *ago(int64_t t, int64_t now, char *buf, size_t size)
{
        return format_duration(buf, size, (uint64_t)(now > t ? now - t : 0) * USEC_PER_SEC);
}

/* 1 when a daemon holds the lock in state_dir (*ret_pid, *ret_start from the file), 0 when none
 * does (the file names the last one, if any), -ENOENT when no daemon ever ran there. */
static int daemon_running(const char *state_dir, int64_t *ret_pid, int64_t *ret_start)
{
        _cleanup_free_ char *path = lock_path(state_dir);
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        int fd, r;

        *ret_pid = *ret_start = 0;
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        /* asks only: a lock taken here, even for a moment, could turn a starting daemon away */
        r = fcntl(fd, F_OFD_GETLK, &fl) < 0 ? -errno : fl.l_type != F_UNLCK;
        lock_read(fd, ret_pid, ret_start);
        close(fd);
        return r;
}

static unsigned check_running(const struct config *conf, int64_t *ret_start)
{
        int64_t pid;
        int r = daemon_running(conf->state_dir, &pid, ret_start);

        if (r > 0)
                return 0;
        *ret_start = 0;
        if (r == 0 && pid > 0)
                log_error("The daemon is not running (it last ran as PID %" PRId64 ").", pid);
        else if (r == 0 || r == -ENOENT)
                log_error("The daemon is not running: it has never run with the state directory "
                          "%s.",
                          conf->state_dir);
        else
                log_error_errno(r, "Cannot tell whether govwatchd runs (%s/%s): %m",
                                conf->state_dir, METRICS_LOCK_FILENAME);
        return 1;
}

static unsigned check_sweep(struct store *store, uint64_t max_age_usec, int64_t start, int64_t now)
{
        char age[FORMAT_DURATION_MAX], max[FORMAT_DURATION_MAX], at[32];
        int64_t last = 0, max_sec = (int64_t)(max_age_usec / USEC_PER_SEC);

        format_duration(max, sizeof(max), max_age_usec);
        if (store_kv_get_int(store, METRICS_LAST_SWEEP_KEY, &last) >= 0 && last > 0) {
                if (now - last <= max_sec)
                        return 0;
                log_error("The last successful sweep was %s ago (%s), more than --max-age %s.",
                          ago(last, now, age, sizeof(age)), when(last, at, sizeof(at)), max);
                return 1;
        }
        /* a daemon that has just started for the first time gets max_age for its first sweep */
        if (start > 0 && now - start <= max_sec)
                return 0;
        if (start > 0)
                log_error("No successful sweep since govwatchd started %s ago (more than "
                          "--max-age %s).",
                          ago(start, now, age, sizeof(age)), max);
        else
                log_error("No successful sweep recorded.");
        return 1;
}

static unsigned check_alerts(const struct config *conf, struct store *store)
{
        struct alert_row a = {0};
        unsigned problems = 0;
        char at[32];

        if (token_refused(store, &a) > 0) {
                log_error("VK refused the token (%s) at %s; polling stops until a valid token is "
                          "in place.",
                          strempty(a.last_error), when(a.since, at, sizeof(at)));
                problems++;
        }
        free(a.last_error);
        for (size_t i = 0; i < conf->n_sinks; i++) {
                a = (struct alert_row){0};
                if (sink_failing(store, conf, conf->sinks[i].name, &a) <= 0)
                        continue;
                log_error("Sink '%s' has failed %u sends in a row since %s (alert_after.sink: %u): "
                          "%s",
                          conf->sinks[i].name, a.failures, when(a.since, at, sizeof(at)),
                          alert_threshold(conf, ALERT_SINK), strempty(a.last_error));
                free(a.last_error);
                problems++;
        }
        return problems;
}

int healthcheck(const struct config *conf, uint64_t max_age_usec, FILE *out)
{
        _cleanup_store_free_ struct store *store = NULL;
        char age[FORMAT_DURATION_MAX];
        int64_t now = now_sec(), start = 0, last = 0;
        unsigned problems;
        int r;

        if (max_age_usec == 0)
                max_age_usec = healthcheck_default_max_age_usec(conf);
        problems = check_running(conf, &start);
        r = store_open_readonly(conf->state_dir, &store);
        if (r < 0) {
                log_error_errno(r, "Cannot read the store in %s: %m", conf->state_dir);
                return 1;
        }
        problems += check_sweep(store, max_age_usec, start, now);
        problems += check_alerts(conf, store);
        if (problems > 0)
                return 1;
        if (store_kv_get_int(store, METRICS_LAST_SWEEP_KEY, &last) >= 0 && last > 0)
                fprintf(out,
                        "healthy: govwatchd is running, its last successful sweep was %s "
                        "ago\n",
                        ago(last, now, age, sizeof(age)));
        else
                fprintf(out, "healthy: govwatchd is running, started %s ago, no sweep yet\n",
                        ago(start, now, age, sizeof(age)));
        return 0;
}
