/* sinks/feed.c — an Atom 1.0 file (RFC 4287) of the newest notifications, and optionally a JSON
 * Feed 1.1 beside it, for a web server to serve and a feed reader (Miniflux, …) to poll.
 *
 * A send puts the notification's entry into the sink's list of the last `entries` ones, kept in
 * PATH.entries.json beside the feed, and writes everything out again: the list first, then the
 * feed, then the JSON Feed, each as a temporary file in the same directory, fsync'd and renamed
 * over the old one, then the directory fsync'd. A reader sees the old file or the new one, never
 * part of one; a restart reads the list back. An entry's id is a tag: URI (RFC 4151) of its post
 * and kind, so a notification sent again (a crash between this write and the outbox recording
 * it) replaces its own entry instead of adding a second. Writers of one feed (the daemon, a
 * `test-sink` or `once` run by hand) take turns by a lock on the feed's directory.
 *
 * Text goes out as type="text" only and is escaped whole: markup characters as entities, and
 * what XML 1.0 cannot carry at all (ill-formed UTF-8, C0 controls but tab, LF and CR, U+FFFE,
 * U+FFFF) as U+FFFD, so no post can make the file ill-formed. It writes nothing but its files
 * and their temporaries, in the directories of path and json_path; a directory that is missing,
 * read-only or full is "try later", with what the admin must do. Synchronous, like the console
 * sink: a few small files and their fsyncs on the loop. A feed plays no sound and shows no
 * buttons (no can_silence): the actions of a notification are links of its entry.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "render.h"
#include "setting.h"
#include "sink.h"

#define FEED_ENTRIES_MAX 1000
/* 1000 entries of a 64 KiB post, escaped, with room to spare */
#define STATE_MAX_BYTES   (256u * 1024 * 1024)
#define STATE_SUFFIX      ".entries.json"
#define STATE_VERSION     1
#define TEMP_SUFFIX       ".tmp"
#define FEED_MODE         0644 /* for the web server; an existing file keeps its own */
#define STATE_MODE        0640 /* the same text, but for govwatch (and its group) alone */
#define REPLACEMENT_CHAR  "\xEF\xBF\xBD"
#define JSON_FEED_VERSION "https://jsonfeed.org/version/1.1"
/* Ids govwatch mints itself (the feed's, a test's, an alert's), and those of VK's posts, named
 * by the addresses VK has given them since 2006: the same post has the same id in every feed. */
#define GOVWATCH_TAG "tag:govwatch,2026:"
#define VK_TAG       "tag:vk.com,2006:"

/* The keys of a feed sink beyond those every sink has: sink_conf.settings. */
struct feed_settings {
        char *path;
        unsigned entries;
        char *title;
        char *id;
        char *url;
        char *json_path;
};

struct feed_sink {
        struct sink sink;
        const struct feed_settings *settings; /* conf's */
        char *dir, *base;                     /* of path */
        char *state_base;                     /* base + STATE_SUFFIX, in dir */
        char *json_dir, *json_base;           /* of json_path; NULL without one */
        char *title, *id;                     /* the feed's, defaults applied */
};

/* ---- text: what XML 1.0 can carry, escaped -------------------------------------------------- */

enum text_mode {
        TEXT_PLAIN, /* only what XML cannot carry replaced: for the entries' list */
        XML_TEXT,   /* and & < > as entities, CR as a reference (a parser would make it LF) */
        XML_ATTR,   /* and " too, and tab, LF, CR as references (a parser would make them spaces) */
};

/* The code point of the well-formed UTF-8 sequence at s and its length (1-4), or 0 for an
 * ill-formed one (utf8_sequence_len()). */
static size_t utf8_decode(const unsigned char *s, size_t left, uint32_t *ret)
{
        static const unsigned char lead_bits[] = {0, 0x7F, 0x1F, 0x0F, 0x07}; /* by length */
        size_t n = utf8_sequence_len(s, left);

        if (n == 0)
                return 0;
        uint32_t cp = s[0] & lead_bits[n];
        for (size_t i = 1; i < n; i++)
                cp = (cp << 6) | (s[i] & 0x3F);
        *ret = cp;
        return n;
}

