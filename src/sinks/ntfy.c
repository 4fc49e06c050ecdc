/* sinks/ntfy.c — notifications published to a topic of an ntfy server (push to phones and
 * browsers), over the shared curl multi.
 *
 * Owns the publish requests in flight. A notification is one POST of a JSON object to the
 * server's root, {"topic", "title", "message", "priority", "tags", "click", "actions"}, rather
 * than its text POSTed to /TOPIC with Title:, Tags:, Actions: headers. Header values travel as
 * bytes that should be ASCII, and ours are Russian: ntfy reads raw UTF-8 in most headers and RFC
 * 2047 encoded words in all, but it refuses UTF-8 in Actions: ("invalid utf-8 string", error
 * 40018, ntfy issue 737) where our labels are "Задать вопрос" and "Смотреть", and a proxy in
 * between may mangle 8-bit header bytes. JSON carries UTF-8 as it is, in the body, for every field
 * alike, in one encoding the tests can read back exactly; servers take it since 1.18 (2022) and
 * skip fields they do not know. The answer decides: 2xx accepted; 429 and 5xx try later, no
 * sooner than Retry-After; 401 (our credentials) try later too, for the admin to fix; any other
 * status rejected, with the server's own error
 * ({"code":40301,"http":403,"error":"forbidden"}) in the detail; no answer at all, try later.
 *
 * A reminder before a live broadcast is the outbox's, never ntfy's delayed delivery ("delay",
 * X-Delay): the outbox queues it for the right time and drops it when the broadcast is
 * postponed, whereas a message parked on the server could not be withdrawn when the broadcast
 * moves (only recent servers cancel one, by an id we would have to keep and a request that must
 * get through in time), and its quiet hours, retries and dead letters would no longer be ours.
 *
 * Credentials: an access token (token_file, sent as "Authorization: Bearer") or username +
 * password_file (Basic), the two at once refused by the config. The secret is read from its file
 * (under the system service, its systemd credential) at every send, handed to libcurl and wiped:
 * never in the config text, argv, the environment or a log line. Redirects are not followed (the
 * credentials would go along). Markdown is off unless `markdown: true`; then the template is
 * Markdown and the post's own text in it is escaped, so a post cannot add links or images.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <strings.h>

#include "classify.h"
#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink_http.h"

#define SECRET_MAX      4096
#define TOPIC_MAX       64  /* ntfy's topic names: [-_A-Za-z0-9]{1,64} */
#define TITLE_MAX_BYTES 256 /* shown on one line */
#define MESSAGE_MAX_BYTES                                                                          \
        4000 /* ntfy's message-size-limit is 4096 bytes by default;                                \
              * a longer message turns into an attachment or a 4xx */
#define DETAIL_TEXT_CHARS 160
#define PRIORITY_DEFAULT  3
#define PRIORITY_LOW      2

/* ntfy's priorities, 1..5, by name: index + 1 */
static const char *const priority_values[] = {"min", "low", "default", "high", "urgent", NULL};

/* Emoji short codes (ntfy shows a tag that is one as its emoji, before the title); what `tags`
 * may choose from, so that a misspelt one is caught by check-config rather than shown as a word. */
static const char *const tag_values[] = {
        "red_circle",
        "classical_building",
        "spiral_calendar",
        "calendar",
        "warning",
        "rotating_light",
        "ballot_box",
        "loudspeaker",
        "bell",
        "information_source",
        "sos",
        "construction",
        "zap",
        "droplet",
        "fire",
        "bus",
        "pushpin",
        "memo",
        "newspaper",
        "speech_balloon",
        NULL,
};

/* An emergency rings through (urgent: a long vibration, a pop-over); a broadcast about to start
 * and an outage are worth a sound now (high); services and schedules are ordinary news; a call to
 * take part can wait for the next look at the phone (low: no sound). `priority` overrides. */
