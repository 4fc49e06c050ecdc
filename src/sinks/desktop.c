/* sinks/desktop.c — pop-ups through org.freedesktop.Notifications on the user's session bus.
 *
 * Owns one sd-bus connection, opened on the first send (bus_address, else the session bus)
 * and attached to the event loop; every call on it is asynchronous. GetCapabilities is asked once
 * per connection, before the first Notify: VK text goes into markup only escaped and only when
 * the server speaks markup, and the actions of notification_actions() ("Открыть"; "Задать
 * вопрос" and "Смотреть" for a live broadcast) are offered only when it has actions. No bus, no
 * notification server, a timeout: "try later", and the connection is dropped so that the next
 * send starts afresh. It must never block the loop, never crash for want of a desktop, and never
 * run a shell (a click on an action spawns xdg-open with an argv). Its own keys, bus_address and
 * urgency, are the table below, which the config reads through the registry.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "classify.h"
#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink.h"

#define NOTIFY_NAME       "org.freedesktop.Notifications"
#define NOTIFY_PATH       "/org/freedesktop/Notifications"
#define NOTIFY_IFACE      "org.freedesktop.Notifications"
#define APP_NAME          "govwatch"
#define DESKTOP_ENTRY     "govwatchd" /* govwatchd.desktop, for servers that group by app */
#define SUMMARY_MAX_CHARS 200         /* a summary is one line on screen */
#define BODY_MAX_CHARS    1000        /* unless max_length says otherwise */
#define ACTIONS_KEPT      64          /* notifications whose "open" we still remember */
#define DEFAULT_TIMEOUT   (25 * USEC_PER_SEC)

extern char **environ;

/* The keys of a desktop sink beyond those every sink has: sink_conf.settings. */
struct desktop_settings {
        char *bus_address;                    /* NULL: the user's session bus */
        char *urgency[_CATEGORY_BUILTIN_MAX]; /* "low" | "normal" | "critical" or NULL */
};

static const char *const urgency_values[] = {"low", "normal", "critical", NULL};

#define OFF(f) offsetof(struct desktop_settings, f)
static const struct setting desktop_table[] = {
        {S("bus_address", SETTING_STRING, OFF(bus_address), NULL,
           "D-Bus address (default: the user's session bus)")},
        {S("urgency", SETTING_CATEGORY_MAP, OFF(urgency), NULL, "{category: low|normal|critical}"),
         .enum_values = urgency_values},
};

enum desktop_state {
        DESKTOP_DISCONNECTED,
        DESKTOP_WAITING_CAPS, /* connected, GetCapabilities asked: sends wait */
        DESKTOP_READY,
};

struct desktop_sink;

/* One notification on its way: rendered at send time, so that the caller's notification may go. */
struct desktop_request {
        struct desktop_request *next;
        struct desktop_sink *desktop;
        char *summary;
        char *body; /* plain text; escaped when sent, once the capabilities are known */
        char *url;
        /* notification_actions(): key, label and URL of each button; the first is "default" */
        struct notification_action actions[NOTIFICATION_ACTIONS_MAX];
        char *action_urls[NOTIFICATION_ACTIONS_MAX]; /* what actions[].url points to */
        size_t n_actions;
        char *category_hint;
        uint8_t urgency;
        sink_done_fn done;
        void *userdata;
};

/* A shown notification's buttons, until it is clicked or closed. */
struct action_url {
        uint32_t id;                                /* the server's notification id, 0: free slot */
        const char *keys[NOTIFICATION_ACTIONS_MAX]; /* static strings, notification.c's */
        char *urls[NOTIFICATION_ACTIONS_MAX];
};

struct desktop_sink {
        struct sink sink;
        const struct sink_conf *conf;
        sd_event *event;
        sd_bus *bus;
        enum desktop_state state;
        bool cap_markup, cap_hyperlinks, cap_actions;
        char *server; /* unique bus name of the notification server, from its replies */
        sd_bus_slot *action_slot, *closed_slot;
        struct desktop_request *waiting;   /* until the capabilities are known */
        struct desktop_request *in_flight; /* Notify sent, no reply yet */
        struct action_url actions[ACTIONS_KEPT];
        size_t next_action;
};

