/* fuzz-json.c — the notification as JSON: the exec sink's stdin and the webhook's body.
 *
 * Input: NUL-separated fields (see fuzz.h): kind, community, topic, url, text, categories
 * (comma-separated), title template, body template, owner_id, post_id, date, its UTC offset,
 * starts_at, its UTC offset, sink type (exec or webhook; empty: both). The notification is
 * rendered as that sink renders it (sink_render) and written by notification_to_json_rendered;
 * a program or a web service reads it back. Checks: the JSON parses, and every field a reader
 * gets is the one sent (strings that are valid UTF-8 come back unchanged; ids as numbers; title
 * and body as rendered; dates as the ISO 8601 text of timeparse), nothing silently dropped.
 */
#include <jansson.h>

#include "fuzz.h"
#include "notification.h"
#include "sink.h"

enum {
        F_KIND,
        F_COMMUNITY,
        F_TOPIC,
        F_URL,
        F_TEXT,
        F_CATEGORIES,
        F_TITLE,
        F_BODY,
        F_OWNER_ID,
        F_POST_ID,
        F_DATE,
        F_DATE_OFFSET,
        F_STARTS_AT,
        F_STARTS_OFFSET,
        F_TYPE,
        _F_MAX,
};

static bool valid(const char *s)
{
        return fuzz_utf8_valid(s, strlen(s));
}

static void check_string(const json_t *o, const char *key, const char *sent)
{
        const json_t *v = json_object_get(o, key);
        /* what VK and YAML hand over is valid UTF-8; other bytes may be left out, never
         * written as something else */
        if (!valid(sent)) {
                fuzz_assert(!v || json_is_string(v), "\"%s\" is not a string", key);
                return;
        }
        fuzz_assert(json_is_string(v), "\"%s\" is missing or not a string", key);
        fuzz_assert(streq(json_string_value(v), sent), "\"%s\": sent \"%s\", read \"%s\"", key,
                    sent, json_string_value(v));
}

static void check_time(const json_t *o, const char *key, int64_t t, int32_t offset)
{
        const json_t *v = json_object_get(o, key);
        if (t == 0) {
                fuzz_assert(json_is_null(v), "\"%s\" is not null for 0", key);
                return;
        }
        char want[64];
        format_iso8601(t, offset, want, sizeof(want));
        fuzz_assert(json_is_string(v) && streq(json_string_value(v), want),
                    "\"%s\": %lld is not \"%s\"", key, (long long)t, want);
}

static void check_json(const char *s, const struct notification *n, const char *title,
                       const char *body)
{
        json_error_t err;
        json_t *o = json_loads(s, 0, &err);
        fuzz_assert(json_is_object(o), "not a JSON object: %s", err.text);

        check_string(o, "kind", n->kind);
        check_string(o, "community", n->community);
        check_string(o, "topic", n->topic);
        check_string(o, "url", n->url);
        check_string(o, "text", n->text);
        fuzz_assert(json_integer_value(json_object_get(o, "owner_id")) == n->owner_id, "owner_id");
        fuzz_assert(json_integer_value(json_object_get(o, "id")) == n->post_id, "id");
        check_time(o, "date", n->date, n->date_utc_offset);
        check_time(o, "starts_at", n->starts_at, n->starts_at_utc_offset);

        const json_t *cats = json_object_get(o, "categories");
        fuzz_assert(json_is_array(cats), "categories is not an array");
        size_t n_valid = 0;
        for (char **c = n->categories; c && *c; c++)
                if (valid(*c))
                        fuzz_assert(
                                streq(strempty(json_string_value(json_array_get(cats, n_valid++))),
                                      *c),
                                "category \"%s\" lost", *c);

        /* the rendered text, when valid UTF-8, as rendered */
        check_string(o, "title", title);
        check_string(o, "body", body);
        json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_fields f;
        if (fuzz_fields_split(data, size, _F_MAX, &f) < 0)
                return 0;

        _cleanup_strv_free_ char **cats = calloc(f.len[F_CATEGORIES] + 2, sizeof(char *));
        size_t n_cats = 0;
        for (const char *p = f.v[F_CATEGORIES]; cats && *p;) {
                const char *comma = strchrnul(p, ',');
                cats[n_cats] = strndup(p, comma - p);
                if (!cats[n_cats])
                        break;
                n_cats++;
                p = *comma ? comma + 1 : comma;
        }
        struct notification n = {
                .kind = f.v[F_KIND],
                .owner_id = fuzz_field_int(&f, F_OWNER_ID, -1),
                .post_id = fuzz_field_int(&f, F_POST_ID, 1),
                .community = f.v[F_COMMUNITY],
                .topic = f.v[F_TOPIC],
                .url = f.v[F_URL],
                .text = f.v[F_TEXT],
                .categories = cats,
                .date = fuzz_field_int(&f, F_DATE, 1773144000),
                .date_utc_offset = (int32_t)(fuzz_field_int(&f, F_DATE_OFFSET, 10800) % 86400),
                .starts_at = fuzz_field_int(&f, F_STARTS_AT, 0),
                .starts_at_utc_offset =
                        (int32_t)(fuzz_field_int(&f, F_STARTS_OFFSET, 10800) % 86400),
                .created = 1773144000,
        };
        struct sink_conf conf = {
                .name = (char *)"fuzz",
                .template_title = f.v[F_TITLE][0] ? f.v[F_TITLE] : NULL,
                .template_body = f.v[F_BODY][0] ? f.v[F_BODY] : NULL,
                .quiet_start_min = -1,
                .quiet_end_min = -1,
        };
        static const char *const types[] = {"exec", "webhook"};
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_free_ char *title = NULL, *body = NULL, *json = NULL;
                if (f.v[F_TYPE][0] && !streq(f.v[F_TYPE], types[i]))
                        continue;
                conf.type = (char *)types[i];
                if (sink_render(&conf, &n, &title, &body) < 0)
                        continue;
                json = notification_to_json_rendered(&n, title, body);
                fuzz_assert(json, "no JSON for the notification");
                check_json(json, &n, title, body);
        }
        fuzz_fields_done(&f);
        return 0;
}
