/* sinks/console.c — human-readable lines on stdout, one block per notification.
 *
 * The only sink that is synchronous: writing a few lines to a terminal or the journal does not
 * block in practice, and a failed write (a closed pipe) is "try later", never a crash.
 */
#include <stdio.h>
#include <time.h>

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

/* Control characters from VK text would let a post move the cursor or clear the terminal. */
static void put_sanitized(FILE *f, const char *s, size_t max_bytes)
{
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)s; p && *p; p++, n++) {
                if (n >= max_bytes) {
                        /* cut on a character boundary: skip UTF-8 continuation bytes */
                        fputs("…", f);
                        return;
                }
                if (*p == '\n')
                        fputs("\n    ", f);
                else if (*p < 0x20 || *p == 0x7f)
                        fputc(' ', f);
                else
                        fputc(*p, f);
                if (n + 1 >= max_bytes)
                        while ((p[1] & 0xC0) == 0x80)
                                fputc(*++p, f), n++;
        }
}

static int console_send(struct sink *s, const struct notification *n, sink_done_fn done,
                        void *userdata)
{
        struct console_sink *c = (struct console_sink *)s;
        char when[32] = "";
        struct tm tm;
        time_t t = (time_t)n->date;

        if (n->date && localtime_r(&t, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);

        fputs("▶ ", c->f);
        put_sanitized(c->f, n->community, 200);
        fputs(" [", c->f);
        for (char **cat = n->categories; cat && *cat; cat++)
                fprintf(c->f, "%s%s", cat == n->categories ? "" : ", ", *cat);
        if (!n->categories || !n->categories[0])
                fputs("—", c->f);
        fprintf(c->f, "] %s", when);
        if (n->kind && !streq(n->kind, "post"))
                fprintf(c->f, " (%s)", n->kind);
        fputs("\n    ", c->f);
        put_sanitized(c->f, n->text, 600);
        fprintf(c->f, "\n    %s\n", strempty(n->url));
        if (n->starts_at) {
                char iso[40];
                format_iso8601(n->starts_at, n->starts_at_utc_offset, iso, sizeof(iso));
                fprintf(c->f, "    начало: %s\n", iso);
        }
        int r = fflush(c->f);
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
};
