/* post.c — VK post objects from jansson values into struct post.
 *
 * Owns nothing but the posts it returns. Tolerant of VK's variations (missing keys, booleans as
 * 0/1 or true/false, the legacy bare-array shape); strict only about what identifies a post: an
 * integer id and owner_id (64-bit, read as json_int_t, never truncated), and a date VK could have
 * written. It is where hostile sizes and times stop: text is cut to POST_TEXT_MAX and times are
 * held to [VK_TIME_MIN, VK_TIME_MAX) (post.h), so the stages after it need not check again.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "post.h"
#include "util.h"

#define MENTION_TARGET_MAX 64  /* "club123456789", a screen name: VK allows 32 */
#define MENTION_NAME_MAX   256 /* a community's name; a longer "name" is not a mention */

static bool json_truthy(const json_t *v)
{
        if (json_is_true(v))
                return true;
        if (json_is_integer(v))
                return json_integer_value(v) != 0;
        return false;
}

static int64_t json_int64_or(const json_t *v, int64_t fallback)
{
        if (json_is_integer(v))
                return (int64_t)json_integer_value(v);
        /* groups.getById in older shapes sends numbers as strings ("start_date": "1342850400") */
        if (json_is_string(v)) {
                char *end;
                errno = 0;
                long long x = strtoll(json_string_value(v), &end, 10);
                if (errno == 0 && end != json_string_value(v) && *end == '\0')
                        return (int64_t)x;
        }
        return fallback;
}

/* The rule for an optional time: in [VK_TIME_MIN, VK_TIME_MAX), or absent (0). */
static int64_t json_time_or_absent(const json_t *v)
{
        int64_t t = json_int64_or(v, 0);
        return t >= VK_TIME_MIN && t < VK_TIME_MAX ? t : 0;
}

/* Copies a text of at most *budget bytes, cut at a character boundary (JSON strings are UTF-8),
 * and takes what it kept from *budget; *truncated tells a cut. */
static int dup_text(const json_t *v, size_t *budget, bool *truncated, char **ret)
{
        *ret = NULL;
        if (!json_is_string(v))
                return 0;
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len > *budget) {
                len = *budget;
                while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
                        len--;
                *truncated = true;
        }
        *ret = strndup(s, len);
        if (!*ret)
                return -ENOMEM;
        *budget -= len;
        return 0;
}

static int dup_string(const json_t *v, char **ret)
{
        *ret = NULL;
        if (!json_is_string(v))
                return 0;
        *ret = strndup(json_string_value(v), json_string_length(v));
        return *ret ? 0 : -ENOMEM;
}

static void attachment_done(struct attachment *a)
{
        free(a->type);
        free(a->title);
        free(a->description);
        free(a->live_status);
}

static const struct {
        const char *type;
        enum attachment_kind kind;
} attachment_kinds[] = {
        {"photo", ATTACHMENT_PHOTO}, {"video", ATTACHMENT_VIDEO}, {"poll", ATTACHMENT_POLL},
        {"link", ATTACHMENT_LINK},   {"doc", ATTACHMENT_DOC},     {"article", ATTACHMENT_ARTICLE},
};

/* *budget: bytes of title and description the post's attachments may still hold. */
static int attachment_from_json(const json_t *obj, struct attachment *a, size_t *budget,
                                bool *truncated)
{
        const json_t *type = json_object_get(obj, "type");
        int r;

        *a = (struct attachment){.kind = ATTACHMENT_OTHER};
        if (!json_is_string(type))
                return -EBADMSG;
        r = dup_string(type, &a->type);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(attachment_kinds); i++)
                if (streq(a->type, attachment_kinds[i].type))
                        a->kind = attachment_kinds[i].kind;

        /* the payload sits under a key named like the type: {"type":"video","video":{...}} */
        const json_t *body = json_object_get(obj, a->type);
        if (!json_is_object(body))
                return 0;

        switch (a->kind) {
        case ATTACHMENT_VIDEO:
                a->live = json_truthy(json_object_get(body, "live"));
                a->upcoming = json_truthy(json_object_get(body, "upcoming"));
                a->live_start_time = json_time_or_absent(json_object_get(body, "live_start_time"));
                a->video_owner_id = json_int64_or(json_object_get(body, "owner_id"), 0);
                a->video_id = json_int64_or(json_object_get(body, "id"), 0);
                if ((r = dup_string(json_object_get(body, "live_status"), &a->live_status)) < 0 ||
                    (r = dup_text(json_object_get(body, "title"), budget, truncated, &a->title)) <
                            0 ||
                    (r = dup_text(json_object_get(body, "description"), budget, truncated,
                                  &a->description)) < 0)
                        return r;
                /* "type":"live" on the video object itself means a stream too */
                const json_t *vtype = json_object_get(body, "type");
                if (json_is_string(vtype) && streq(json_string_value(vtype), "live"))
                        a->live = true;
                break;
        case ATTACHMENT_POLL:
                a->poll_closed = json_truthy(json_object_get(body, "closed"));
                a->poll_end_date = json_time_or_absent(json_object_get(body, "end_date"));
                r = dup_text(json_object_get(body, "question"), budget, truncated, &a->title);
                if (r < 0)
                        return r;
                break;
        case ATTACHMENT_LINK:
        case ATTACHMENT_ARTICLE:
        case ATTACHMENT_DOC:
                if ((r = dup_text(json_object_get(body, "title"), budget, truncated, &a->title)) <
                            0 ||
                    (r = dup_text(json_object_get(body, "description"), budget, truncated,
                                  &a->description)) < 0)
                        return r;
                break;
        default:
                break;
        }
        return 0;
}