static const uint8_t default_priority[_CATEGORY_BUILTIN_MAX] = {
        [CATEGORY_LIVE] = 4,   [CATEGORY_SERVICE] = 3,   [CATEGORY_SCHEDULE] = 3,
        [CATEGORY_OUTAGE] = 4, [CATEGORY_EMERGENCY] = 5, [CATEGORY_CIVIC] = 2,
};

static const char *const default_tags[_CATEGORY_BUILTIN_MAX] = {
        [CATEGORY_LIVE] = "red_circle",            /* 🔴, as VK marks a live video */
        [CATEGORY_SERVICE] = "classical_building", /* 🏛️ */
        [CATEGORY_SCHEDULE] = "spiral_calendar",   /* 🗓️ */
        [CATEGORY_OUTAGE] = "warning",             /* ⚠️ */
        [CATEGORY_EMERGENCY] = "rotating_light",   /* 🚨 */
        [CATEGORY_CIVIC] = "ballot_box",           /* 🗳️ */
};

/* The keys of an ntfy sink beyond those every sink has: sink_conf.settings. */
struct ntfy_settings {
        char *url; /* the server; published to its root */
        char *topic;
        char *token_file;
        char *username;
        char *password_file;
        char *ca_file;                         /* NULL: the system's CAs */
        char *priority[_CATEGORY_BUILTIN_MAX]; /* one of priority_values, or NULL */
        char *tags[_CATEGORY_BUILTIN_MAX];     /* one of tag_values, or NULL */
        bool markdown;
};

static const char *check_server_url(const char *v, char *buf, size_t size)
{
        const char *reason = setting_check_url(v, "http", buf, size);
        if (reason)
                return reason;
        const char *host = strstr(v, "://") + 3;
        size_t authority = strcspn(host, "/?#");
        if (memchr(host, '@', authority)) {
                snprintf(buf, size,
                         "no credentials in the url: use token_file, or username and "
                         "password_file");
                return buf;
        }
        if (strpbrk(v, "?#")) {
                snprintf(buf, size, "expected the server's URL without '?' or '#', got '%s'",
                         SETTING_QUOTE(v));
                return buf;
        }
        return NULL;
}

static bool topic_valid(const char *v)
{
        size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
        return n > 0 && n <= TOPIC_MAX && v[n] == '\0';
}

static const char *check_topic(const char *v, char *buf, size_t size)
{
        if (topic_valid(v))
                return NULL;
        snprintf(buf, size,
                 "expected an ntfy topic (letters, digits, '-' and '_', at most %d), got '%s'",
                 TOPIC_MAX, SETTING_QUOTE(v));
        return buf;
}

/* RFC 7617: the user-id of Basic authentication cannot hold a colon. */
static const char *check_username(const char *v, char *buf, size_t size)
{
        if (!strchr(v, ':'))
                return NULL;
        snprintf(buf, size, "a username cannot contain ':'");
        return buf;
}

#define OFF(f) offsetof(struct ntfy_settings, f)
static const struct setting ntfy_table[] = {
        {S("url", SETTING_STRING, OFF(url), NULL,
           "the ntfy server, http:// or https:// (its root: the topic is a key of its own)"),
         .required = true, .check = check_server_url},
        {S("topic", SETTING_STRING, OFF(topic), NULL,
           "the topic to publish to: letters, digits, '-' and '_', at most 64"),
         .required = true, .check = check_topic},
        {S("token_file", SETTING_PATH, OFF(token_file), NULL,
           "file with an access token, sent as Bearer (or username and password_file)")},
        {S("username", SETTING_STRING, OFF(username), NULL,
           "user for Basic authentication, with password_file"),
         .check = check_username},
        {S("password_file", SETTING_PATH, OFF(password_file), NULL,
           "file with the password of username")},
        {S("ca_file", SETTING_PATH, OFF(ca_file), NULL, "CA bundle for a private CA")},
        {S("priority", SETTING_CATEGORY_MAP, OFF(priority), NULL,
           "{category: min|low|default|high|urgent}; defaults: emergency urgent, live and "
           "outage high, civic low, others default"),
         .enum_values = priority_values},
        {S("tags", SETTING_CATEGORY_MAP, OFF(tags), NULL,
           "{category: emoji short code} shown before the title: red_circle, "
           "classical_building, spiral_calendar, calendar, warning, rotating_light, ballot_box, "
           "loudspeaker, bell, information_source, sos, construction, zap, droplet, fire, bus, "
           "pushpin, memo, newspaper or speech_balloon"),
         .enum_values = tag_values},
        {S("markdown", SETTING_BOOL, OFF(markdown), "false",
           "the template is Markdown (the post's text in it is escaped)")},
};