/* DESIGN.md: emergency critical, live and outage normal; the rest low (servers show those
 * without interrupting). The urgency key overrides per category. */
static const uint8_t default_urgency[_CATEGORY_BUILTIN_MAX] = {
        [CATEGORY_LIVE] = 1,   [CATEGORY_SERVICE] = 0,   [CATEGORY_SCHEDULE] = 0,
        [CATEGORY_OUTAGE] = 1, [CATEGORY_EMERGENCY] = 2, [CATEGORY_CIVIC] = 0,
};

static void request_free(struct desktop_request *req)
{
        if (!req)
                return;
        free(req->summary);
        free(req->body);
        free(req->url);
        for (size_t i = 0; i < req->n_actions; i++)
                free(req->action_urls[i]);
        free(req->category_hint);
        free(req);
}

/* Calls the request's done last: it may start another send. */
static void request_complete(struct desktop_request *req, enum sink_result result,
                             const char *detail)
{
        struct sink *s = &req->desktop->sink;
        sink_done_fn done = req->done;
        void *userdata = req->userdata;

        request_free(req);
        done(s, result, 0, detail, userdata);
}

static void action_forget(struct action_url *a)
{
        for (size_t i = 0; i < ELEMENTSOF(a->urls); i++)
                free(a->urls[i]);
        *a = (struct action_url){0};
}

static void actions_forget_all(struct desktop_sink *d)
{
        for (size_t i = 0; i < ELEMENTSOF(d->actions); i++)
                action_forget(&d->actions[i]);
}

/* Drops the connection and answers every pending send with "try later". The ids the server gave
 * and its capabilities go with it: the next connection asks again. */
static void desktop_drop(struct desktop_sink *d, const char *detail)
{
        struct desktop_request *pending = d->in_flight;

        /* in-flight sends go first: they were handed over earlier */
        struct desktop_request **tail = &pending;
        while (*tail)
                tail = &(*tail)->next;
        *tail = d->waiting;
        d->waiting = d->in_flight = NULL;

        d->action_slot = sd_bus_slot_unref(d->action_slot);
        d->closed_slot = sd_bus_slot_unref(d->closed_slot);
        /* floating call slots die with the bus; their requests are in the list above */
        if (d->bus)
                d->bus = sd_bus_close_unref(d->bus);
        d->state = DESKTOP_DISCONNECTED;
        d->cap_markup = d->cap_hyperlinks = d->cap_actions = false;
        free(d->server);
        d->server = NULL;
        actions_forget_all(d);

        while (pending) {
                struct desktop_request *next = pending->next;
                request_complete(pending, SINK_TRY_LATER, detail);
                pending = next;
        }
}

static uint64_t call_timeout(const struct desktop_sink *d)
{
        return d->conf && d->conf->timeout_usec ? d->conf->timeout_usec : DEFAULT_TIMEOUT;
}

/* Errors that mean "nobody to show it now" rather than "this notification is wrong". */
static bool error_is_transient(const sd_bus_error *e)
{
        return !sd_bus_error_has_names(e, SD_BUS_ERROR_INVALID_ARGS, SD_BUS_ERROR_INVALID_SIGNATURE,
                                       SD_BUS_ERROR_INCONSISTENT_MESSAGE);
}

/* Errors after which this connection is no good: reconnect on the next send. */
static bool error_drops_connection(const sd_bus_error *e)
{
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                      SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_NO_REPLY,
                                      SD_BUS_ERROR_TIMEOUT, "org.freedesktop.DBus.Error.TimedOut",
                                      SD_BUS_ERROR_DISCONNECTED, SD_BUS_ERROR_NO_SERVER,
                                      SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_AUTH_FAILED);
}