/* XML 1.0's Char production. */
static bool xml_char(uint32_t c)
{
        return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
               (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* What stands for the character c in mode, or NULL when it stands for itself. */
static const char *text_escape(uint32_t c, enum text_mode mode)
{
        if (!xml_char(c))
                return REPLACEMENT_CHAR;
        if (mode == TEXT_PLAIN)
                return NULL;
        switch (c) {
        case '&':
                return "&amp;";
        case '<':
                return "&lt;";
        case '>': /* "]]>" may not appear in text */
                return "&gt;";
        case '\r':
                return "&#13;";
        }
        if (mode != XML_ATTR)
                return NULL;
        switch (c) {
        case '"':
                return "&quot;";
        case '\t':
                return "&#9;";
        case '\n':
                return "&#10;";
        }
        return NULL;
}

/* Appends s (NULL: nothing) in mode; runs of characters that need nothing are copied whole. */
static int text_append(struct strbuf *sb, const char *s, enum text_mode mode)
{
        const unsigned char *p = (const unsigned char *)strempty(s);
        size_t len = strlen((const char *)p), i = 0, run = 0;
        int r;

        while (i < len) {
                uint32_t c = 0;
                size_t n = utf8_decode(p + i, len - i, &c);
                const char *esc = n == 0 ? REPLACEMENT_CHAR : text_escape(c, mode);
                if (!esc) {
                        i += n;
                        run += n;
                        continue;
                }
                r = strbuf_append(sb, (const char *)p + i - run, run);
                if (r >= 0)
                        r = strbuf_puts(sb, esc);
                if (r < 0)
                        return r;
                run = 0;
                i += n ? n : 1;
        }
        return strbuf_append(sb, (const char *)p + i - run, run);
}

/* s as text XML can carry, as a JSON string (never NULL for a valid s, which jansson needs). */
static json_t *json_text(const char *s)
{
        struct strbuf sb = {0};
        json_t *j = NULL;

        if (text_append(&sb, s, TEXT_PLAIN) >= 0)
                j = json_stringn(sb.buf ? sb.buf : "", sb.len);
        strbuf_done(&sb);
        return j;
}

/* The string member key of o, "" when there is none. */
static const char *member(const json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

static int64_t member_int(const json_t *o, const char *key)
{
        return json_integer_value(json_object_get(o, key));
}

/* ---- settings ----------------------------------------------------------------------------- */

static bool has_space(const char *v)
{
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
                if (*p <= ' ' || *p == 0x7F)
                        return true;
        return false;
}

static const char *check_file_path(const char *v, char *buf, size_t size)
{
        const char *slash = strrchr(v, '/');
        const char *base = slash ? slash + 1 : v;
        if (!*base || streq(base, ".") || streq(base, "..")) {
                snprintf(buf, size, "expected the path of a file, got the directory '%s'",
                         SETTING_QUOTE(v));
                return buf;
        }
        return NULL;
}

/* An absolute IRI, as atom:id wants it: "scheme:rest", nothing blank in it. */
static const char *check_iri(const char *v, char *buf, size_t size)
{
        size_t scheme =
                strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        if (scheme == 0 || !((v[0] | 0x20) >= 'a' && (v[0] | 0x20) <= 'z') || v[scheme] != ':' ||
            !v[scheme + 1] || has_space(v) || strpbrk(v, "<>\"")) {
                snprintf(buf, size,
                         "expected an absolute IRI such as tag:example.org,2026:govwatch, got '%s'",
                         SETTING_QUOTE(v));
                return buf;
        }
        return NULL;
}

static const char *check_url(const char *v, char *buf, size_t size)
{
        const char *reason = setting_check_url(v, "http", buf, size);
        if (!reason && (has_space(v) || strpbrk(v, "<>\""))) {
                snprintf(buf, size, "a URL must not contain spaces, quotes or angle brackets: '%s'",
                         SETTING_QUOTE(v));
                return buf;
        }
        return reason;
}

#define OFF(f) offsetof(struct feed_settings, f)
static const struct setting feed_table[] = {
        {S("path", SETTING_PATH, OFF(path), NULL,
           "the Atom file to write, in a directory that exists and govwatchd may write to; "
           "PATH.entries.json beside it keeps the entries"),
         .required = true, .check = check_file_path},
        {S("entries", SETTING_UINT, OFF(entries), "50", "how many of the newest entries it keeps"),
         .min = 1, .max = FEED_ENTRIES_MAX},
        {S("title", SETTING_STRING, OFF(title), NULL, "the feed's title (\"govwatch: NAME\")")},
        {S("id", SETTING_STRING, OFF(id), NULL,
           "the feed's atom:id, an absolute IRI (tag:govwatch,2026:feed/NAME)"),
         .check = check_iri},
        {S("url", SETTING_STRING, OFF(url), NULL,
           "the http(s) address it is served at: its rel=\"self\" link"),
         .check = check_url},
        {S("json_path", SETTING_PATH, OFF(json_path), NULL,
           "also write the entries as a JSON Feed 1.1 here"),
         .check = check_file_path},
};

static void feed_check(const struct sink_conf *conf, struct setting_errors *e)
{
        const struct feed_settings *set = conf->settings;
        struct stat st;

        if (!set->path)
                return;
        if (stat(set->path, &st) == 0 && S_ISDIR(st.st_mode))
                setting_error_at_value(e, "path", "'%s' is a directory: name the feed's file",
                                       SETTING_QUOTE(set->path));
        if (!set->json_path)
                return;
        const char *rest = startswith(set->json_path, set->path);
        if (rest && (!*rest || streq(rest, STATE_SUFFIX) || streq(rest, TEMP_SUFFIX) ||
                     streq(rest, STATE_SUFFIX TEMP_SUFFIX)))
                setting_error_at_value(e, "json_path",
                                       "'%s' is a file of the Atom feed's own: give the JSON "
                                       "Feed a path of its own",
                                       SETTING_QUOTE(set->json_path));
        rest = startswith(set->path, set->json_path);
        if (rest && streq(rest, TEMP_SUFFIX))
                setting_error_at_value(e, "path", "'%s' is the JSON Feed's temporary file",
                                       SETTING_QUOTE(set->path));
}

/* ---- ids ---------------------------------------------------------------------------------- */

/* s as the specific part of a tag: URI (RFC 4151: pchar, "/" and "?"), byte by byte. */
static int tag_append(struct strbuf *sb, const char *s)
{
        static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-._~!$&'()*+;=:@";
        int r = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p && r >= 0; p++)
                r = strchr(safe, *p) ? strbuf_append(sb, (const char *)p, 1)
                                     : strbuf_appendf(sb, "%%%02X", *p);
        return r;
}

/* One post is one entry whatever the feed; a reminder about it is another, its own. A test, an
 * alert, have no post: when they were made tells them apart (and the alert's notification). */
static char *entry_id(const struct notification *n)
{
        const char *kind = n->kind ? n->kind : "post";
        struct strbuf sb = {0};
        int r;

        if (streq(kind, "test"))
                r = strbuf_appendf(&sb, GOVWATCH_TAG "test:%" PRId64, n->created);
        else if (streq(kind, "alert"))
                r = strbuf_appendf(&sb, GOVWATCH_TAG "alert:%" PRId64 ":%" PRId64, n->created,
                                   n->id);
        else {
                r = strbuf_appendf(&sb, VK_TAG "wall%" PRId64 "_%" PRId64, n->owner_id, n->post_id);
                if (r >= 0 && !streq(kind, "post"))
                        r = strbuf_puts(&sb, ":");
                if (r >= 0 && !streq(kind, "post"))
                        r = tag_append(&sb, kind);
        }
        if (r < 0) {
                strbuf_done(&sb);
                return NULL;
        }
        return sb.buf;
}

/* ---- rendering ---------------------------------------------------------------------------- */

static const char *kind_suffix(const char *kind)
{
        if (kind && streq(kind, "reminder"))
                return " (напоминание)";
        if (kind && streq(kind, "test"))
                return " (проверка)";
        return NULL;
}

/* Title "community: Категория" ("(напоминание)" after a reminder's, an alert's its topic);
 * content the whole text of the post, and the start of a broadcast. The link is the entry's. */
static int feed_render(const struct sink_conf *conf, const struct notification *n, char **ret_title,
                       char **ret_body)
{
        _cleanup_free_ char *title = NULL, *body = NULL;
        bool alert = n->kind && streq(n->kind, "alert");
        const char *suffix = kind_suffix(n->kind);
        int r = sink_render_templates(conf, n, alert ? "{topic}" : RENDER_DEFAULT_TITLE,
                                      n->starts_at ? "{text}\n\nНачало: {starts_at}" : "{text}",
                                      conf ? conf->max_length : 0, &title, &body);
        if (r < 0)
                return r;
        if (suffix && !(conf && conf->template_title)) {
                char *t = NULL;
                if (asprintf(&t, "%s%s", title, suffix) < 0)
                        return -ENOMEM;
                free(title);
                title = t;
        }
        *ret_title = TAKE_PTR(title);
        *ret_body = TAKE_PTR(body);
        return 0;
}

/* The entry for n as the list keeps it: everything the two feeds are written from, as text
 * XML can carry. NULL on OOM. */
static json_t *entry_new(const struct notification *n, const char *title, const char *body)
{
        struct notification_action actions[NOTIFICATION_ACTIONS_MAX];
        size_t n_actions = notification_actions(n, actions);
        _cleanup_free_ char *id = entry_id(n);
        json_t *e = json_object(), *cats = json_array(), *links = json_array();
        char published[40], updated[40];
        int64_t updated_at = n->created ? n->created : (int64_t)time(NULL);
        int k = 0;

        if (!id || !e || !cats || !links)
                goto fail;
        format_iso8601(n->date, n->date_utc_offset, published, sizeof(published));
        format_iso8601(updated_at, 0, updated, sizeof(updated));
        for (char **c = n->categories; c && *c && k >= 0; c++)
                k = json_array_append_new(cats,
                                          json_pack("{s:o,s:o}", "term", json_text(*c), "label",
                                                    json_text(render_category_title(*c))));
        for (size_t i = 0; i < n_actions && k >= 0; i++)
                k = json_array_append_new(links, json_pack("{s:o,s:o}", "title",
                                                           json_text(actions[i].label), "url",
                                                           json_text(actions[i].url)));
        if (k < 0)
                goto fail;
        k = json_object_set_new(e, "id", json_string(id));
        k |= json_object_set_new(e, "kind", json_text(n->kind ? n->kind : "post"));
        k |= json_object_set_new(e, "title", json_text(title));
        k |= json_object_set_new(e, "content", json_text(body));
        k |= json_object_set_new(e, "url", json_text(n->url));
        k |= json_object_set_new(e, "author", json_text(n->community));
        if (published[0]) {
                k |= json_object_set_new(e, "published", json_string(published));
                k |= json_object_set_new(e, "published_at", json_integer(n->date));
        }
        k |= json_object_set_new(e, "updated", json_string(updated));
        k |= json_object_set_new(e, "updated_at", json_integer(updated_at));
        k |= json_object_set_new(e, "seq", json_integer(n->id));
        k |= json_object_set_new(e, "categories", cats);
        cats = NULL;
        k |= json_object_set_new(e, "links", links);
        links = NULL;
        if (k != 0)
                goto fail;
        return e;
fail:
        json_decref(cats);
        json_decref(links);
        json_decref(e);
        return NULL;
}

/* ---- the list of entries ------------------------------------------------------------------ */

/* When an entry became news: a post when it was published (the outbox may queue a sweep's posts
 * in any order, a second apart), anything else (a reminder, a test) when it was made. */
static int64_t entry_time(const json_t *e)
{
        int64_t published = member_int(e, "published_at");
        return streq(member(e, "kind"), "post") && published ? published
                                                             : member_int(e, "updated_at");
}

/* Newest first; then in the outbox's order, newest first. */
static int entry_compare(const void *a, const void *b)
{
        const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
        int64_t u = entry_time(x), v = entry_time(y);
        if (u != v)
                return u > v ? -1 : 1;
        u = member_int(x, "seq"), v = member_int(y, "seq");
        if (u != v)
                return u > v ? -1 : 1;
        return strcmp(member(x, "id"), member(y, "id"));
}

/* entries with entry in place of one with its id (or added), sorted, cut to max. */
static json_t *entries_merge(json_t *entries, json_t *entry, unsigned max)
{
        size_t n = json_array_size(entries), k = 0;
        const char *id = member(entry, "id");
        json_t **all = calloc(n + 1, sizeof(json_t *));
        json_t *out = json_array();

        if (!all || !out) {
                free(all);
                json_decref(out);
                return NULL;
        }
        all[k++] = entry;
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(entries, i);
                if (json_is_object(e) && json_is_string(json_object_get(e, "id")) &&
                    !streq(member(e, "id"), id))
                        all[k++] = e;
        }
        qsort(all, k, sizeof(json_t *), entry_compare);
        for (size_t i = 0; i < k && i < max; i++)
                if (json_array_append(out, all[i]) < 0) {
                        json_decref(out);
                        out = NULL;
                        break;
                }
        free(all);
        return out;
}

/* ---- the Atom feed ------------------------------------------------------------------------ */

/* Appends to sb until the first failure, which it keeps: one check at the end. */
struct out {
        struct strbuf sb;
        int r;
};

static void out_puts(struct out *o, const char *s)
{
        if (o->r >= 0)
                o->r = strbuf_puts(&o->sb, s);
}

static void out_text(struct out *o, const char *s, enum text_mode mode)
{
        if (o->r >= 0)
                o->r = text_append(&o->sb, s, mode);
}

/* <name>text</name> on a line of its own. */
static void out_element(struct out *o, const char *indent, const char *name, const char *attrs,
                        const char *text)
{
        out_puts(o, indent);
        out_puts(o, "<");
        out_puts(o, name);
        out_puts(o, attrs ? attrs : "");
        out_puts(o, ">");
        out_text(o, text, XML_TEXT);
        out_puts(o, "</");
        out_puts(o, name);
        out_puts(o, ">\n");
}

/* name="value", with a space before it. */
static void out_attr(struct out *o, const char *name, const char *value)
{
        out_puts(o, " ");
        out_puts(o, name);
        out_puts(o, "=\"");
        out_text(o, value, XML_ATTR);
        out_puts(o, "\"");
}

static void atom_entry(struct out *o, const json_t *e)
{
        const char *url = member(e, "url"), *author = member(e, "author");
        size_t i;
        json_t *v;

        out_puts(o, "  <entry>\n");
        out_element(o, "    ", "id", NULL, member(e, "id"));
        out_element(o, "    ", "title", " type=\"text\"", member(e, "title"));
        out_element(o, "    ", "updated", NULL, member(e, "updated"));
        if (*member(e, "published"))
                out_element(o, "    ", "published", NULL, member(e, "published"));
        if (*author) {
                out_puts(o, "    <author>\n");
                out_element(o, "      ", "name", NULL, author);
                out_puts(o, "    </author>\n");
        }
        if (*url) {
                out_puts(o, "    <link rel=\"alternate\" type=\"text/html\"");
                out_attr(o, "href", url);
                out_puts(o, "/>\n");
        }
        json_array_foreach(json_object_get(e, "links"), i, v)
        {
                if (!*member(v, "url"))
                        continue;
                out_puts(o, "    <link rel=\"related\" type=\"text/html\"");
                out_attr(o, "title", member(v, "title"));
                out_attr(o, "href", member(v, "url"));
                out_puts(o, "/>\n");
        }
        json_array_foreach(json_object_get(e, "categories"), i, v)
        {
                if (!*member(v, "term"))
                        continue;
                out_puts(o, "    <category");
                out_attr(o, "term", member(v, "term"));
                if (*member(v, "label"))
                        out_attr(o, "label", member(v, "label"));
                out_puts(o, "/>\n");
        }
        out_element(o, "    ", "content", " type=\"text\"", member(e, "content"));
        out_puts(o, "  </entry>\n");
}

/* The feed changed when its newest entry did: the same entries, the same bytes. */
static const char *feed_updated(const json_t *entries, char *now, size_t size)
{
        const char *updated = NULL;
        int64_t updated_at = 0;
        size_t i;
        json_t *e;

        json_array_foreach(entries, i, e)
        {
                if (!updated || member_int(e, "updated_at") > updated_at) {
                        updated = member(e, "updated");
                        updated_at = member_int(e, "updated_at");
                }
        }
        if (updated && *updated)
                return updated;
        format_iso8601((int64_t)time(NULL), 0, now, size);
        return now;
}

static int atom_build(const struct feed_sink *f, const json_t *entries, struct strbuf *ret)
{
        const struct feed_settings *set = f->settings;
        struct out o = {0};
        char now[40];
        size_t i;
        json_t *e;

        out_puts(&o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                     "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"ru\">\n");
        out_element(&o, "  ", "id", NULL, f->id);
        out_element(&o, "  ", "title", " type=\"text\"", f->title);
        out_element(&o, "  ", "updated", NULL, feed_updated(entries, now, sizeof(now)));
        if (set->url) {
                out_puts(&o, "  <link rel=\"self\" type=\"application/atom+xml\"");
                out_attr(&o, "href", set->url);
                out_puts(&o, "/>\n");
        }
        /* the feed's author stands in for an entry without one (RFC 4287 4.1.1) */
        out_puts(&o, "  <author>\n    <name>govwatch</name>\n  </author>\n");
        out_element(&o, "  ", "generator", " version=\"" GOVWATCH_VERSION "\"", "govwatch");
        json_array_foreach(entries, i, e)
        {
                atom_entry(&o, e);
        }
        out_puts(&o, "</feed>\n");
        if (o.r < 0) {
                strbuf_done(&o.sb);
                return o.r;
        }
        *ret = o.sb;
        return 0;
}

/* ---- the JSON Feed ------------------------------------------------------------------------ */

static json_t *json_feed_item(const json_t *e)
{
        json_t *item = json_object(), *tags = json_array(), *terms = json_array();
        json_t *links = json_array();
        size_t i;
        json_t *v;
        int k = item && tags && terms && links ? 0 : -1;

        json_array_foreach(json_object_get(e, "categories"), i, v)
        {
                if (k < 0 || !*member(v, "term"))
                        continue;
                k = json_array_append_new(terms, json_string(member(v, "term")));
                if (k >= 0 && *member(v, "label"))
                        k = json_array_append_new(tags, json_string(member(v, "label")));
        }
        json_array_foreach(json_object_get(e, "links"), i, v)
        {
                if (k < 0 || !*member(v, "url"))
                        continue;
                k = json_array_append_new(links, json_pack("{s:s,s:s}", "title", member(v, "title"),
                                                           "url", member(v, "url")));
        }
        if (k >= 0) {
                k = json_object_set_new(item, "id", json_string(member(e, "id")));
                if (*member(e, "url"))
                        k |= json_object_set_new(item, "url", json_string(member(e, "url")));
                k |= json_object_set_new(item, "title", json_string(member(e, "title")));
                k |= json_object_set_new(item, "content_text", json_string(member(e, "content")));
                if (*member(e, "published"))
                        k |= json_object_set_new(item, "date_published",
                                                 json_string(member(e, "published")));
                k |= json_object_set_new(item, "date_modified", json_string(member(e, "updated")));
                if (*member(e, "author"))
                        k |= json_object_set_new(item, "authors",
                                                 json_pack("[{s:s}]", "name", member(e, "author")));
                k |= json_object_set(item, "tags", tags);
                /* what JSON Feed has no field for, in an extension as JSON Feed spells them */
                k |= json_object_set_new(item, "_govwatch",
                                         json_pack("{s:s,s:O,s:O}", "kind", member(e, "kind"),
                                                   "categories", terms, "links", links));
        }
        json_decref(tags);
        json_decref(terms);
        json_decref(links);
        if (k != 0) {
                json_decref(item);
                return NULL;
        }
        return item;
}

static char *json_feed_build(const struct feed_sink *f, const json_t *entries)
{
        json_t *feed = json_pack("{s:s,s:s,s:s,s:[{s:s}]}", "version", JSON_FEED_VERSION, "title",
                                 f->title, "language", "ru", "authors", "name", "govwatch");
        json_t *items = json_array();
        char *s = NULL;
        size_t i;
        json_t *e;
        int k = feed && items ? 0 : -1;

        json_array_foreach(entries, i, e)
        {
                if (k < 0)
                        break;
                k = json_array_append_new(items, json_feed_item(e));
        }
        if (k >= 0 && json_object_set(feed, "items", items) >= 0)
                s = json_dumps(feed, JSON_INDENT(2));
        json_decref(items);
        json_decref(feed);
        return s;
}

/* ---- files -------------------------------------------------------------------------------- */

/* Why a step on DIR/FILE (DIR alone: file NULL) failed, as the admin can act on it; returns r. */
static int describe(char *buf, size_t size, int r, const char *step, const char *dir,
                    const char *file)
{
        const char *sep = !file ? "" : streq(dir, "/") ? "" : "/";
        const char *hint = "";
        char extra[512] = "";

        if (r == -EACCES || r == -EPERM)
                snprintf(extra, sizeof(extra), ": govwatchd's user needs to read and write in %s",
                         dir);
        else if (r == -EROFS)
                snprintf(extra, sizeof(extra), " (a hardened service needs ReadWritePaths=%s)",
                         dir);
        else if (r == -ENOSPC || r == -EDQUOT)
                hint = ": free some space";
        snprintf(buf, size, "cannot %s %s%s%s: %s%s%s", step, dir, sep, strempty(file),
                 strerror(-r), hint, extra);
        return r;
}

/* Replaces dir/base with data at once for any reader, durably; the file keeps the permissions and
 * group an admin gave it, a new one gets mode. The temporary file is base.tmp: one left by a
 * crash is ours to replace, since we hold the lock. */
static int write_atomic(int dirfd, const char *dir, const char *base, const char *data, size_t len,
                        mode_t mode, char *detail, size_t size)
{
        _cleanup_free_ char *tmp = NULL;
        const char *step = NULL;

        if (asprintf(&tmp, "%s" TEMP_SUFFIX, base) < 0) {
                tmp = NULL;
                return describe(detail, size, -ENOMEM, "write", dir, base);
        }
        int r = write_file_atomic(dirfd, base, tmp, data, len, mode,
                                  WRITE_ATOMIC_SYNC | WRITE_ATOMIC_KEEP_MODE, &step);
        return r < 0 ? describe(detail, size, r, step, dir, base) : 0;
}

/* The entries as the last write left them: an empty list before the first. */
static int state_load(const struct feed_sink *f, int dirfd, json_t **ret, char *detail, size_t size)
{
        _cleanup_free_ char *data = NULL;
        json_error_t err;
        size_t len = 0;
        json_t *root, *entries;
        int fd = openat(dirfd, f->state_base, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int r = 0;

        if (fd < 0 && errno == ENOENT) {
                *ret = json_array();
                return *ret ? 0 : describe(detail, size, -ENOMEM, "read", f->dir, f->state_base);
        }
        if (fd < 0)
                return describe(detail, size, -errno, "read", f->dir, f->state_base);
        struct strbuf sb = {0};
        for (;;) {
                char chunk[65536];
                ssize_t k = read(fd, chunk, sizeof(chunk));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : 0;
                        break;
                }
                if (sb.len + (size_t)k > STATE_MAX_BYTES) {
                        r = -EFBIG;
                        break;
                }
                r = strbuf_append(&sb, chunk, (size_t)k);
                if (r < 0)
                        break;
        }
        close(fd);
        data = sb.buf;
        len = sb.len;
        if (r < 0)
                return describe(detail, size, r, "read", f->dir, f->state_base);
        root = json_loadb(data ? data : "", len, 0, &err);
        entries = json_object_get(root, "entries");
        if (!json_is_array(entries)) {
                snprintf(detail, size,
                         "%s%s%s is not the feed's list of entries (%s): repair it, or remove it "
                         "to start the feed afresh",
                         f->dir, streq(f->dir, "/") ? "" : "/", f->state_base,
                         root ? "no \"entries\"" : err.text);
                json_decref(root);
                return -EBADMSG;
        }
        *ret = json_incref(entries);
        json_decref(root);
        return 0;
}

static int open_dir(const char *dir, const char *key, char *detail, size_t size)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno == ENOENT) {
                snprintf(detail, size,
                         "the directory of %s, %s, does not exist: create it, writable by "
                         "govwatchd's user",
                         key, dir);
                return -ENOENT;
        }
        return describe(detail, size, -errno, "open the directory", dir, NULL);
}