/* The path of url, "" when it has none. */
static const char *url_path(const char *url)
{
        const char *host = strstr(url, "://");
        if (!host)
                return "";
        const char *path = strchr(host + 3, '/');
        return path ? path : "";
}

static void ntfy_check(const struct sink_conf *conf, struct setting_errors *e)
{
        const struct ntfy_settings *set = conf->settings;

        if (set->token_file && set->username)
                setting_error_at_key(e, "username",
                                     "'token_file' and 'username' are two ways to log in: keep "
                                     "one (an access token, or username and password_file)");
        else if (set->username && !set->password_file)
                setting_error_at_key(e, "username", "'username' needs 'password_file' as well");
        if (!set->username && set->password_file)
                setting_error_at_key(e, "password_file",
                                     "'password_file' needs 'username' as well");
        /* https://ntfy.sh/alerts with topic alerts: the JSON would go to /alerts/, a 404 */
        if (set->url && set->topic) {
                const char *path = url_path(set->url);
                size_t len = strlen(path), t = strlen(set->topic);
                while (len > 0 && path[len - 1] == '/')
                        len--;
                if (len > t && path[len - t - 1] == '/' &&
                    memcmp(path + len - t, set->topic, t) == 0)
                        setting_error_at_value(e, "url",
                                               "'url' is the server, without the topic: drop "
                                               "'/%s' from it",
                                               set->topic);
        }
}

struct ntfy_sink {
        struct sink sink;
        const struct sink_conf *conf;
        const struct ntfy_settings *settings; /* conf's */
        struct http *http;
        char *publish_url;                  /* the server's root, ending in '/' */
        struct sink_http_request *requests; /* in flight */
};

/* ---- what is published ------------------------------------------------------------------- */

/* 1..5 for category, from the settings or the defaults; 0 for a category of the admin's own. */
static int category_priority(const struct ntfy_settings *set, const char *category)
{
        int idx = category_builtin_from_name(category);
        if (idx < 0)
                return 0;
        for (size_t i = 0; set && set->priority[idx] && priority_values[i]; i++)
                if (streq(priority_values[i], set->priority[idx]))
                        return (int)i + 1;
        return default_priority[idx];
}

/* The most urgent category decides. Delivered silently (the outbox asks so in the sink's quiet
 * hours), it is low at most: no sound and no vibration, but in the list with the others, where
 * the reader finds it in the morning; min would fold it away under "other notifications". */
static int notification_ntfy_priority(const struct ntfy_settings *set, const struct notification *n)
{
        int p = 0;
        for (char **c = n->categories; c && *c; c++) {
                int q = category_priority(set, *c);
                if (q > p)
                        p = q;
        }
        if (p == 0)
                p = PRIORITY_DEFAULT;
        if (n->silent && p > PRIORITY_LOW)
                p = PRIORITY_LOW;
        return p;
}

static const char *category_tag(const struct ntfy_settings *set, const char *category)
{
        int idx = category_builtin_from_name(category);
        if (idx < 0)
                return NULL;
        return set && set->tags[idx] ? set->tags[idx] : default_tags[idx];
}