static void remember_server(struct desktop_sink *d, sd_bus_message *m)
{
        const char *sender = sd_bus_message_get_sender(m);
        if (!sender || streq_ptr(d->server, sender))
                return;
        char *copy = strdup(sender);
        if (!copy)
                return;
        free(d->server);
        d->server = copy;
}

/* ---- opening a post ---------------------------------------------------------------------- */

static int on_opener_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        if (si->si_code != CLD_EXITED || si->si_status != 0)
                log_warning("xdg-open (pid %d) failed: %s %d.", (int)si->si_pid,
                            si->si_code == CLD_EXITED ? "exit status" : "signal", si->si_status);
        /* the loop owned it (floating): hand it back so that it is freed after this dispatch */
        (void)sd_event_source_set_floating(s, false);
        return 0;
}

/* The URL is ours (https://vk.com/wall…), still it goes as one argv element, never to a shell. */
static void open_url(struct desktop_sink *d, const char *url)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, defaults;
        pid_t pid;
        int r;

        if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
                return;
        sigemptyset(&none);
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGCHLD);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setsigmask(&attr, &none); /* our SIGCHLD/SIGTERM… are blocked */
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETPGROUP);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        char *argv[] = {(char *)"xdg-open", (char *)url, NULL};
        r = posix_spawnp(&pid, "xdg-open", &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0) {
                log_warning_errno(r, "Failed to run xdg-open for %s: %m", url);
                return;
        }
        log_info("Opening %s.", url);
        /* floating: the loop reaps it even if this sink is gone by then */
        r = sd_event_add_child(d->event, NULL, pid, WEXITED, on_opener_exit, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to watch xdg-open (pid %d), ignoring: %m", (int)pid);
}

static struct action_url *action_find(struct desktop_sink *d, uint32_t id)
{
        for (size_t i = 0; id && i < ELEMENTSOF(d->actions); i++)
                if (d->actions[i].id == id)
                        return &d->actions[i];
        return NULL;
}

/* Takes the request's action URLs over for notification id. */
static void action_remember(struct desktop_sink *d, uint32_t id, struct desktop_request *req)
{
        if (id == 0 || req->n_actions == 0)
                return;
        /* the oldest goes when the table is full: nobody clicks a pop-up from 64 posts ago */
        struct action_url *a = &d->actions[d->next_action];
        d->next_action = (d->next_action + 1) % ELEMENTSOF(d->actions);
        action_forget(a);
        a->id = id;
        for (size_t i = 0; i < req->n_actions; i++) {
                a->keys[i] = req->actions[i].key;
                a->urls[i] = TAKE_PTR(req->action_urls[i]);
        }
        req->n_actions = 0;
}

/* The URL behind an action key: "default" (a click on the pop-up itself) is the first. */
static char *action_url_take(struct action_url *a, const char *key)
{
        for (size_t i = 0; i < ELEMENTSOF(a->urls); i++)
                if (a->urls[i] && (streq(key, a->keys[i]) || (i == 0 && streq(key, "default"))))
                        return TAKE_PTR(a->urls[i]);
        return NULL;
}

static int on_action_invoked(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct desktop_sink *d = userdata;
        const char *key;
        uint32_t id;

        /* only the server we notified may click our notifications */
        if (!d->server || !streq_ptr(sd_bus_message_get_sender(m), d->server))
                return 0;
        if (sd_bus_message_read(m, "us", &id, &key) < 0)
                return 0;
        struct action_url *a = action_find(d, id);
        _cleanup_free_ char *url = a ? action_url_take(a, key) : NULL;
        if (!url)
                return 0;
        action_forget(a); /* one click a pop-up: the server closes it */
        open_url(d, url);
        return 0;
}

