/* sinks/console.c — human-readable lines on stdout, one block per notification.
 *
 * The only sink that is synchronous: writing a few lines to a terminal or the journal does not
 * block in practice, and a failed write (a closed pipe) is "try later", never a crash.
 */
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "render.h"
#include "sink.h"

struct console_sink {
        struct sink sink;
        FILE *f;
};

static int console_create(const struct sink_conf *conf, const struct sink_context *ctx,
                          struct sink **ret)
{
        struct console_sink *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->f = ctx && ctx->console ? ctx->console : stdout;
        *ret = &c->sink;
        return 0;
}

/* What kind of notification, for a reader: a post needs no word. */
static const char *kind_title(const char *kind)
{
        if (!kind || streq(kind, "post"))
                return NULL;
        if (streq(kind, "reminder"))
                return "напоминание";
        if (streq(kind, "test"))
                return "проверка";
        if (streq(kind, "alert"))
                return "govwatch";
        return kind;
}

/* Title: "community [Категория, …] 28.11.2026 18:00 (напоминание)"; body: an excerpt of the text,
 * the link, and a broadcast's start. Templates of the sink's settings replace either. */
static int console_render(const struct sink_conf *conf, const struct notification *n,
                          char **ret_title, char **ret_body)
{
        _cleanup_free_ char *title = NULL, *body = NULL;
        const char *kind = kind_title(n->kind);
        int r = sink_render_templates(
                conf, n,
                n->categories && n->categories[0] ? "{community} [{category}] {date}"
                                                  : "{community} {date}",
                n->starts_at ? "{excerpt}\n{url}\nНачало: {starts_at}" : "{excerpt}\n{url}",
                conf ? conf->max_length : 0, &title, &body);
        if (r >= 0 && kind && !(conf && conf->template_title)) {
                char *t = NULL;
                if (asprintf(&t, "%s (%s)", title, kind) < 0)
                        return -ENOMEM;
                free(title);
                title = t;
        }
        if (r < 0)
                return r;
        *ret_title = TAKE_PTR(title);
        *ret_body = TAKE_PTR(body);
        return 0;
}

/* Control characters from VK text would let a post move the cursor or clear the terminal;
 * line breaks become the block's indentation (none at all in the title line). */
static void put_sanitized(FILE *f, const char *s, bool one_line)
{
        for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
                if (*p == '\n')
                        fputs(one_line ? " " : "\n    ", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fputc(' ', f);
                else
                        fputc(*p, f);
}

static int console_send(struct sink *s, const struct notification *n, sink_done_fn done,
                        void *userdata)
{
        struct console_sink *c = (struct console_sink *)s;
        _cleanup_free_ char *title = NULL, *body = NULL;
        int r;

        r = console_render(s->conf, n, &title, &body);
        if (r < 0)
                return r;
        /* under systemd the stream is the journal's: an entry of its own, with fields and a
         * priority (an emergency is a warning), instead of lines at the stream's one priority */
        if (log_fd_is_journal(fileno(c->f))) {
                _cleanup_strv_free_ char **fields = notification_journal_fields(n);
                _cleanup_free_ char *message = NULL;
                if (asprintf(&message, "%s\n%s", title, body) < 0)
                        message = NULL;
                if (fields && message &&
                    journal_send(notification_priority(n, LOG_NOTICE), message,
                                 (const char *const *)fields, NULL, 0) >= 0) {
                        done(s, SINK_ACCEPTED, 0, NULL, userdata);
                        return 0;
                }
        }
        fputs("▶ ", c->f);
        put_sanitized(c->f, title, true);
        fputs("\n    ", c->f);
        put_sanitized(c->f, body, false);
        fputc('\n', c->f);
        r = fflush(c->f);
        if (r != 0 || ferror(c->f)) {
                clearerr(c->f);
                done(s, SINK_TRY_LATER, 0, "write to stdout failed", userdata);
        } else
                done(s, SINK_ACCEPTED, 0, NULL, userdata);
        return 0;
}

static void console_free(struct sink *s)
{
        free(s);
}

const struct sink_ops sink_console_ops = {
        .type = "console",
        .create = console_create,
        .send = console_send,
        .free = console_free,
        .render = console_render,
};