/* Every character that can start or end Markdown (CommonMark lets a backslash escape any ASCII
 * punctuation): VK text inside a Markdown template stays text, never a link or an image that the
 * reader's phone would load. */
static char *markdown_escape(const char *s)
{
        static const char special[] = "\\`*_{}[]()<>#+-.!|~=&";
        struct strbuf sb = {0};
        int r = 0;

        for (const char *p = strempty(s); *p && r >= 0; p++) {
                if (strchr(special, *p))
                        r = strbuf_puts(&sb, "\\");
                if (r >= 0)
                        r = strbuf_append(&sb, p, 1);
        }
        if (r >= 0 && !sb.buf)
                r = strbuf_append(&sb, "", 0);
        if (r < 0) {
                strbuf_done(&sb);
                return NULL;
        }
        return sb.buf;
}

static void one_line(char *s)
{
        for (; s && *s; s++)
                if (*s == '\n' || *s == '\t')
                        *s = ' ';
}

static size_t message_max(const struct sink_conf *conf)
{
        return conf && conf->max_length > 0 && conf->max_length < MESSAGE_MAX_BYTES
                       ? conf->max_length
                       : MESSAGE_MAX_BYTES;
}

static const char *default_body(const struct notification *n)
{
        /* The whole text: the app folds a long message and unfolds it on a tap, and an
         * emergency's last line ("единый номер 112") must not be cut to an excerpt. The post is
         * a tap away (click, and the actions): its address would be clutter. */
        return n->starts_at ? "{text}\n\nНачало: {starts_at}" : "{text}";
}

static int render_title(const struct sink_conf *conf, const struct notification *n, char **ret)
{
        int r = render_template(conf && conf->template_title ? conf->template_title
                                                             : RENDER_DEFAULT_TITLE,
                                n, TITLE_MAX_BYTES, ret);
        if (r >= 0)
                one_line(*ret);
        return r;
}

static int render_body(const struct sink_conf *conf, const struct notification *n, char **ret)
{
        return render_template(conf && conf->template_body ? conf->template_body : default_body(n),
                               n, message_max(conf), ret);
}

/* The title and message as plain text: what a preview shows, and what is published without
 * markdown. */
static int ntfy_render(const struct sink_conf *conf, const struct notification *n, char **ret_title,
                       char **ret_body)
{
        _cleanup_free_ char *title = NULL, *body = NULL;
        int r = render_title(conf, n, &title);
        if (r >= 0)
                r = render_body(conf, n, &body);
        if (r < 0)
                return r;
        *ret_title = TAKE_PTR(title);
        *ret_body = TAKE_PTR(body);
        return 0;
}

/* The message with markdown: the template as it is, the text that comes from VK escaped. */
static int render_markdown_body(const struct sink_conf *conf, const struct notification *n,
                                char **ret)
{
        _cleanup_free_ char *community = markdown_escape(n->community),
                            *topic = markdown_escape(n->topic), *text = markdown_escape(n->text);
        if (!community || !topic || !text)
                return -ENOMEM;
        struct notification escaped = *n;
        escaped.community = community;
        escaped.topic = topic;
        escaped.text = text;
        return render_body(conf, &escaped, ret);
}