static int on_notification_closed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct desktop_sink *d = userdata;
        uint32_t id, reason;

        if (!d->server || !streq_ptr(sd_bus_message_get_sender(m), d->server))
                return 0;
        if (sd_bus_message_read(m, "uu", &id, &reason) < 0)
                return 0;
        /* servers send ActionInvoked before NotificationClosed, so forgetting now is safe */
        struct action_url *a = action_find(d, id);
        if (a)
                action_forget(a);
        return 0;
}

/* ---- Notify ------------------------------------------------------------------------------ */

static int append_escaped(struct strbuf *sb, const char *s, size_t len)
{
        int r = 0;
        for (size_t i = 0; i < len && r >= 0; i++) {
                const char *rep = s[i] == '&'   ? "&amp;"
                                  : s[i] == '<' ? "&lt;"
                                  : s[i] == '>' ? "&gt;"
                                                : NULL;
                r = rep ? strbuf_puts(sb, rep) : strbuf_append(sb, s + i, 1);
        }
        return r;
}

/* The body as the server wants it: plain, or markup with &, <, > escaped (an unescaped & from VK
 * makes GTK servers drop the whole body), and the post link clickable when it can be. */
static int body_for_server(const struct desktop_sink *d, const struct desktop_request *req,
                           char **ret)
{
        struct strbuf sb = {0};
        int r = 0;

        if (!d->cap_markup) {
                char *copy = strdup(req->body);
                if (!copy)
                        return -ENOMEM;
                *ret = copy;
                return 0;
        }
        /* link only a URL we made ourselves, one with nothing to escape inside an attribute */
        bool link = d->cap_hyperlinks && req->url && req->url[0] &&
                    strcspn(req->url, "&<>\"'") == strlen(req->url);
        const char *p = req->body;
        while (*p && r >= 0) {
                const char *hit = link ? strstr(p, req->url) : NULL;
                size_t n = hit ? (size_t)(hit - p) : strlen(p);
                r = append_escaped(&sb, p, n);
                p += n;
                if (hit && r >= 0) {
                        r = strbuf_appendf(&sb, "<a href=\"%s\">%s</a>", req->url, req->url);
                        p += strlen(req->url);
                }
        }
        if (r >= 0 && !sb.buf)
                r = strbuf_append(&sb, "", 0);
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

static int on_notify_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct desktop_request *req = userdata;
        struct desktop_sink *d = req->desktop;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        char detail[256];
        uint32_t id = 0;

        LIST_REMOVE(d->in_flight, req);
        if (e) {
                snprintf(detail, sizeof(detail), "notification server: %s: %s", strempty(e->name),
                         strempty(e->message));
                if (!error_is_transient(e)) {
                        /* a malformed call is our bug: retrying would not fix it */
                        log_error("Desktop sink %s: the notification server refused a "
                                  "notification: %s",
                                  d->sink.name, detail);
                        request_complete(req, SINK_REJECTED, detail);
                        return 0;
                }
                if (error_drops_connection(e)) {
                        /* this request first, then everything else still pending */
                        request_complete(req, SINK_TRY_LATER, detail);
                        desktop_drop(d, detail);
                        return 0;
                }
                request_complete(req, SINK_TRY_LATER, detail);
                return 0;
        }
        remember_server(d, m);
        if (sd_bus_message_read(m, "u", &id) < 0)
                id = 0;
        if (d->cap_actions)
                action_remember(d, id, req);
        snprintf(detail, sizeof(detail), "notification id %" PRIu32, id);
        request_complete(req, SINK_ACCEPTED, detail);
        return 0;
}