/* entry into the list, and the list out to every file; count: the entries now in it. */
static int feed_update(struct feed_sink *f, json_t *entry, char *detail, size_t size,
                       size_t *ret_count)
{
        const struct feed_settings *set = f->settings;
        struct strbuf atom = {0};
        json_t *old = NULL, *entries = NULL, *root = NULL;
        char *state = NULL, *json_feed = NULL;
        int dirfd, json_dirfd = -1, r;

        dirfd = open_dir(f->dir, "path", detail, size);
        if (dirfd < 0)
                return dirfd;
        if (flock(dirfd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK) {
                        snprintf(detail, size, "another govwatchd is writing in %s", f->dir);
                        r = -EBUSY;
                        goto out;
                }
                log_debug_errno(errno, "Feed sink %s: cannot lock %s, writing unlocked: %m",
                                f->sink.name, f->dir);
        }
        r = state_load(f, dirfd, &old, detail, size);
        if (r < 0)
                goto out;
        entries = entries_merge(old, entry, set->entries ? set->entries : 50);
        root = entries ? json_pack("{s:i,s:O}", "version", STATE_VERSION, "entries", entries)
                       : NULL;
        state = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
        if (!state || atom_build(f, entries, &atom) < 0 ||
            (f->json_base && !(json_feed = json_feed_build(f, entries)))) {
                r = describe(detail, size, -ENOMEM, "write", f->dir, f->base);
                goto out;
        }

        /* the list first: a feed is never ahead of what a restart reads back */
        r = write_atomic(dirfd, f->dir, f->state_base, state, strlen(state), STATE_MODE, detail,
                         size);
        if (r >= 0)
                r = write_atomic(dirfd, f->dir, f->base, atom.buf, atom.len, FEED_MODE, detail,
                                 size);
        if (r >= 0 && f->json_base) {
                bool same = streq(f->json_dir, f->dir);
                json_dirfd = same ? dirfd : open_dir(f->json_dir, "json_path", detail, size);
                r = json_dirfd < 0 ? json_dirfd
                                   : write_atomic(json_dirfd, f->json_dir, f->json_base, json_feed,
                                                  strlen(json_feed), FEED_MODE, detail, size);
                if (same)
                        json_dirfd = -1;
        }
        if (r >= 0)
                *ret_count = json_array_size(entries);
out:
        if (json_dirfd >= 0)
                close(json_dirfd);
        close(dirfd); /* and the lock with it */
        strbuf_done(&atom);
        free(state);
        free(json_feed);
        json_decref(root);
        json_decref(entries);
        json_decref(old);
        return r;
}