/* What every post must have: an object, integer ids (newsfeed items say source_id/post_id) and,
 * when it has a date, one VK can send. */
static int check_post(const json_t *obj, const json_t **ret_id, const json_t **ret_owner_id,
                      int64_t *ret_date, const char **ret_reason)
{
        const json_t *id, *owner_id, *v;
        int64_t date = 0;

        if (!json_is_object(obj)) {
                *ret_reason = "post is not a JSON object";
                return -EBADMSG;
        }
        id = json_object_get(obj, "id");
        owner_id = json_object_get(obj, "owner_id");
        if (!owner_id) /* newsfeed items say source_id/post_id */
                owner_id = json_object_get(obj, "source_id");
        if (!id)
                id = json_object_get(obj, "post_id");
        if (!json_is_integer(id) || !json_is_integer(owner_id)) {
                *ret_reason = "post has no integer id and owner_id";
                return -EBADMSG;
        }
        /* absent, 0 or not a number: no date (a text from elsewhere); else a date VK can send */
        v = json_object_get(obj, "date");
        if (v && (date = json_int64_or(v, 0)) != 0 && (date < VK_TIME_MIN || date >= VK_TIME_MAX)) {
                *ret_reason = "post date is out of range (before 2000 or from 2100 on)";
                return -EBADMSG;
        }
        *ret_id = id;
        *ret_owner_id = owner_id;
        *ret_date = date;
        return 0;
}

/* p's attachments from v, a non-empty array: the first POST_ATTACHMENTS_MAX, their titles and
 * descriptions sharing POST_TEXT_MAX bytes. One that cannot be read is skipped, not fatal. */
static int attachments_from_json(const json_t *v, struct post *p)
{
        size_t budget = POST_TEXT_MAX;
        size_t n = json_array_size(v) < POST_ATTACHMENTS_MAX ? json_array_size(v)
                                                             : POST_ATTACHMENTS_MAX;
        int r;

        p->attachments = calloc(n, sizeof(struct attachment));
        if (!p->attachments)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = attachment_from_json(json_array_get(v, i), &p->attachments[p->n_attachments],
                                         &budget, &p->text_truncated);
                if (r < 0) {
                        attachment_done(&p->attachments[p->n_attachments]);
                        if (r == -ENOMEM)
                                return r;
                        continue;
                }
                p->n_attachments++;
        }
        return 0;
}

static int post_from_json_depth(const json_t *obj, unsigned depth, struct post **ret,
                                const char **ret_reason)
{
        _cleanup_post_free_ struct post *p = NULL;
        const json_t *id, *owner_id, *v;
        size_t text_budget = POST_TEXT_MAX;
        int64_t date;
        int r;

        r = check_post(obj, &id, &owner_id, &date, ret_reason);
        if (r < 0)
                return r;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->id = (int64_t)json_integer_value(id);
        p->owner_id = (int64_t)json_integer_value(owner_id);
        p->from_id = json_int64_or(json_object_get(obj, "from_id"), p->owner_id);
        p->date = date;
        p->edited = json_time_or_absent(json_object_get(obj, "edited"));
        p->is_pinned = json_truthy(json_object_get(obj, "is_pinned"));
        p->marked_as_ads = json_truthy(json_object_get(obj, "marked_as_ads"));
        v = json_object_get(obj, "donut");
        p->donut = json_is_object(v) && json_truthy(json_object_get(v, "is_donut"));

        if ((r = dup_string(json_object_get(obj, "post_type"), &p->post_type)) < 0)
                return r;
        if ((r = dup_text(json_object_get(obj, "text"), &text_budget, &p->text_truncated,
                          &p->text)) < 0)
                return r;
        if (!p->text && !(p->text = strdup("")))
                return -ENOMEM;

        v = json_object_get(obj, "attachments");
        if (json_is_array(v) && json_array_size(v) > 0 && (r = attachments_from_json(v, p)) < 0)
                return r;

        /* copy_history[0] is the reposted original; deeper chains repeat it, one level is enough
         * to classify, and the depth cap keeps a hostile answer from recursing far. */
        v = json_object_get(obj, "copy_history");
        if (depth < 2 && json_is_array(v) && json_array_size(v) > 0) {
                const char *reason = NULL;
                r = post_from_json_depth(json_array_get(v, 0), depth + 1, &p->repost, &reason);
                if (r == -ENOMEM)
                        return r;
                /* an unreadable repost leaves a post without repost content, not an error */
                if (p->repost && p->repost->text_truncated)
                        p->text_truncated = true;
        }

        *ret = TAKE_PTR(p);
        return 0;
}