static int notify(struct desktop_sink *d, struct desktop_request *req)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *body = NULL;
        /* "default", then key and label of each: [default, Задать вопрос, ask, Задать вопрос] */
        char *actions[2 * (1 + NOTIFICATION_ACTIONS_MAX) + 1] = {NULL};
        size_t k = 0;
        int r;

        for (size_t i = 0; d->cap_actions && i < req->n_actions; i++) {
                if (i == 0) {
                        actions[k++] = (char *)"default";
                        actions[k++] = (char *)req->actions[0].label;
                }
                actions[k++] = (char *)req->actions[i].key;
                actions[k++] = (char *)req->actions[i].label;
        }

        r = body_for_server(d, req, &body);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(d->bus, &m, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE,
                                           "Notify");
        if (r >= 0)
                r = sd_bus_message_append(m, "susss", APP_NAME, (uint32_t)0, "", req->summary,
                                          body);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, actions);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 3, "urgency", "y", req->urgency, "category",
                                          "s", req->category_hint, "desktop-entry", "s",
                                          DESKTOP_ENTRY);
        if (r >= 0)
                r = sd_bus_message_append(m, "i", (int32_t)-1); /* the server's default */
        if (r < 0)
                return r;
        /* floating slot: a dropped connection frees it, desktop_drop() answers the request */
        r = sd_bus_call_async(d->bus, NULL, m, on_notify_reply, req, call_timeout(d));
        if (r < 0)
                return r;
        LIST_APPEND(d->in_flight, req);
        return 0;
}

/* ---- connection and capabilities --------------------------------------------------------- */

static void flush_waiting(struct desktop_sink *d)
{
        struct desktop_request *list = d->waiting;
        d->waiting = NULL;
        while (list) {
                struct desktop_request *next = list->next;
                list->next = NULL;
                int r = d->bus ? notify(d, list) : -ENOTCONN;
                if (r < 0) {
                        char detail[128];
                        snprintf(detail, sizeof(detail), "could not send the notification: %s",
                                 strerror(-r));
                        request_complete(list, SINK_TRY_LATER, detail);
                }
                list = next;
        }
}

static int on_capabilities(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct desktop_sink *d = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        _cleanup_strv_free_ char **caps = NULL;
        int r;

        if (e && !sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_METHOD,
                                         SD_BUS_ERROR_UNKNOWN_INTERFACE)) {
                char detail[256];
                snprintf(detail, sizeof(detail), "no notification server: %s: %s",
                         strempty(e->name), strempty(e->message));
                log_debug("Desktop sink %s: %s", d->sink.name, detail);
                desktop_drop(d, detail);
                return 0;
        }
        /* a server without GetCapabilities gets plain text and no actions */
        if (!e) {
                remember_server(d, m);
                r = sd_bus_message_read_strv(m, &caps);
                if (r < 0)
                        log_debug_errno(r, "Desktop sink %s: unreadable capabilities, ignoring: %m",
                                        d->sink.name);
        }
        for (char **c = caps; c && *c; c++) {
                d->cap_markup = d->cap_markup || streq(*c, "body-markup");
                d->cap_hyperlinks = d->cap_hyperlinks || streq(*c, "body-hyperlinks");
                d->cap_actions = d->cap_actions || streq(*c, "actions");
        }
        log_debug("Desktop sink %s: server %s, markup %s, hyperlinks %s, actions %s.", d->sink.name,
                  strempty(d->server), d->cap_markup ? "yes" : "no",
                  d->cap_hyperlinks ? "yes" : "no", d->cap_actions ? "yes" : "no");
        if (d->cap_actions && !d->action_slot) {
                /* filtered by sender in the handlers: the match itself only narrows traffic */
                r = sd_bus_match_signal_async(d->bus, &d->action_slot, NULL, NOTIFY_PATH,
                                              NOTIFY_IFACE, "ActionInvoked", on_action_invoked,
                                              NULL, d);
                if (r >= 0)
                        r = sd_bus_match_signal_async(d->bus, &d->closed_slot, NULL, NOTIFY_PATH,
                                                      NOTIFY_IFACE, "NotificationClosed",
                                                      on_notification_closed, NULL, d);
                if (r < 0)
                        log_warning_errno(r,
                                          "Desktop sink %s: cannot listen for clicks, the "
                                          "\"open\" action will do nothing: %m",
                                          d->sink.name);
        }
        d->state = DESKTOP_READY;
        flush_waiting(d);
        return 0;
}

