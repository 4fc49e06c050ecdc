/* notification.c — the notification object: freeing and its JSON form. */
#include <jansson.h>
#include <stdio.h>
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
        free(n);
        return NULL;
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

char *notification_to_json(const struct notification *n)
{
        json_t *o = json_object(), *cats = json_array();
        char starts[40], date[40];
        char *s = NULL;

        if (!o || !cats)
                goto out;
        for (char **c = n->categories; c && *c; c++)
                json_array_append_new(cats, json_string(*c));
        format_iso8601(n->starts_at, n->starts_at_utc_offset, starts, sizeof(starts));
        format_iso8601(n->date, 0, date, sizeof(date));
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
        s = json_dumps(o, JSON_COMPACT);
out:
        json_decref(cats);
        json_decref(o);
        return s;
}