/* ---- the sink ----------------------------------------------------------------------------- */

static int feed_send(struct sink *s, const struct notification *n, sink_done_fn done,
                     void *userdata)
{
        struct feed_sink *f = (struct feed_sink *)s;
        _cleanup_free_ char *title = NULL, *body = NULL;
        char detail[1024] = "";
        size_t count = 0;
        json_t *entry;
        int r;

        r = feed_render(s->conf, n, &title, &body);
        if (r < 0)
                return r;
        entry = entry_new(n, title, body);
        if (!entry)
                return -ENOMEM;
        r = feed_update(f, entry, detail, sizeof(detail), &count);
        json_decref(entry);
        if (r < 0) {
                log_warning("Feed sink %s: try later: %s", s->name, detail);
                done(s, SINK_TRY_LATER, 0, detail, userdata);
                return 0;
        }
        snprintf(detail, sizeof(detail), "%s, %zu %s", f->settings->path, count,
                 plural(count, "entry", "entries"));
        log_debug("Feed sink %s: wrote %s.", s->name, detail);
        done(s, SINK_ACCEPTED, 0, detail, userdata);
        return 0;
}

static void feed_free(struct sink *s)
{
        struct feed_sink *f = (struct feed_sink *)s;
        if (!f)
                return;
        free(f->dir);
        free(f->base);
        free(f->state_base);
        free(f->json_dir);
        free(f->json_base);
        free(f->title);
        free(f->id);
        free(f);
}