static int desktop_connect(struct desktop_sink *d, char *detail, size_t detail_size)
{
        _cleanup_(sd_bus_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const struct desktop_settings *set = d->conf ? d->conf->settings : NULL;
        const char *address = set ? set->bus_address : NULL;
        int r;

        if (address) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        } else
                r = sd_bus_open_user(&bus);
        if (r < 0) {
                if (r == -ENOMEDIUM)
                        snprintf(detail, detail_size,
                                 "no session bus ($DBUS_SESSION_BUS_ADDRESS and "
                                 "$XDG_RUNTIME_DIR/bus are missing)");
                else
                        snprintf(detail, detail_size, "cannot connect to D-Bus at %s: %s",
                                 address ? address : "the session bus", strerror(-r));
                return r;
        }
        /* a lost session is our business, not a reason to stop the daemon; and no blocking
         * flush when the loop exits */
        (void)sd_bus_set_exit_on_disconnect(bus, false);
        (void)sd_bus_set_close_on_exit(bus, false);
        r = sd_bus_attach_event(bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE,
                                                   "GetCapabilities");
        if (r >= 0)
                r = sd_bus_call_async(bus, NULL, m, on_capabilities, d, call_timeout(d));
        if (r < 0) {
                snprintf(detail, detail_size, "cannot talk to D-Bus: %s", strerror(-r));
                return r;
        }
        d->bus = TAKE_PTR(bus);
        d->state = DESKTOP_WAITING_CAPS;
        return 0;
}

/* ---- the sink ---------------------------------------------------------------------------- */

static uint8_t urgency_of(const struct sink_conf *conf, const char *category)
{
        int idx = category_builtin_from_name(category);
        if (idx < 0)
                return 0;
        const struct desktop_settings *set = conf ? conf->settings : NULL;
        const char *u = set ? set->urgency[idx] : NULL;
        if (u)
                return streq(u, "critical") ? 2 : streq(u, "normal") ? 1 : 0;
        return default_urgency[idx];
}

/* "Проверка\nстроки" from a community name must not make a summary two lines. */
static void one_line(char *s)
{
        for (; *s; s++)
                if (*s == '\n' || *s == '\t')
                        *s = ' ';
}

/* Cuts s to max_chars characters, the last being "…". */
static int cut_chars(char **s, size_t max_chars)
{
        size_t chars = 0, keep = 0;
        if (max_chars == 0)
                return 0;
        for (size_t i = 0; (*s)[i]; i++)
                if (((unsigned char)(*s)[i] & 0xC0) != 0x80) {
                        if (chars == max_chars - 1)
                                keep = i;
                        chars++;
                }
        if (chars <= max_chars)
                return 0;
        char *t = malloc(keep + sizeof("…"));
        if (!t)
                return -ENOMEM;
        memcpy(t, *s, keep);
        memcpy(t + keep, "…", sizeof("…"));
        free(*s);
        *s = t;
        return 0;
}

static int desktop_render(const struct sink_conf *conf, const struct notification *n,
                          char **ret_title, char **ret_body)
{
        _cleanup_free_ char *summary = NULL, *body = NULL;
        int r = sink_render_templates(conf, n, RENDER_DEFAULT_TITLE, RENDER_DEFAULT_BODY, 0,
                                      &summary, &body);
        if (r >= 0) {
                one_line(summary);
                r = cut_chars(&summary, SUMMARY_MAX_CHARS);
        }
        if (r >= 0)
                r = cut_chars(&body, conf && conf->max_length ? conf->max_length : BODY_MAX_CHARS);
        if (r < 0)
                return r;
        *ret_title = TAKE_PTR(summary);
        *ret_body = TAKE_PTR(body);
        return 0;
}