static int json_set_string(json_t *o, const char *key, const char *value)
{
        /* json_string() refuses invalid UTF-8: rendered text never is, a URL should not be */
        json_t *v = json_string(value);
        if (!v)
                return -EINVAL;
        return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int json_tags(const struct ntfy_settings *set, const struct notification *n, json_t **ret)
{
        json_t *tags = json_array();
        if (!tags)
                return -ENOMEM;
        for (char **c = n->categories; c && *c; c++) {
                const char *tag = category_tag(set, *c);
                bool seen = false;
                for (size_t i = 0; tag && i < json_array_size(tags); i++)
                        seen = seen || streq(json_string_value(json_array_get(tags, i)), tag);
                if (tag && !seen && json_array_append_new(tags, json_string(tag)) < 0) {
                        json_decref(tags);
                        return -ENOMEM;
                }
        }
        *ret = tags;
        return 0;
}

/* ntfy's view actions: buttons that open a page, "Задать вопрос" and "Смотреть" for a live
 * broadcast, "Открыть" for the rest (notification_actions()). */
static int json_actions(const struct notification *n, json_t **ret)
{
        struct notification_action a[NOTIFICATION_ACTIONS_MAX];
        size_t k = notification_actions(n, a);
        json_t *actions = json_array();
        int r = actions ? 0 : -ENOMEM;

        for (size_t i = 0; i < k && r >= 0; i++) {
                json_t *o = json_object();
                if (!o || json_array_append_new(actions, o) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = json_set_string(o, "action", "view");
                if (r >= 0)
                        r = json_set_string(o, "label", a[i].label);
                if (r >= 0)
                        r = json_set_string(o, "url", a[i].url);
        }
        if (r < 0) {
                json_decref(actions);
                return r;
        }
        *ret = actions;
        return 0;
}

/* The JSON object published for n: -EINVAL when it cannot be (and never could). */
static int publish_body(const struct ntfy_sink *f, const struct notification *n, char **ret)
{
        const struct sink_conf *conf = f->conf;
        const struct ntfy_settings *set = f->settings;
        _cleanup_free_ char *title = NULL, *message = NULL;
        json_t *o = json_object(), *tags = NULL, *actions = NULL;
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = render_title(conf, n, &title);
        if (r >= 0)
                r = set->markdown ? render_markdown_body(conf, n, &message)
                                  : render_body(conf, n, &message);
        if (r >= 0)
                r = json_set_string(o, "topic", set->topic);
        if (r >= 0)
                r = json_set_string(o, "title", title);
        if (r >= 0)
                r = json_set_string(o, "message", message);
        if (r >= 0 && json_object_set_new(o, "priority",
                                          json_integer(notification_ntfy_priority(set, n))) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = json_tags(set, n, &tags);
        if (r >= 0 && json_array_size(tags) > 0 && json_object_set(o, "tags", tags) < 0)
                r = -ENOMEM;
        if (r >= 0 && n->url && n->url[0]) {
                r = json_set_string(o, "click", n->url);
                if (r >= 0)
                        r = json_actions(n, &actions);
                if (r >= 0 && json_array_size(actions) > 0 &&
                    json_object_set(o, "actions", actions) < 0)
                        r = -ENOMEM;
        }
        if (r >= 0 && set->markdown && json_object_set_new(o, "markdown", json_true()) < 0)
                r = -ENOMEM;
        if (r >= 0 && !(*ret = json_dumps(o, JSON_COMPACT)))
                r = -ENOMEM;
        json_decref(actions);
        json_decref(tags);
        json_decref(o);
        return r;
}

/* ---- credentials ------------------------------------------------------------------------- */

/* The secret in path, whole: a token must be one word of visible ASCII (it goes into a header
 * line), a password anything but empty. */
static int read_secret(const char *path, const char *key, bool token, char **ret, size_t *ret_size,
                       char *detail, size_t size)
{
        char *s = NULL;
        size_t n = 0;
        int r = read_full_file(path, SECRET_MAX, true, &s, &n);

        if (r < 0) {
                snprintf(detail, size, "cannot read %s %s: %s", key, path, strerror(-r));
                return r;
        }
        if (n == 0)
                r = -ENODATA;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '\0' || (token && (c <= 0x20 || c >= 0x7F)))
                        r = -EBADMSG;
        }
        if (r < 0) {
                snprintf(detail, size,
                         r == -ENODATA ? "%s %s is empty (a service credential whose file is "
                                         "missing is empty when the unit falls back to "
                                         "SetCredential=)"
                         : token       ? "%s %s is not one word of visible ASCII, as a token is"
                                       : "%s %s holds a NUL byte",
                         key, path);
                explicit_bzero(s, n);
                free(s);
                return r;
        }
        *ret = s;
        *ret_size = n;
        return 0;
}

/* Bearer or Basic on c, as the settings say; libcurl keeps its own copy, ours is wiped. */
static int set_credentials(const struct ntfy_settings *set, CURL *c, char *detail, size_t size)
{
        char *secret = NULL;
        size_t n = 0;
        int r = 0;

        if (set->token_file) {
                r = read_secret(set->token_file, "token_file", true, &secret, &n, detail, size);
                if (r < 0)
                        return r;
                curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
                if (curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, secret) != CURLE_OK)
                        r = -ENOMEM;
        } else if (set->username && set->password_file) {
                r = read_secret(set->password_file, "password_file", false, &secret, &n, detail,
                                size);
                if (r < 0)
                        return r;
                curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                if (curl_easy_setopt(c, CURLOPT_USERNAME, set->username) != CURLE_OK ||
                    curl_easy_setopt(c, CURLOPT_PASSWORD, secret) != CURLE_OK)
                        r = -ENOMEM;
        }
        if (secret) {
                explicit_bzero(secret, n);
                free(secret);
        }
        if (r < 0)
                snprintf(detail, size, "out of memory");
        return r;
}

