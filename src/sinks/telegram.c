/* sinks/telegram.c — notifications as Telegram messages: Bot API sendMessage to one or more chats.
 *
 * Owns the sends in flight and, for the sink's life, two memories: which chat of a notification
 * has already accepted it (or refused it for good), so that a retry goes only to the chats still
 * owed it; and which chat ids the Bot API said were migrated (a group upgraded to a supergroup).
 * Neither is stored: after a restart or a reload a retry sends again to every chat, so a chat that
 * had accepted may get one duplicate, and a migration is followed again (and warned about again).
 *
 * The text is HTML (parse_mode HTML): the title in bold, then the body, every piece of VK text
 * escaped (&, <, > and ", the last for attributes). Telegram counts its 4096-character limit in
 * UTF-16 code units of the text after entity parsing, so the plain text is cut on a character
 * boundary, with "…", before it is escaped. The post's actions (notification_actions()) are url
 * buttons of an inline keyboard, or links at the end of the text with buttons: false.
 * disable_notification is set for categories the admin finds not worth a sound
 * (silent_categories) and in quiet hours with quiet_mode: silent (notification.silent).
 *
 * The token is part of every request's path, /bot<token>/sendMessage: the URL is never logged,
 * never put in a detail, and any text that could carry it (curl's messages, the server's answer)
 * is redacted before it is logged or handed to the outbox. It is read from token_file at each
 * send, like the email sink's password, and wiped after use.
 *
 * Answers, per chat ({"ok":false,"error_code":N,"description":...,"parameters":{...}}):
 *   ok                                   accepted
 *   parameters.migrate_to_chat_id (400)  sent again at once to the new id, a warning logged
 *   429 (parameters.retry_after)         try later, not before retry_after; the other chats wait
 *   401, 404 (token or api_url wrong)    try later: the admin fixes it, the notifications wait
 *   5xx, no answer at all                try later; the other chats wait
 *   anything but the Bot API's JSON      try later (a captive portal's 200 delivered nothing)
 *   403 (blocked, kicked), other 4xx     rejected for that chat (named); the next chat is tried
 * The chats are sent to one after another, in chat_ids order. The notification is accepted when
 * every chat accepted it, rejected when every chat answered and one refused it for good, and
 * otherwise try later, with the chats already served remembered.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink_http.h"

#define DEFAULT_API_URL   "https://api.telegram.org"
#define TEXT_MAX_UNITS    4096 /* sendMessage's text, UTF-16 code units after entity parsing */
#define TITLE_MAX_CHARS   256
#define TOKEN_MAX         256
#define DESCRIPTION_CHARS 200
#define DETAIL_MAX        1024
#define MIGRATIONS_MAX    3    /* followed for one chat in one send; more is a loop */
#define PROGRESS_MAX      4096 /* chats remembered as served; the oldest go first */
#define ELLIPSIS          "…"
#define LINK_SEPARATOR    " · "

/* The keys of a telegram sink beyond those every sink has: sink_conf.settings. */
struct telegram_settings {
        char *token_file;
        char **chat_ids; /* NULL-terminated: "123456789", "-1001234567890", "@channel" */
        char *api_url;
        char *ca_file;            /* NULL: the system's CAs */
        char **silent_categories; /* NULL: the default list below; empty: none */
        bool link_preview;
        bool buttons;
};

/* silent_categories when the key is not there: what is not worth a sound by day. Emergencies,
 * broadcasts and outages are; a user-defined category is unless listed. */
static const char *const default_silent[] = {"service", "schedule", "civic", "uncategorized", NULL};

/* "123456789", "-1001234567890" or "@channel_name". */
static bool chat_id_numeric(const char *v, int64_t *ret)
{
        const char *d = v[0] == '-' ? v + 1 : v;
        size_t n = strspn(d, "0123456789");
        if (n == 0 || d[n] != '\0' || n > 19)
                return false;
        errno = 0;
        char *end;
        long long id = strtoll(v, &end, 10);
        if (errno != 0 || *end || id == 0)
                return false;
        if (ret)
                *ret = (int64_t)id;
        return true;
}