/* The notification's buttons, with URLs the request owns (n may go before the reply). */
static int request_actions(struct desktop_request *req, const struct notification *n)
{
        size_t k = notification_actions(n, req->actions);
        for (size_t i = 0; i < k; i++) {
                if (!(req->action_urls[i] = strdup(req->actions[i].url)))
                        return -ENOMEM;
                req->actions[i].url = req->action_urls[i];
                req->n_actions = i + 1;
        }
        return 0;
}

static int request_new(struct desktop_sink *d, const struct notification *n,
                       struct desktop_request **ret)
{
        const struct sink_conf *conf = d->conf;
        struct desktop_request *req = calloc(1, sizeof(*req));
        const char *hint_category = NULL;
        int r;

        if (!req)
                return -ENOMEM;
        req->desktop = d;
        r = desktop_render(conf, n, &req->summary, &req->body);
        if (r >= 0 && n->url && !(req->url = strdup(n->url)))
                r = -ENOMEM;
        if (r >= 0)
                r = request_actions(req, n);
        if (r < 0) {
                request_free(req);
                return r;
        }
        /* the most urgent category decides, and names the category hint */
        req->urgency = 0;
        for (char **c = n->categories; c && *c; c++) {
                uint8_t u = urgency_of(conf, *c);
                if (!hint_category || u > req->urgency) {
                        req->urgency = u;
                        hint_category = *c;
                }
        }
        if (!hint_category && n->kind && streq(n->kind, "alert"))
                req->urgency = 1; /* about govwatch itself: worth a pop-up */
        struct strbuf hint = {0};
        r = strbuf_appendf(&hint, "govwatch%s%s", hint_category ? "." : "",
                           hint_category ? hint_category : "");
        if (r < 0) {
                request_free(req);
                return r;
        }
        req->category_hint = hint.buf;
        *ret = req;
        return 0;
}

static int desktop_create(const struct sink_conf *conf, const struct sink_context *ctx,
                          struct sink **ret)
{
        sigset_t chld;

        if (!ctx || !ctx->event)
                return -EINVAL;
        /* sd_event_add_child() (the xdg-open of a click) needs SIGCHLD blocked, process-wide */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
                return -errno;

        struct desktop_sink *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->conf = conf;
        d->event = sd_event_ref(ctx->event);
        *ret = &d->sink;
        return 0;
}

static int desktop_send(struct sink *s, const struct notification *n, sink_done_fn done,
                        void *userdata)
{
        struct desktop_sink *d = (struct desktop_sink *)s;
        struct desktop_request *req = NULL;
        char detail[256];
        int r;

        r = request_new(d, n, &req);
        if (r < 0)
                return r;
        req->done = done;
        req->userdata = userdata;

        /* a bus that went away since the last send: start again */
        if (d->bus && sd_bus_is_open(d->bus) <= 0)
                desktop_drop(d, "the D-Bus connection was lost");
        if (d->state == DESKTOP_DISCONNECTED) {
                r = desktop_connect(d, detail, sizeof(detail));
                if (r < 0) {
                        log_debug_errno(r, "Desktop sink %s: %s", s->name, detail);
                        request_complete(req, SINK_TRY_LATER, detail);
                        return 0;
                }
        }
        if (d->state == DESKTOP_WAITING_CAPS) {
                LIST_APPEND(d->waiting, req);
                return 0;
        }
        r = notify(d, req);
        if (r < 0) {
                snprintf(detail, sizeof(detail), "could not send the notification: %s",
                         strerror(-r));
                request_complete(req, SINK_TRY_LATER, detail);
        }
        return 0;
}

static void desktop_free(struct sink *s)
{
        struct desktop_sink *d = (struct desktop_sink *)s;
        if (!d)
                return;
        desktop_drop(d, "the desktop sink was shut down");
        sd_event_unref(d->event);
        free(d);
}

const struct sink_ops sink_desktop_ops = {
        .type = "desktop",
        SINK_SETTINGS(desktop_table, struct desktop_settings),
        .create = desktop_create,
        .send = desktop_send,
        .free = desktop_free,
        .render = desktop_render,
};