/* "dir/base" into its two halves: "." for a path without a directory, "/" for one at the root. */
static int split_path(const char *path, char **ret_dir, char **ret_base)
{
        const char *slash = strrchr(path, '/');
        char *dir = !slash          ? strdup(".")
                    : slash == path ? strdup("/")
                                    : strndup(path, (size_t)(slash - path));
        char *base = strdup(slash ? slash + 1 : path);
        if (!dir || !base) {
                free(dir);
                free(base);
                return -ENOMEM;
        }
        *ret_dir = dir;
        *ret_base = base;
        return 0;
}

static int feed_create(const struct sink_conf *conf, const struct sink_context *ctx,
                       struct sink **ret)
{
        const struct feed_settings *set = conf->settings;
        struct feed_sink *f;
        struct strbuf id = {0};
        int r;

        if (!set || !set->path)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->sink.name = conf->name;
        f->settings = set;
        r = split_path(set->path, &f->dir, &f->base);
        if (r >= 0 && set->json_path)
                r = split_path(set->json_path, &f->json_dir, &f->json_base);
        if (r >= 0 && asprintf(&f->state_base, "%s" STATE_SUFFIX, f->base) < 0) {
                f->state_base = NULL;
                r = -ENOMEM;
        }
        if (r >= 0 && (set->title ? asprintf(&f->title, "%s", set->title)
                                  : asprintf(&f->title, "govwatch: %s", conf->name)) < 0) {
                f->title = NULL;
                r = -ENOMEM;
        }
        if (r >= 0 && set->id)
                r = (f->id = strdup(set->id)) ? 0 : -ENOMEM;
        else if (r >= 0) {
                r = strbuf_puts(&id, GOVWATCH_TAG "feed/");
                if (r >= 0)
                        r = tag_append(&id, conf->name);
                f->id = id.buf;
        }
        if (r < 0) {
                feed_free(&f->sink);
                return r;
        }
        *ret = &f->sink;
        return 0;
}

const struct sink_ops sink_feed_ops = {
        .type = "feed",
        SINK_SETTINGS(feed_table, struct feed_settings),
        .check = feed_check,
        .create = feed_create,
        .send = feed_send,
        .free = feed_free,
        .render = feed_render,
};