int post_from_json(const json_t *obj, struct post **ret, const char **ret_reason)
{
        const char *reason = NULL;
        int r = post_from_json_depth(obj, 0, ret, &reason);
        if (ret_reason)
                *ret_reason = reason;
        return r;
}

struct post *post_free(struct post *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_attachments; i++)
                attachment_done(&p->attachments[i]);
        free(p->attachments);
        post_free(p->repost);
        free(p->owner_name);
        free(p->post_type);
        free(p->text);
        free(p);
        return NULL;
}

static int append_post_text(struct strbuf *sb, const struct post *p)
{
        int r;
        if (p->text[0]) {
                if (sb->len > 0 && (r = strbuf_puts(sb, "\n")) < 0)
                        return r;
                if ((r = strbuf_puts(sb, p->text)) < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n_attachments; i++) {
                const struct attachment *a = &p->attachments[i];
                if (a->title && a->title[0]) {
                        if ((r = strbuf_puts(sb, "\n")) < 0 || (r = strbuf_puts(sb, a->title)) < 0)
                                return r;
                }
                if (a->description && a->description[0]) {
                        if ((r = strbuf_puts(sb, "\n")) < 0 ||
                            (r = strbuf_puts(sb, a->description)) < 0)
                                return r;
                }
        }
        return 0;
}

char *post_effective_text(const struct post *p)
{
        struct strbuf sb = {0};
        if (append_post_text(&sb, p) < 0 || (p->repost && append_post_text(&sb, p->repost) < 0) ||
            strbuf_append(&sb, "", 0) < 0) {
                strbuf_done(&sb);
                return NULL;
        }
        return sb.buf;
}

/* At s, a '[': the length of VK's mention markup there, [id1|Name] or [club123|Name] (also public,
 * event or a screen name before the bar), with *name and *name_len its name; 0 when it is not one
 * (a bracket without the bar, an empty name, a name across lines or brackets). */
static size_t mention_at(const char *s, const char **name, size_t *name_len)
{
        size_t j = 1, k;

        while (j <= MENTION_TARGET_MAX &&
               (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.'))
                j++;
        if (j == 1 || s[j] != '|')
                return 0;
        for (k = j + 1; k - j <= MENTION_NAME_MAX && s[k] && !strchr("[]\n", s[k]); k++)
                continue;
        if (k == j + 1 || s[k] != ']')
                return 0;
        *name = s + j + 1;
        *name_len = k - j - 1;
        return k + 1;
}

/* VK shows a mention as its name alone: so in place, "[club1|администрации]" -> "администрации".
 * Text that only looks like markup stays as written. */
static char *unmention(char *s)
{
        size_t w = 0, i = 0, len, name_len;
        const char *name;

        while (s && s[i]) {
                if (s[i] == '[' && (len = mention_at(s + i, &name, &name_len)) > 0) {
                        memmove(s + w, name, name_len); /* w <= i: never ahead of the reading */
                        w += name_len;
                        i += len;
                } else
                        s[w++] = s[i++];
        }
        if (s)
                s[w] = '\0';
        return s;
}

char *post_notification_text(const struct post *p)
{
        struct strbuf sb = {0}, original = {0};
        const struct post *o = p->repost;
        char fallback[32];
        int r;

        if (!o)
                return unmention(strdup(p->text));
        r = append_post_text(&original, o);
        if (r >= 0 && !o->owner_name)
                snprintf(fallback, sizeof(fallback), "%s%" PRId64, o->owner_id < 0 ? "club" : "id",
                         o->owner_id < 0 ? -o->owner_id : o->owner_id);
        if (r >= 0)
                r = strbuf_appendf(&sb, "%s%sРепост из «%s»:%s%s", p->text,
                                   p->text[0] ? "\n\n" : "",
                                   o->owner_name ? o->owner_name : fallback,
                                   original.len ? "\n" : "", original.len ? original.buf : "");
        strbuf_done(&original);
        if (r >= 0)
                r = strbuf_append(&sb, "", 0);
        if (r < 0) {
                strbuf_done(&sb);
                return NULL;
        }
        return unmention(sb.buf);
}

void post_url(int64_t owner_id, int64_t id, char *buf, size_t size)
{
        snprintf(buf, size, "https://vk.com/wall%" PRId64 "_%" PRId64, owner_id, id);
}

static const struct attachment *live_video(const struct post *p)
{
        for (size_t i = 0; p && i < p->n_attachments; i++) {
                const struct attachment *a = &p->attachments[i];
                if (a->kind == ATTACHMENT_VIDEO && (a->live || a->upcoming) && a->video_id != 0 &&
                    a->video_owner_id != 0)
                        return a;
        }
        return NULL;
}

void post_watch_url(const struct post *p, char *buf, size_t size)
{
        const struct attachment *a = live_video(p) ?: live_video(p->repost);
        if (a)
                snprintf(buf, size, "https://vk.com/video%" PRId64 "_%" PRId64, a->video_owner_id,
                         a->video_id);
        else
                snprintf(buf, size, "https://vk.com/videos%" PRId64, p->owner_id);
}

/* The name an extended answer gives owner_id: a group's "name" (id = -owner_id), a profile's
 * "first_name last_name". NULL when absent or not a string: a name is a courtesy, never required.
 */
static char *extended_owner_name(const json_t *response, int64_t owner_id)
{
        const json_t *list = json_object_get(response, owner_id < 0 ? "groups" : "profiles");
        size_t i;
        json_t *o;

        json_array_foreach(list, i, o)
        {
                if (i >= WALL_EXTENDED_MAX)
                        break;
                const json_t *id = json_object_get(o, "id");
                if (!json_is_integer(id) ||
                    json_integer_value(id) != (owner_id < 0 ? -owner_id : owner_id))
                        continue;
                if (owner_id < 0) {
                        const char *name = json_string_value(json_object_get(o, "name"));
                        return name && name[0] ? strdup(name) : NULL;
                }
                const char *first = json_string_value(json_object_get(o, "first_name"));
                const char *last = json_string_value(json_object_get(o, "last_name"));
                char *name = NULL;
                if (!first || !first[0])
                        return NULL;
                if (asprintf(&name, "%s%s%s", first, last && last[0] ? " " : "", strempty(last)) <
                    0)
                        return NULL;
                return name;
        }
        return NULL;
}

int wall_from_json(const json_t *response, struct wall **ret, const char **ret_reason)
{
        const json_t *items;
        const char *unused_reason;
        struct wall *w;

        if (!ret_reason) /* optional, as for post_from_json() */
                ret_reason = &unused_reason;
        if (json_is_object(response)) {
                items = json_object_get(response, "items");
                if (!json_is_array(items)) {
                        *ret_reason = "wall answer has no \"items\" array";
                        return -EBADMSG;
                }
        } else if (json_is_array(response)) {
                items = response;
        } else {
                *ret_reason = "wall answer is neither an object nor an array";
                return -EBADMSG;
        }

        if (json_array_size(items) > WALL_ITEMS_MAX) {
                *ret_reason = "wall answer has more than " STRINGIFY(WALL_ITEMS_MAX) " posts";
                return -EBADMSG;
        }
        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->count =
                json_int64_or(json_object_get(response, "count"), (int64_t)json_array_size(items));
        if (json_array_size(items) > 0) {
                w->posts = calloc(json_array_size(items), sizeof(struct post *));
                if (!w->posts) {
                        wall_free(w);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < json_array_size(items); i++) {
                const char *reason;
                struct post *p;
                int r = post_from_json(json_array_get(items, i), &p, &reason);
                if (r == -ENOMEM) {
                        wall_free(w);
                        return r;
                }
                if (r < 0) {
                        if (w->n_skipped++ == 0)
                                w->skip_reason = reason;
                        continue;
                }
                if (p->repost && json_is_object(response))
                        p->repost->owner_name = extended_owner_name(response, p->repost->owner_id);
                w->posts[w->n_posts++] = p;
        }
        *ret = w;
        return 0;
}

struct wall *wall_free(struct wall *w)
{
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n_posts; i++)
                post_free(w->posts[i]);
        free(w->posts);
        free(w);
        return NULL;
}
