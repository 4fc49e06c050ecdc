/* notification.c — the notification object: freeing and its JSON form. */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "notification.h"
#include "timeparse.h"

struct notification *notification_free(struct notification *n)
{
        if (!n)
                return NULL;
        free(n->kind);
        free(n->community);
        free(n->topic);
        free(n->url);
        free(n->text);
        strv_free(n->categories);
        free(n->watch_url);
        free(n);
        return NULL;
}

/* Whether n is about a live broadcast (one of its categories is "live"). */
static bool is_live(const struct notification *n)
{
        return n->categories && strv_contains(n->categories, "live");
}

size_t notification_actions(const struct notification *n,
                            struct notification_action out[static NOTIFICATION_ACTIONS_MAX])
{
        const char *watch = n->watch_url && n->watch_url[0] ? n->watch_url : NULL;
        size_t k = 0;

        if (!n->url || !n->url[0])
                return 0;
        if (n->kind && streq(n->kind, "reminder") && is_live(n)) {
                out[k++] = (struct notification_action){"watch", "Смотреть", watch ?: n->url};
                if (watch)
                        out[k++] = (struct notification_action){"ask", "Задать вопрос", n->url};
        } else if (n->kind && streq(n->kind, "post") && is_live(n)) {
                out[k++] = (struct notification_action){"ask", "Задать вопрос", n->url};
                if (watch)
                        out[k++] = (struct notification_action){"watch", "Смотреть", watch};
        } else
                out[k++] = (struct notification_action){"open", "Открыть", n->url};
        return k;
}

/* 0 means "unknown" in notifications; the formatting itself is timeparse's. */
void format_iso8601(int64_t t, int32_t utc_offset, char *buf, size_t size)
{
        if (t == 0) {
                if (size > 0)
                        buf[0] = '\0';
                return;
        }
        timeparse_format_iso8601(t, utc_offset, buf, size);
}

/* [{"key": "ask", "label": "Задать вопрос", "url": "https://vk.com/wall-1_2"}, ...]: the
 * buttons, for a hook */
static json_t *actions_to_json(const struct notification *n)
{
        struct notification_action actions[NOTIFICATION_ACTIONS_MAX];
        size_t k = notification_actions(n, actions);
        json_t *a = json_array();

        for (size_t i = 0; a && i < k; i++)
                json_array_append_new(a,
                                      json_pack("{s:s, s:s, s:s}", "key", actions[i].key, "label",
                                                actions[i].label, "url", actions[i].url));
        return a;
}

char *notification_to_json(const struct notification *n)
{
        return notification_to_json_rendered(n, NULL, NULL);
}

char *notification_to_json_rendered(const struct notification *n, const char *title,
                                    const char *body)
{
        json_t *o = json_object(), *cats = json_array();
        char starts[40], date[40];
        char *s = NULL;

        if (!o || !cats)
                goto out;
        for (char **c = n->categories; c && *c; c++)
                json_array_append_new(cats, json_string(*c));
        format_iso8601(n->starts_at, n->starts_at_utc_offset, starts, sizeof(starts));
        format_iso8601(n->date, n->date_utc_offset, date, sizeof(date));
        json_object_set_new(o, "kind", json_string(strempty(n->kind)));
        json_object_set_new(o, "owner_id", json_integer(n->owner_id));
        json_object_set_new(o, "id", json_integer(n->post_id));
        json_object_set_new(o, "url", json_string(strempty(n->url)));
        json_object_set_new(o, "community", json_string(strempty(n->community)));
        json_object_set_new(o, "topic", json_string(strempty(n->topic)));
        json_object_set_new(o, "categories", cats);
        cats = NULL;
        /* json_string() refuses invalid UTF-8; VK text is valid JSON-decoded UTF-8, but be safe */
        json_t *text = json_string(strempty(n->text));
        json_object_set_new(o, "text", text ? text : json_string(""));
        json_object_set_new(o, "date", n->date ? json_string(date) : json_null());
        json_object_set_new(o, "starts_at", n->starts_at ? json_string(starts) : json_null());
        json_object_set_new(o, "actions", actions_to_json(n));
        /* rendered text went through render_template, which keeps UTF-8 valid */
        if (title)
                json_object_set_new(o, "title", json_string(title));
        if (body)
                json_object_set_new(o, "body", json_string(body));
        s = json_dumps(o, JSON_COMPACT);
out:
        json_decref(cats);
        json_decref(o);
        return s;
}

/* asprintf() that leaves NULL behind on failure (glibc leaves *ret undefined). */
static int field(char **ret, const char *fmt, ...) _printf_(2, 3);
static int field(char **ret, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (r < 0)
                *ret = NULL;
        return r;
}

char **notification_journal_fields(const struct notification *n)
{
        _cleanup_free_ char *cats = strv_join(n->categories, ",");
        char **l = calloc(8, sizeof(char *));

        if (!l || !cats || field(&l[0], "GOVWATCH_KIND=%s", n->kind ? n->kind : "post") < 0 ||
            field(&l[1], "GOVWATCH_COMMUNITY=%s", strempty(n->community)) < 0 ||
            field(&l[2], "GOVWATCH_OWNER_ID=%" PRId64, n->owner_id) < 0 ||
            field(&l[3], "GOVWATCH_POST=%s", strempty(n->url)) < 0 ||
            field(&l[4], "GOVWATCH_POST_ID=%" PRId64, n->post_id) < 0 ||
            field(&l[5], "GOVWATCH_CATEGORIES=%s", cats) < 0 ||
            field(&l[6], "GOVWATCH_TOPIC=%s", strempty(n->topic)) < 0) {
                strv_free(l);
                return NULL;
        }
        return l;
}

int notification_priority(const struct notification *n, int level)
{
        for (char **c = n->categories; c && *c; c++)
                if (streq(*c, "emergency"))
                        return LOG_WARNING < level ? LOG_WARNING : level;
        return level;
}