static bool chat_id_username(const char *v)
{
        size_t n = v[0] == '@'
                           ? strspn(v + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_")
                           : 0;
        return n > 0 && n <= 64 && v[1 + n] == '\0';
}

static const char *check_chat_id(const char *v, char *buf, size_t size)
{
        if (chat_id_numeric(v, NULL) || chat_id_username(v))
                return NULL;
        snprintf(buf, size,
                 "expected a chat id (like 123456789 or -1001234567890) or a channel's "
                 "@username, got '%s'",
                 SETTING_QUOTE(v));
        return buf;
}

static const char *check_api_url(const char *v, char *buf, size_t size)
{
        const char *why = setting_check_url(v, "http", buf, size);
        if (why)
                return why;
        if (strpbrk(v, "?# \t")) {
                snprintf(buf, size, "expected the Bot API's base URL without a query, got '%s'",
                         SETTING_QUOTE(v));
                return buf;
        }
        return NULL;
}

#define OFF(f) offsetof(struct telegram_settings, f)
static const struct setting telegram_table[] = {
        {S("token_file", SETTING_PATH, OFF(token_file), NULL,
           "file with the bot token (the service's credential: "
           "/run/credentials/govwatchd.service/telegram-token)"),
         .required = true},
        {S("chat_ids", SETTING_STRV, OFF(chat_ids), NULL,
           "chats to send to: numeric ids (123456789, -1001234567890) or @channelusername"),
         .required = true, .check = check_chat_id},
        {S("api_url", SETTING_STRING, OFF(api_url), DEFAULT_API_URL,
           "the Bot API server (a self-hosted one, or a test server)"),
         .check = check_api_url},
        {S("ca_file", SETTING_PATH, OFF(ca_file), NULL, "CA bundle for a private CA")},
        {S("silent_categories", SETTING_STRV, OFF(silent_categories), NULL,
           "categories sent without a sound (default: service, schedule, civic, uncategorized; "
           "[]: none)")},
        {S("link_preview", SETTING_BOOL, OFF(link_preview), "false",
           "let Telegram show a preview of a link in the text")},
        {S("buttons", SETTING_BOOL, OFF(buttons), "true",
           "the post's links as buttons under the message (false: links in the text)")},
};

static void telegram_check(const struct sink_conf *conf, struct setting_errors *e)
{
        const struct telegram_settings *set = conf->settings;

        for (size_t i = 0; set && set->chat_ids && set->chat_ids[i]; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(set->chat_ids[i], set->chat_ids[j])) {
                                setting_error_at_value(e, "chat_ids",
                                                       "chat '%s' is listed twice: it would get "
                                                       "every message twice",
                                                       SETTING_QUOTE(set->chat_ids[i]));
                                return;
                        }
}

/* ---- the message ------------------------------------------------------------------------- */

/* UTF-16 code units of the UTF-8 character starting with byte c: two for one above U+FFFF. */
static size_t utf16_units(unsigned char c)
{
        return (c & 0xC0) == 0x80 ? 0 : c >= 0xF0 ? 2 : 1;
}

static size_t utf16_len(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += utf16_units((unsigned char)*s);
        return n;
}

/* Bytes of the longest prefix of s that is at most max_units long and ends on a character. */
static size_t utf16_prefix(const char *s, size_t max_units)
{
        size_t units = 0, i = 0;
        while (s[i]) {
                size_t u = utf16_units((unsigned char)s[i]), n = 1;
                while (s[i + n] && ((unsigned char)s[i + n] & 0xC0) == 0x80)
                        n++;
                if (units + u > max_units)
                        break;
                units += u;
                i += n;
        }
        return i;
}

/* *s as its first keep bytes, the blanks that end them left out, and "…". */
static int cut_at(char **s, size_t keep)
{
        while (keep > 0 && ((*s)[keep - 1] == ' ' || (*s)[keep - 1] == '\n'))
                keep--;
        char *t = malloc(keep + sizeof(ELLIPSIS));
        if (!t)
                return -ENOMEM;
        memcpy(t, *s, keep);
        memcpy(t + keep, ELLIPSIS, sizeof(ELLIPSIS));
        free(*s);
        *s = t;
        return 0;
}

/* Cuts *s to at most max_units UTF-16 code units, "…" included, on a character boundary. */
static int cut_units(char **s, size_t max_units)
{
        if (utf16_len(*s) <= max_units)
                return 0;
        return cut_at(s, max_units > 0 ? utf16_prefix(*s, max_units - 1) : 0);
}

/* Cuts *s to at most max_chars characters, "…" included. */
static int cut_chars(char **s, size_t max_chars)
{
        size_t chars = 0, keep = 0;
        for (size_t i = 0; (*s)[i]; i++)
                if (((unsigned char)(*s)[i] & 0xC0) != 0x80) {
                        if (chars == max_chars - 1)
                                keep = i;
                        chars++;
                }
        if (max_chars == 0 || chars <= max_chars)
                return 0;
        return cut_at(s, keep);
}

static void one_line(char *s)
{
        for (; *s; s++)
                if (*s == '\n' || *s == '\t')
                        *s = ' ';
}

/* An http(s) URL of printable ASCII: what a url button takes (VK's and ours all are). */
static bool button_url_ok(const char *url)
{
        if (!url || !(startswith(url, "https://") || startswith(url, "http://")))
                return false;
        for (const unsigned char *p = (const unsigned char *)url; *p; p++)
                if (*p <= 0x20 || *p >= 0x7F)
                        return false;
        return true;
}

/* The actions a message carries: notification_actions() with an http(s) URL. */
static size_t message_actions(const struct notification *n,
                              struct notification_action out[static NOTIFICATION_ACTIONS_MAX])
{
        struct notification_action all[NOTIFICATION_ACTIONS_MAX];
        size_t k = 0, m = notification_actions(n, all);
        for (size_t i = 0; i < m; i++)
                if (button_url_ok(all[i].url))
                        out[k++] = all[i];
        return k;
}

/* The plain text of the links ending the message when buttons are off: "\n\nОткрыть". */
static size_t links_units(const struct notification *n, bool buttons)
{
        struct notification_action a[NOTIFICATION_ACTIONS_MAX];
        size_t k = buttons ? 0 : message_actions(n, a), units = 0;
        for (size_t i = 0; i < k; i++)
                units += (i ? utf16_len(LINK_SEPARATOR) : 2) + utf16_len(a[i].label);
        return units;
}

/* Title: "community: Категория" on one line ("(напоминание)" for a reminder); body: the whole
 * text, and a broadcast's start. What the message shows, as plain text: the body is cut so that
 * title, body and the links together fit in Telegram's limit. */
static int telegram_render(const struct sink_conf *conf, const struct notification *n,
                           char **ret_title, char **ret_body)
{
        const struct telegram_settings *set = conf ? conf->settings : NULL;
        _cleanup_free_ char *title = NULL, *body = NULL;
        int r = sink_render_templates(conf, n, RENDER_DEFAULT_TITLE,
                                      n->starts_at ? "{text}\n\nНачало: {starts_at}" : "{text}", 0,
                                      &title, &body);
        if (r < 0)
                return r;
        if (n->kind && streq(n->kind, "reminder") && !(conf && conf->template_title)) {
                char *t = NULL;
                if (asprintf(&t, "%s (напоминание)", title) < 0)
                        return -ENOMEM;
                free(title);
                title = t;
        }
        one_line(title);
        r = cut_chars(&title, TITLE_MAX_CHARS);
        if (r >= 0 && conf && conf->max_length > 0)
                r = cut_chars(&body, conf->max_length);
        if (r < 0)
                return r;
        /* title, "\n", body, links: within TEXT_MAX_UNITS (the title is far shorter) */
        size_t fixed = utf16_len(title) + 1 + links_units(n, set ? set->buttons : true);
        r = cut_units(&body, fixed < TEXT_MAX_UNITS ? TEXT_MAX_UNITS - fixed : 1);
        if (r < 0)
                return r;
        *ret_title = TAKE_PTR(title);
        *ret_body = TAKE_PTR(body);
        return 0;
}

/* Appends s with &, <, > and " as HTML entities (the four Telegram's HTML knows by name). */
static int append_escaped(struct strbuf *sb, const char *s)
{
        int r = 0;
        while (*s && r >= 0) {
                size_t n = strcspn(s, "&<>\"");
                if (n > 0)
                        r = strbuf_append(sb, s, n);
                s += n;
                if (!*s || r < 0)
                        break;
                r = strbuf_puts(sb, *s == '&'   ? "&amp;"
                                    : *s == '<' ? "&lt;"
                                    : *s == '>' ? "&gt;"
                                                : "&quot;");
                s++;
        }
        return r;
}

/* The text with parse_mode HTML: "<b>title</b>\nbody", then the links when buttons are off. */
static int message_html(const struct notification *n, const char *title, const char *body,
                        bool buttons, char **ret)
{
        struct strbuf sb = {0};
        struct notification_action a[NOTIFICATION_ACTIONS_MAX];
        size_t k = buttons ? 0 : message_actions(n, a);
        int r = strbuf_puts(&sb, "<b>");
        if (r >= 0)
                r = append_escaped(&sb, title);
        if (r >= 0)
                r = strbuf_puts(&sb, "</b>");
        if (r >= 0 && body[0])
                r = strbuf_puts(&sb, "\n");
        if (r >= 0)
                r = append_escaped(&sb, body);
        for (size_t i = 0; i < k && r >= 0; i++) {
                r = strbuf_puts(&sb, i ? LINK_SEPARATOR "<a href=\"" : "\n\n<a href=\"");
                if (r >= 0)
                        r = append_escaped(&sb, a[i].url);
                if (r >= 0)
                        r = strbuf_puts(&sb, "\">");
                if (r >= 0)
                        r = append_escaped(&sb, a[i].label);
                if (r >= 0)
                        r = strbuf_puts(&sb, "</a>");
        }
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

static bool category_silent(const struct telegram_settings *set, const char *category)
{
        if (set && set->silent_categories)
                return strv_contains(set->silent_categories, category);
        return strv_contains((char *const *)default_silent, category);
}

/* Whether n goes without a sound: asked to (quiet hours, quiet_mode: silent), or every one of its
 * categories is a silent one. An alert about govwatch itself always makes a sound. */
static bool message_silent(const struct telegram_settings *set, const struct notification *n)
{
        if (n->silent)
                return true;
        if (n->kind && streq(n->kind, "alert"))
                return false;
        if (!n->categories || !n->categories[0])
                return category_silent(set, "uncategorized");
        for (char *const *c = n->categories; *c; c++)
                if (!category_silent(set, *c))
                        return false;
        return true;
}

/* sendMessage's parameters but chat_id, which each chat gets in turn. */
static int message_json(const struct sink_conf *conf, const struct notification *n, json_t **ret)
{
        const struct telegram_settings *set = conf->settings;
        _cleanup_free_ char *title = NULL, *body = NULL, *html = NULL;
        int r = telegram_render(conf, n, &title, &body);
        if (r >= 0)
                r = message_html(n, title, body, set->buttons, &html);
        if (r < 0)
                return r;
        json_t *m = json_pack("{s:s, s:s, s:b, s:{s:b}}", "text", html, "parse_mode", "HTML",
                              "disable_notification", message_silent(set, n),
                              "link_preview_options", "is_disabled", !set->link_preview);
        if (!m)
                return -ENOMEM;
        struct notification_action a[NOTIFICATION_ACTIONS_MAX];
        size_t k = set->buttons ? message_actions(n, a) : 0;
        if (k > 0) {
                json_t *row = json_array();
                for (size_t i = 0; row && i < k; i++)
                        if (json_array_append_new(row, json_pack("{s:s, s:s}", "text", a[i].label,
                                                                 "url", a[i].url)) < 0)
                                row = (json_decref(row), NULL);
                if (!row || json_object_set_new(m, "reply_markup",
                                                json_pack("{s:[o]}", "inline_keyboard", row)) < 0) {
                        json_decref(m);
                        return -ENOMEM;
                }
        }
        *ret = m;
        return 0;
}

/* ---- the sink ---------------------------------------------------------------------------- */

/* A chat of a notification that needs nothing more: it accepted, or refused for good. */
struct progress {
        int64_t notification_id;
        size_t chat; /* index into chat_ids */
        bool accepted;
        char *detail; /* why it refused */
};

struct telegram_sink;

/* One notification on its way to the chats: req is the sink's, its done and the request in
 * flight, made again for each chat. */
struct telegram_send {
        struct sink_http_request req;
        int64_t notification_id; /* 0 (test-sink): nothing remembered */
        json_t *message;
        char *token;
        size_t token_size;
        size_t chat;          /* the chat being sent to, or the next one */
        unsigned migrations;  /* followed for this chat */
        size_t n_accepted;    /* chats that have it, in this send or earlier ones */
        size_t n_rejected;    /* chats that refused it for good */
        struct strbuf failed; /* "chat X: why; chat Y: why" */
        uint64_t retry_after_usec;
        bool try_later;
        char *url; /* of the request in flight: it holds the token */
};

struct telegram_sink {
        struct sink sink;
        const struct sink_conf *conf;
        const struct telegram_settings *settings; /* conf's */
        struct http *http;
        size_t n_chats;
        int64_t *migrated; /* per chat: the id the Bot API moved it to, 0: none */
        struct progress *progress;
        size_t n_progress, progress_allocated;
        struct sink_http_request *sends; /* in flight: telegram_send.req */
};

static struct telegram_send *send_of(struct sink_http_request *req)
{
        return container_of(req, struct telegram_send, req);
}

static struct telegram_sink *send_sink(const struct telegram_send *q)
{
        return (struct telegram_sink *)q->req.sink;
}

static void wipe_free(char *s, size_t size)
{
        if (s) {
                explicit_bzero(s, size);
                free(s);
        }
}

/* Replaces every copy of secret in s (a string in size bytes) with "<token>"; cut: and drops a
 * start of it that ends s (what a cut to a buffer's size leaves of a copy). */
static void redact(char *s, size_t size, const char *secret, bool cut)
{
        static const char mark[] = "<token>";
        size_t len = secret ? strlen(secret) : 0, o = 0;
        char *out;

        if (len < 4 || size == 0)
                return;
        out = malloc(size);
        if (!out) {
                s[0] = '\0'; /* nothing rather than a secret */
                return;
        }
        for (const char *p = s; *p && o + 1 < size;) {
                if (strncmp(p, secret, len) == 0) {
                        if (o + sizeof(mark) > size)
                                break;
                        memcpy(out + o, mark, sizeof(mark) - 1);
                        o += sizeof(mark) - 1;
                        p += len;
                } else
                        out[o++] = *p++;
        }
        /* a copy cut short at the end: its first 4 bytes or more */
        for (size_t k = len - 1; cut && k >= 4; k--)
                if (o >= k && memcmp(out + o - k, secret, k) == 0) {
                        o -= k;
                        break;
                }
        out[o] = '\0';
        memcpy(s, out, o + 1);
        explicit_bzero(out, size);
        free(out);
}

/* Redacts the token, and its secret half alone (the bot's id before the colon is public; a
 * percent-encoded colon would leave the secret half), also where a cut left only its start. */
static void redact_token(char *s, size_t size, const char *token)
{
        if (!token)
                return;
        redact(s, size, token, false);
        const char *colon = strchr(token, ':');
        redact(s, size, colon ? colon + 1 : token, true);
}

/* The chat as the admin wrote it, and where it went when the Bot API moved it. */
static const char *chat_label(const struct telegram_sink *t, size_t chat, char *buf, size_t size)
{
        const char *id = t->settings->chat_ids[chat];
        if (t->migrated[chat])
                snprintf(buf, size, "%s (now %" PRId64 ")", id, t->migrated[chat]);
        else
                snprintf(buf, size, "%s", id);
        return buf;
}

static struct progress *progress_find(struct telegram_sink *t, int64_t id, size_t chat)
{
        for (size_t i = 0; id != 0 && i < t->n_progress; i++)
                if (t->progress[i].notification_id == id && t->progress[i].chat == chat)
                        return &t->progress[i];
        return NULL;
}

static void progress_add(struct telegram_sink *t, int64_t id, size_t chat, bool accepted,
                         const char *detail)
{
        if (id == 0 || progress_find(t, id, chat))
                return;
        if (t->n_progress >= PROGRESS_MAX) {
                /* the oldest go: at worst one duplicate to a chat that had it */
                free(t->progress[0].detail);
                memmove(t->progress, t->progress + 1, (t->n_progress - 1) * sizeof(*t->progress));
                t->n_progress--;
        }
        if (!greedy_realloc((void **)&t->progress, &t->progress_allocated, t->n_progress + 1,
                            sizeof(*t->progress)))
                return; /* forgotten: a retry sends to this chat again */
        char *copy = detail ? strdup(detail) : NULL;
        t->progress[t->n_progress++] = (struct progress){
                .notification_id = id, .chat = chat, .accepted = accepted, .detail = copy};
}

static void progress_forget(struct telegram_sink *t, int64_t id)
{
        size_t k = 0;
        for (size_t i = 0; i < t->n_progress; i++) {
                if (id != 0 && t->progress[i].notification_id == id) {
                        free(t->progress[i].detail);
                        continue;
                }
                t->progress[k++] = t->progress[i];
        }
        t->n_progress = k;
}

/* The request to one chat is over: what it used goes, the send stays. */
static void request_done(struct telegram_send *q)
{
        sink_http_request_reset(&q->req);
        wipe_free(q->url, q->url ? strlen(q->url) : 0);
        q->url = NULL;
}

static struct sink_http_request *send_free(struct sink_http_request *req)
{
        struct telegram_send *q = req ? send_of(req) : NULL;

        if (!q)
                return NULL;
        sink_http_request_unlink(req);
        request_done(q);
        json_decref(q->message);
        wipe_free(q->token, q->token_size);
        strbuf_done(&q->failed);
        free(q);
        return NULL;
}

/* The bot token from token_file: *ret is wiped and freed by the caller. A file that does not
 * hold a token is named, never quoted. */
static int read_token(const struct telegram_settings *set, char **ret, size_t *ret_size,
                      char *detail, size_t size)
{
        char *token = NULL;
        size_t n = 0;
        int r = read_full_file(set->token_file, TOKEN_MAX, true, &token, &n);
        if (r < 0) {
                snprintf(detail, size, "cannot read token_file %s: %s", set->token_file,
                         r == -EFBIG ? "too large for a bot token" : strerror(-r));
                return r;
        }
        /* an editor's CR or trailing blank is no part of it */
        while (n > 0 && strchr(" \t\r\n", token[n - 1]))
                token[--n] = '\0';
        /* "123456789:AAH...": digits, a colon, letters, digits, '_' and '-' */
        size_t digits = strspn(token, "0123456789");
        bool ok = digits > 0 && token[digits] == ':' && token[digits + 1] &&
                  token[digits + 1 +
                        strspn(token + digits + 1,
                               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_-")] == '\0';
        if (!ok) {
                snprintf(
                        detail, size,
                        token[0]
                                ? "token_file %s does not hold a bot token (like 123456789:AAH..., "
                                  "as @BotFather gives it)"
                                : "token_file %s is empty (the service's credential is empty "
                                  "when its file is missing)",
                        set->token_file);
                wipe_free(token, n);
                return -EINVAL;
        }
        *ret = token;
        *ret_size = n;
        return 0;
}

enum outcome {
        OUTCOME_ACCEPTED,
        OUTCOME_MIGRATE,
        OUTCOME_REJECTED,  /* this chat, for good */
        OUTCOME_TRY_LATER, /* this chat and the ones after it */
};

struct answer {
        enum outcome outcome;
        int64_t migrate_to;
        uint64_t retry_after_usec;
        int64_t message_id;
        char detail[DETAIL_MAX];
};

/* No answer at all: refused, timed out, TLS. The chats after this one would fare no better. */
static void answer_unanswered(struct telegram_send *q, const struct sink_http_answer *h,
                              const char *chat, struct answer *a)
{
        char why[CURL_ERROR_SIZE];

        /* curl's message may quote the URL, which holds the token */
        snprintf(why, sizeof(why), "%s", h->why);
        redact_token(why, sizeof(why), q->token);
        if (h->code == CURLE_PEER_FAILED_VERIFICATION)
                snprintf(a->detail, sizeof(a->detail),
                         "chat %s: certificate of api_url not trusted: set ca_file (%s)", chat,
                         why);
        else
                snprintf(a->detail, sizeof(a->detail), "chat %s: %s", chat, why);
}

/* The server's description of a refusal, or the start of a body that is not the Bot API's. */
static void answer_description(struct telegram_send *q, long status, const json_t *root, char *desc,
                               size_t size)
{
        const char *d = json_string_value(json_object_get(root, "description"));
        if (d)
                sink_http_printable(d, strlen(d), DESCRIPTION_CHARS, true, desc, size);
        else if (q->req.response.data && q->req.response.size > 0) {
                int n = snprintf(desc, size, "HTTP %ld: ", status);
                size_t hl = n > 0 && (size_t)n < size ? (size_t)n : 0;
                sink_http_printable(q->req.response.data, q->req.response.size, DESCRIPTION_CHARS,
                                    false, desc + hl, size - hl);
        } else
                snprintf(desc, size, "HTTP %ld", status);
        redact_token(desc, size, q->token);
}

/* A refusal: error_code (else the HTTP status), its description and parameters. */
static void answer_refusal(struct telegram_send *q, long err, const char *desc, const json_t *root,
                           json_int_t header_retry, const char *chat, struct answer *a)
{
        const json_t *params = json_object_get(root, "parameters");
        const json_t *migrate = json_object_get(params, "migrate_to_chat_id");
        const json_t *retry = json_object_get(params, "retry_after");
        const char *d = json_string_value(json_object_get(root, "description"));

        a->outcome = OUTCOME_TRY_LATER;
        if (json_is_integer(migrate) && json_integer_value(migrate) != 0) {
                a->outcome = OUTCOME_MIGRATE;
                a->migrate_to = (int64_t)json_integer_value(migrate);
                snprintf(a->detail, sizeof(a->detail), "chat %s: %s", chat, desc);
        } else if (err == 429) {
                json_int_t s = json_is_integer(retry) ? json_integer_value(retry) : header_retry;
                if (s > SINK_HTTP_RETRY_AFTER_MAX)
                        s = SINK_HTTP_RETRY_AFTER_MAX;
                a->retry_after_usec = s > 0 ? (uint64_t)s * USEC_PER_SEC : 0;
                snprintf(a->detail, sizeof(a->detail), "chat %s: flood control (%s)", chat, desc);
        } else if (err == 401 || err == 404)
                /* the same for every chat: the token, or the server, is wrong */
                snprintf(a->detail, sizeof(a->detail),
                         "the Bot API refused the token (%s): check token_file %s%s", desc,
                         send_sink(q)->settings->token_file, err == 404 ? " and api_url" : "");
        else if (err >= 500 || err < 400 || err == 420)
                snprintf(a->detail, sizeof(a->detail), "chat %s: %s", chat, desc);
        else {
                a->outcome = OUTCOME_REJECTED;
                if (err == 403)
                        snprintf(a->detail, sizeof(a->detail),
                                 "chat %s refuses the bot (%s): unblock the bot or add it to "
                                 "the chat again, or remove the chat from chat_ids",
                                 chat, desc);
                else if (d && strstr(d, "chat not found"))
                        snprintf(a->detail, sizeof(a->detail),
                                 "chat %s not found (%s): check chat_ids; a user must start the "
                                 "bot first, a channel must have the bot as an administrator",
                                 chat, desc);
                else
                        snprintf(a->detail, sizeof(a->detail), "chat %s: %s", chat, desc);
        }
}

/* What one sendMessage's end means. */
static void classify_answer(struct telegram_send *q, CURLcode code, struct answer *a)
{
        struct sink_http_answer h;
        char chat[96], desc[DESCRIPTION_CHARS * 4 + 8];
        json_t *root = NULL;

        *a = (struct answer){.outcome = OUTCOME_TRY_LATER};
        chat_label(send_sink(q), q->chat, chat, sizeof(chat));
        /* h.result is not the Bot API's: its JSON says more than the status */
        sink_http_answer_read(&q->req, code, &h);
        long status = h.status;
        if (!h.answered) {
                answer_unanswered(q, &h, chat, a);
                goto out;
        }
        if (q->req.response.data && !q->req.response.overflowed)
                root = json_loadb(q->req.response.data, q->req.response.size, 0, NULL);
        /* only the Bot API's own "ok": a 200 from anything else (a captive portal, a wrong
         * api_url) delivered nothing */
        json_t *ok = json_object_get(root, "ok");
        if (!json_is_boolean(ok) && status >= 200 && status < 300) {
                answer_description(q, status, NULL, desc, sizeof(desc));
                snprintf(a->detail, sizeof(a->detail),
                         "chat %s: not an answer of the Bot API (%s): check api_url", chat, desc);
                goto out;
        }
        if (json_is_true(ok)) {
                a->outcome = OUTCOME_ACCEPTED;
                a->message_id = json_integer_value(
                        json_object_get(json_object_get(root, "result"), "message_id"));
                snprintf(a->detail, sizeof(a->detail), "chat %s: message %" PRId64, chat,
                         a->message_id);
                goto out;
        }
        const json_t *error_code = json_object_get(root, "error_code");
        answer_description(q, status, root, desc, sizeof(desc));
        answer_refusal(q,
                       json_is_integer(error_code) ? (long)json_integer_value(error_code) : status,
                       desc, root, (json_int_t)h.retry_after, chat, a);
out:
        json_decref(root);
        redact_token(a->detail, sizeof(a->detail), q->token);
}

static void send_next(struct telegram_send *q);

/* The send is over: one answer for the outbox, then q is gone. */
static void send_finish(struct telegram_send *q)
{
        struct telegram_sink *t = send_sink(q);
        enum sink_result result;
        char detail[DETAIL_MAX * 2];
        size_t n = t->n_chats;

        if (q->try_later) {
                result = SINK_TRY_LATER;
                if (q->n_accepted > 0)
                        snprintf(detail, sizeof(detail),
                                 "%s; delivered to %zu of %zu chats already (a retry does not "
                                 "send to them again)",
                                 strempty(q->failed.buf), q->n_accepted, n);
                else
                        snprintf(detail, sizeof(detail), "%s", strempty(q->failed.buf));
        } else if (q->n_rejected > 0) {
                result = SINK_REJECTED;
                if (q->n_accepted > 0)
                        snprintf(detail, sizeof(detail), "%s; delivered to the other %zu %s",
                                 strempty(q->failed.buf), q->n_accepted,
                                 plural(q->n_accepted, "chat", "chats"));
                else
                        snprintf(detail, sizeof(detail), "%s", strempty(q->failed.buf));
        } else {
                result = SINK_ACCEPTED;
                snprintf(detail, sizeof(detail), "delivered to %zu %s", q->n_accepted,
                         plural(q->n_accepted, "chat", "chats"));
        }
        redact_token(detail, sizeof(detail), q->token);
        if (result != SINK_TRY_LATER)
                progress_forget(t, q->notification_id);
        if (result == SINK_ACCEPTED)
                log_debug("Sink %s: %s.", t->sink.name, detail);
        else
                log_warning("Sink %s: %s: %s", t->sink.name, sink_result_name(result), detail);

        sink_http_request_finish(&q->req, send_free, result, q->retry_after_usec, detail);
}

static void note_failure(struct telegram_send *q, const char *detail)
{
        if (q->failed.len > 0)
                (void)strbuf_puts(&q->failed, "; ");
        (void)strbuf_puts(&q->failed, detail);
}

/* The chat needs nothing more of this notification (it accepted, or refused it for good), in
 * this send or a retry: on to the next. */
static void chat_settled(struct telegram_send *q, bool accepted, const char *detail)
{
        progress_add(send_sink(q), q->notification_id, q->chat, accepted, detail);
        if (accepted)
                q->n_accepted++;
        else {
                note_failure(q, detail);
                q->n_rejected++;
        }
        q->chat++;
        q->migrations = 0;
}

static void on_done(CURL *easy, CURLcode code, void *userdata)
{
        struct telegram_send *q = userdata;
        struct telegram_sink *t = send_sink(q);
        struct answer a;
        char chat[96];

        (void)easy;
        classify_answer(q, code, &a);
        request_done(q);

        switch (a.outcome) {
        case OUTCOME_ACCEPTED:
                log_debug("Sink %s: %s.", t->sink.name, a.detail);
                chat_settled(q, true, NULL);
                break;
        case OUTCOME_MIGRATE:
                if (++q->migrations > MIGRATIONS_MAX) {
                        snprintf(a.detail, sizeof(a.detail),
                                 "chat %s: the Bot API keeps moving it (%u migrations)",
                                 chat_label(t, q->chat, chat, sizeof(chat)), MIGRATIONS_MAX);
                        log_warning("Sink %s: %s.", t->sink.name, a.detail);
                        chat_settled(q, false, a.detail);
                        break;
                }
                if (t->migrated[q->chat] != a.migrate_to) {
                        t->migrated[q->chat] = a.migrate_to;
                        log_warning("Sink %s: chat %s was upgraded to a supergroup with id %" PRId64
                                    ": sending there now. Put %" PRId64
                                    " in chat_ids in place of %s.",
                                    t->sink.name, t->settings->chat_ids[q->chat], a.migrate_to,
                                    a.migrate_to, t->settings->chat_ids[q->chat]);
                }
                break; /* the same chat again, at its new id */
        case OUTCOME_REJECTED:
                log_debug("Sink %s: %s.", t->sink.name, a.detail);
                chat_settled(q, false, a.detail);
                break;
        case OUTCOME_TRY_LATER:
                note_failure(q, a.detail);
                q->try_later = true;
                q->retry_after_usec = a.retry_after_usec;
                break;
        }
        if (q->try_later)
                send_finish(q);
        else
                send_next(q);
}

/* Starts sendMessage to q->chat. */
static int request_start(struct telegram_send *q)
{
        struct telegram_sink *t = send_sink(q);
        const struct telegram_settings *set = t->settings;
        const char *id = set->chat_ids[q->chat];
        int64_t numeric;
        json_t *chat_id;
        int r = -ENOMEM;

        if (t->migrated[q->chat])
                chat_id = json_integer(t->migrated[q->chat]);
        else if (chat_id_numeric(id, &numeric))
                chat_id = json_integer(numeric);
        else
                chat_id = json_string(id);
        if (!chat_id || json_object_set_new(q->message, "chat_id", chat_id) < 0)
                return -ENOMEM;
        q->req.body = json_dumps(q->message, JSON_COMPACT);
        if (!q->req.body)
                return -ENOMEM;
        size_t base = strlen(set->api_url);
        while (base > 0 && set->api_url[base - 1] == '/')
                base--;
        if (asprintf(&q->url, "%.*s/bot%s/sendMessage", (int)base, set->api_url, q->token) < 0) {
                q->url = NULL;
                return -ENOMEM;
        }
        r = sink_http_request_prepare(&q->req, q->url, t->conf->timeout_usec, set->ca_file);
        if (r >= 0)
                r = http_add(t->http, q->req.easy, on_done, q);
        return r;
}

/* The next chat still owed the message, or the end. */
static void send_next(struct telegram_send *q)
{
        struct telegram_sink *t = send_sink(q);

        for (; q->chat < t->n_chats; q->chat++) {
                struct progress *p = progress_find(t, q->notification_id, q->chat);
                if (!p)
                        break;
                /* settled by an earlier send of this notification */
                if (p->accepted)
                        q->n_accepted++;
                else {
                        q->n_rejected++;
                        note_failure(q, strempty(p->detail));
                }
        }
        if (q->chat >= t->n_chats) {
                send_finish(q);
                return;
        }
        int r = request_start(q);
        if (r < 0) {
                char detail[160];
                request_done(q);
                snprintf(detail, sizeof(detail), "cannot start the request: %s", strerror(-r));
                note_failure(q, detail);
                q->try_later = true;
                send_finish(q);
        }
}

static int telegram_send(struct sink *s, const struct notification *n, sink_done_fn done,
                         void *userdata)
{
        struct telegram_sink *t = (struct telegram_sink *)s;
        struct telegram_send *q;
        char detail[DETAIL_MAX];
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        sink_http_request_init(&q->req, s, t->http, done, userdata);
        q->notification_id = n->id;
        r = message_json(t->conf, n, &q->message);
        if (r < 0) {
                send_free(&q->req);
                return log_warning_errno(r, "Sink %s: cannot build the message: %m", s->name);
        }
        sink_http_request_link(&q->req, &t->sends);

        /* a token the admin has to fix: the notifications wait for it */
        if (read_token(t->settings, &q->token, &q->token_size, detail, sizeof(detail)) < 0) {
                note_failure(q, detail);
                q->try_later = true;
                send_finish(q);
                return 0;
        }
        send_next(q);
        return 0;
}

static void telegram_free(struct sink *s)
{
        struct telegram_sink *t = (struct telegram_sink *)s;

        if (!t)
                return;
        sink_http_requests_drop(&t->sends, send_free);
        for (size_t i = 0; i < t->n_progress; i++)
                free(t->progress[i].detail);
        free(t->progress);
        free(t->migrated);
        free(t);
}

static int telegram_create(const struct sink_conf *conf, const struct sink_context *ctx,
                           struct sink **ret)
{
        const struct telegram_settings *set = conf->settings;
        struct telegram_sink *t;

        if (!ctx || !ctx->http || !set || !set->token_file || !set->api_url || !set->chat_ids ||
            !set->chat_ids[0])
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->conf = conf;
        t->settings = set;
        t->http = ctx->http;
        t->n_chats = strv_length(set->chat_ids);
        t->migrated = calloc(t->n_chats, sizeof(*t->migrated));
        if (!t->migrated) {
                free(t);
                return -ENOMEM;
        }
        *ret = &t->sink;
        return 0;
}

const struct sink_ops sink_telegram_ops = {
        .type = "telegram",
        SINK_SETTINGS(telegram_table, struct telegram_settings),
        .check = telegram_check,
        .can_silence = true,
        .concurrency = 1, /* a chat reads in arrival order; and Telegram's flood control
                           * limits a bot to about one message a second a chat */
        .create = telegram_create,
        .send = telegram_send,
        .free = telegram_free,
        .render = telegram_render,
};