/* ---- the answer -------------------------------------------------------------------------- */

/* What the server said about a refusal: ntfy's {"code":40301,"http":403,"error":"forbidden"} as
 * "forbidden (ntfy error 40301)", else the start of whatever it sent. */
static void server_error(const struct http_buffer *b, char *out, size_t size)
{
        json_t *v = b->data && b->size > 0 ? json_loadb(b->data, b->size, 0, NULL) : NULL;
        const char *message = json_string_value(json_object_get(v, "error"));
        json_int_t code = json_integer_value(json_object_get(v, "code"));
        char text[DETAIL_TEXT_CHARS * 4 + 1];

        if (message) {
                sink_http_printable(message, strlen(message), DETAIL_TEXT_CHARS, true, text,
                                    sizeof(text));
                if (code > 0)
                        snprintf(out, size, "%s (ntfy error %" PRId64 ")", text, (int64_t)code);
                else
                        snprintf(out, size, "%s", text);
        } else
                sink_http_printable(b->data, b->size, DETAIL_TEXT_CHARS, true, out, size);
        json_decref(v);
}

/* The id ntfy gave the message, for the debug log. */
static void message_id(const struct http_buffer *b, char *out, size_t size)
{
        json_t *v = b->data && b->size > 0 ? json_loadb(b->data, b->size, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(v, "id"));
        sink_http_printable(id, id ? strlen(id) : 0, 32, true, out, size);
        json_decref(v);
}

static void on_done(CURL *easy, CURLcode code, void *userdata)
{
        struct sink_http_request *q = userdata;
        struct sink_http_answer a;
        char detail[CURL_ERROR_SIZE + DETAIL_TEXT_CHARS * 4 + 100];
        char said[DETAIL_TEXT_CHARS * 4 + 40];

        sink_http_answer_read(q, code, &a);
        /* 401 is our credentials, the admin's to fix (as the email and telegram sinks treat a
         * failed login): the notifications wait for that, alerting */
        if (a.answered && a.status == 401)
                a.result = SINK_TRY_LATER;
        said[0] = '\0';
        if (a.result == SINK_ACCEPTED) {
                message_id(&q->response, said, sizeof(said));
                snprintf(detail, sizeof(detail), "HTTP %ld%s%s", a.status,
                         said[0] ? ", message " : "", said);
        } else {
                if (a.answered)
                        server_error(&q->response, said, sizeof(said));
                sink_http_answer_detail(&a, said, detail, sizeof(detail));
        }
        if (a.result == SINK_ACCEPTED)
                log_debug("Sink %s: published: %s", q->sink->name, detail);
        else
                log_warning("Sink %s: %s: %s", q->sink->name, sink_result_name(a.result), detail);
        sink_http_request_finish(q, sink_http_request_free, a.result,
                                 sink_http_answer_retry_usec(&a), detail);
}

