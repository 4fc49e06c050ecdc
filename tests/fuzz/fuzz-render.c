/* fuzz-render.c — templates from the config and notifications from VK text, rendered.
 *
 * Input: NUL-separated fields (see fuzz.h), in this order: title template, body template, sink
 * type, max_length, kind, community, topic, url, text, categories (comma-separated), date,
 * date's UTC offset, starts_at, its UTC offset, owner_id, post_id. Missing fields are empty.
 * The templates go through render_check (what the config validates) and render_template (what
 * a sink sends), and the whole sink_conf through sink_render (every sink type's own render).
 * Checks: a template render_check accepts renders, one it refuses does not; a cut result fits
 * in max_bytes; from valid UTF-8 the result is valid UTF-8 (notification_to_json_rendered and
 * D-Bus rely on it). The body template, read as a webhook's JSON body: one render_json_check
 * accepts gives valid JSON for every notification.
 */
#include <jansson.h>

#include "fuzz.h"
#include "render.h"
#include "sink.h"

enum {
        F_TITLE,
        F_BODY,
        F_TYPE,
        F_MAX_LENGTH,
        F_KIND,
        F_COMMUNITY,
        F_TOPIC,
        F_URL,
        F_TEXT,
        F_CATEGORIES,
        F_DATE,
        F_DATE_OFFSET,
        F_STARTS_AT,
        F_STARTS_OFFSET,
        F_OWNER_ID,
        F_POST_ID,
        _F_MAX,
};

/* A zone's offset is within a day either way; the fields give any number. */
static int32_t offset_field(const struct fuzz_fields *f, size_t i)
{
        int64_t v = fuzz_field_int(f, i, 3 * 3600);
        return (int32_t)(v % 86400);
}

static char **split_categories(const char *s)
{
        char **l = calloc(strlen(s) + 2, sizeof(char *));
        size_t n = 0;
        if (!l)
                return NULL;
        for (const char *p = s; *p;) {
                const char *comma = strchrnul(p, ',');
                l[n] = strndup(p, comma - p);
                if (!l[n]) {
                        strv_free(l);
                        return NULL;
                }
                n++;
                p = *comma ? comma + 1 : comma;
        }
        return l;
}

static void render_one(const char *tmpl, const struct notification *n, size_t max_bytes,
                       bool valid_utf8)
{
        size_t offset = SIZE_MAX;
        _cleanup_free_ char *out = NULL;
        int c = render_check(tmpl, &offset);
        int r = render_template(tmpl, n, max_bytes, &out);

        if (r == -ENOMEM)
                return;
        fuzz_assert((c < 0) == (r < 0), "render_check %d but render_template %d", c, r);
        if (c < 0) {
                fuzz_assert(offset < strlen(tmpl), "error at %zu of %zu bytes", offset,
                            strlen(tmpl));
                return;
        }
        fuzz_assert(out, "rendered nothing");
        fuzz_assert(max_bytes == 0 || strlen(out) <= max_bytes, "%zu bytes, limit %zu", strlen(out),
                    max_bytes);
        if (valid_utf8)
                fuzz_assert(fuzz_utf8_valid(out, strlen(out)), "invalid UTF-8 from \"%s\"", tmpl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_fields f;
        if (fuzz_fields_split(data, size, _F_MAX, &f) < 0)
                return 0;

        struct notification n = {
                .kind = f.v[F_KIND],
                .owner_id = fuzz_field_int(&f, F_OWNER_ID, -1),
                .post_id = fuzz_field_int(&f, F_POST_ID, 1),
                .community = f.v[F_COMMUNITY],
                .topic = f.v[F_TOPIC],
                .url = f.v[F_URL],
                .text = f.v[F_TEXT],
                .categories = split_categories(f.v[F_CATEGORIES]),
                .date = fuzz_field_int(&f, F_DATE, 1773144000),
                .date_utc_offset = offset_field(&f, F_DATE_OFFSET),
                .starts_at = fuzz_field_int(&f, F_STARTS_AT, 0),
                .starts_at_utc_offset = offset_field(&f, F_STARTS_OFFSET),
                .created = 1773144000,
        };
        int64_t max = fuzz_field_int(&f, F_MAX_LENGTH, 0);
        size_t max_bytes = max > 0 ? (size_t)(max % 100000) : 0;
        bool valid = true;
        for (size_t i = F_KIND; i <= F_CATEGORIES; i++)
                valid = valid && fuzz_utf8_valid(f.v[i], strlen(f.v[i]));

        render_one(f.v[F_TITLE], &n, max_bytes,
                   valid && fuzz_utf8_valid(f.v[F_TITLE], strlen(f.v[F_TITLE])));
        render_one(f.v[F_BODY], &n, max_bytes,
                   valid && fuzz_utf8_valid(f.v[F_BODY], strlen(f.v[F_BODY])));

        /* the body template as a webhook's JSON body */
        char why[256];
        if (valid && !render_json_check(f.v[F_BODY], why, sizeof(why))) {
                _cleanup_free_ char *json = NULL;
                if (render_json_template(f.v[F_BODY], &n, f.v[F_TITLE], f.v[F_TEXT], max_bytes,
                                         &json) >= 0) {
                        json_t *doc = json_loads(json, 0, NULL);
                        fuzz_assert(doc, "checked JSON template gave %s", json);
                        json_decref(doc);
                }
        }

        /* every sink type's render(), with these templates as its config */
        struct sink_conf conf = {
                .name = (char *)"fuzz",
                .type = f.v[F_TYPE],
                .template_title = f.n > F_TITLE && f.v[F_TITLE][0] ? f.v[F_TITLE] : NULL,
                .template_body = f.n > F_BODY && f.v[F_BODY][0] ? f.v[F_BODY] : NULL,
                .max_length = max_bytes,
                .quiet_start_min = -1,
                .quiet_end_min = -1,
        };
        bool templates_ok = render_check(conf.template_title, NULL) >= 0 &&
                            render_check(conf.template_body, NULL) >= 0;
        for (const struct sink_ops *const *ops = sink_registry; *ops; ops++) {
                _cleanup_free_ char *title = NULL, *body = NULL;
                const char *t = (*ops)->type;
                if (f.v[F_TYPE][0] && !streq(f.v[F_TYPE], t))
                        continue;
                conf.type = (char *)t;
                int r = sink_render(&conf, &n, &title, &body);
                fuzz_assert(r >= 0 || r == -ENOMEM || !templates_ok,
                            "%s: render failed (%d) on checked templates", t, r);
                if (r >= 0)
                        fuzz_assert(title && body, "%s: rendered without a title or body", t);
        }

        strv_free(n.categories);
        fuzz_fields_done(&f);
        return 0;
}