/* ---- sending ----------------------------------------------------------------------------- */

static int ntfy_send(struct sink *s, const struct notification *n, sink_done_fn done,
                     void *userdata)
{
        struct ntfy_sink *f = (struct ntfy_sink *)s;
        const struct ntfy_settings *set = f->settings;
        enum sink_result fail = SINK_TRY_LATER;
        char detail[512];
        struct sink_http_request *q;
        int r;

        r = sink_http_request_new(s, f->http, done, userdata, &q);
        if (r < 0)
                return r;
        r = publish_body(f, n, &q->body);
        if (r < 0) {
                /* the same notification would fail the same way tomorrow */
                fail = r == -EINVAL ? SINK_REJECTED : SINK_TRY_LATER;
                snprintf(detail, sizeof(detail), "cannot build the message: %s", strerror(-r));
                goto fail;
        }
        r = sink_http_request_prepare(q, f->publish_url, f->conf->timeout_usec, set->ca_file);
        if (r < 0) {
                snprintf(detail, sizeof(detail), "out of memory");
                goto fail;
        }
        r = set_credentials(set, q->easy, detail, sizeof(detail));
        if (r < 0)
                goto fail;
        r = http_add(f->http, q->easy, on_done, q);
        if (r < 0) {
                snprintf(detail, sizeof(detail), "cannot start the request: %s", strerror(-r));
                goto fail;
        }
        sink_http_request_link(q, &f->requests);
        return 0;
fail:
        sink_http_request_free(q);
        log_warning("Sink %s: %s: %s", s->name, sink_result_name(fail), detail);
        done(s, fail, 0, detail, userdata);
        return 0;
}

/* ---- life cycle -------------------------------------------------------------------------- */

static void ntfy_free(struct sink *s)
{
        struct ntfy_sink *f = (struct ntfy_sink *)s;

        if (!f)
                return;
        sink_http_requests_drop(&f->requests, sink_http_request_free);
        free(f->publish_url);
        free(f);
}

/* A server on this machine: a secret sent to it in clear text never crosses a network. */
static bool url_is_loopback(const char *url)
{
        const char *host = strstr(url, "://") + 3;
        size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
        return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
               (n == 5 && strncmp(host, "[::1]", 5) == 0) ||
               (startswith(host, "127.") && strspn(host, "0123456789.") == n);
}

static int ntfy_create(const struct sink_conf *conf, const struct sink_context *ctx,
                       struct sink **ret)
{
        const struct ntfy_settings *set = conf->settings;
        struct ntfy_sink *f;

        if (!ctx || !ctx->http || !set || !set->url || !set->topic)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->conf = conf;
        f->settings = set;
        f->http = ctx->http;
        size_t len = strlen(set->url);
        if (asprintf(&f->publish_url, "%s%s", set->url,
                     len > 0 && set->url[len - 1] == '/' ? "" : "/") < 0) {
                f->publish_url = NULL;
                ntfy_free(&f->sink);
                return -ENOMEM;
        }
        if ((set->token_file || set->username) && strncasecmp(set->url, "https://", 8) != 0 &&
            !url_is_loopback(set->url))
                log_warning("Sink %s: url is not https://, so the %s travels unencrypted.",
                            conf->name, set->token_file ? "access token" : "password");
        *ret = &f->sink;
        return 0;
}

const struct sink_ops sink_ntfy_ops = {
        .type = "ntfy",
        SINK_SETTINGS(ntfy_table, struct ntfy_settings),
        .check = ntfy_check,
        .can_silence = true,
        .concurrency = 1, /* the app lists messages as they arrive: keep the queue's order */
        .create = ntfy_create,
        .send = ntfy_send,
        .free = ntfy_free,
        .render = ntfy_render,
};
