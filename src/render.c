/* render.c — a notification as a sink's title and body, from the sink's templates.
 *
 * Pure: no I/O, no logging. Owns the placeholder syntax ({name}, "{{" for a literal brace) and
 * the rules every sink shares: the output is always valid UTF-8 (invalid bytes from a hostile
 * post become U+FFFD), control characters other than newline and tab become spaces, and a length
 * limit cuts on a character boundary with "…". It must never escape for a medium (markup, mail
 * headers): that is each sink's job, after this. The one exception is JSON (a webhook's body
 * template), where only the placeholders' values are to be escaped, not the template's own text:
 * after rendering, nobody could tell the two apart, so that mode is here.
 */
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include "render.h"
#include "timeparse.h"

#define ELLIPSIS        "…"
#define ELLIPSIS_LEN    (sizeof(ELLIPSIS) - 1)
#define PLACEHOLDER_MAX 32
/* An excerpt is cut at the last space this close to its end, so that no word is halved. */
#define EXCERPT_WORD_SLACK 80

enum placeholder {
        PH_COMMUNITY,
        PH_CATEGORY,
        PH_TEXT,
        PH_EXCERPT,
        PH_URL,
        PH_DATE,
        PH_STARTS_AT,
        PH_TOPIC,
        PH_WATCH_URL,
        PH_ACTIONS,
        _PH_TEXT_MAX,            /* the above: every template's */
        PH_TITLE = _PH_TEXT_MAX, /* these: a JSON template's only, the rendered title and body */
        PH_BODY,
        _PH_MAX,
};

static const char *const placeholder_names[_PH_MAX + 1] = {
        [PH_COMMUNITY] = "community", [PH_CATEGORY] = "category", [PH_TEXT] = "text",
        [PH_EXCERPT] = "excerpt",     [PH_URL] = "url",           [PH_DATE] = "date",
        [PH_STARTS_AT] = "starts_at", [PH_TOPIC] = "topic",       [PH_WATCH_URL] = "watch_url",
        [PH_ACTIONS] = "actions",     [PH_TITLE] = "title",       [PH_BODY] = "body",
};

/* What a template is rendered for. */
struct render_job {
        const struct notification *n;
        bool json;         /* the values escaped for the inside of a JSON string */
        int n_known;       /* placeholders known: _PH_TEXT_MAX, or _PH_MAX with json */
        const char *title; /* {title} and {body}, with json */
        const char *body;
        size_t value_max; /* with json: each value cut at this many bytes (0: whole) */
};

/* The names residents read (corpus/LABELS.md). */
static const struct {
        const char *id;
        const char *title;
} category_titles[] = {
        {"live", "Прямой эфир"},
        {"service", "Услуги"},
        {"schedule", "Расписание"},
        {"outage", "Отключения"},
        {"emergency", "ЧС и предупреждения"},
        {"civic", "Участие"},
};

const char *render_category_title(const char *category)
{
        if (!category)
                return "";
        for (size_t i = 0; i < ELEMENTSOF(category_titles); i++)
                if (streq(category_titles[i].id, category))
                        return category_titles[i].title;
        return category;
}

size_t utf8_prefix_len(const char *s, size_t max_bytes)
{
        size_t len = strnlen(s, max_bytes + 1);
        if (len <= max_bytes)
                return len;
        /* s[max_bytes] is the first byte left out: if it continues a character, leave that
         * character out whole */
        size_t i = max_bytes;
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
                i--;
        return i;
}

size_t utf8_sequence_len(const unsigned char *s, size_t left)
{
        unsigned char c = s[0];
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

        if (c < 0x80)
                return 1;
        if (c < 0xC2)
                return 0;
        if (c < 0xE0)
                n = 2;
        else if (c < 0xF0) {
                n = 3;
                if (c == 0xE0)
                        lo = 0xA0;
                else if (c == 0xED)
                        hi = 0x9F;
        } else if (c < 0xF5) {
                n = 4;
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4)
                        hi = 0x8F;
        } else
                return 0;
        if (left < n || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
        return n;
}

/* Appends s as clean text: invalid UTF-8 → U+FFFD, control characters → space (newline and tab
 * are kept: a body may span lines). */
static int append_clean(struct strbuf *sb, const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, run = 0; /* run: bytes from i - run that can be copied as they are */
        int r;

        while (i < len) {
                size_t n = utf8_sequence_len(p + i, len - i);
                bool control =
                        n == 1 && ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f);
                bool c1 = n == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0; /* U+0080..U+009F */
                if (n > 0 && !control && !c1) {
                        i += n;
                        run += n;
                        continue;
                }
                r = strbuf_append(sb, (const char *)p + i - run, run);
                if (r < 0)
                        return r;
                run = 0;
                r = n == 0 ? strbuf_puts(sb, "\xEF\xBF\xBD") : strbuf_puts(sb, " ");
                if (r < 0)
                        return r;
                i += n == 0 ? 1 : n;
        }
        return strbuf_append(sb, (const char *)p + i - run, run);
}

static bool is_space_at(const unsigned char *p, size_t left, size_t *ret_len)
{
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f') {
                *ret_len = 1;
                return true;
        }
        /* VK text is full of no-break spaces; U+2028/U+2029 are line and paragraph breaks */
        if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0) {
                *ret_len = 2;
                return true;
        }
        if (left >= 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                *ret_len = 3;
                return true;
        }
        return false;
}

/* The first RENDER_EXCERPT_CHARS characters of text on one line: runs of whitespace become one
 * space; when the text is longer, it ends at a word boundary (if one is near) with "…". */
static int append_excerpt(struct strbuf *sb, const char *text)
{
        struct strbuf line = {0};
        const unsigned char *p = (const unsigned char *)strempty(text);
        size_t len = strlen((const char *)p), i = 0, chars = 0;
        size_t cut = 0; /* bytes of line that hold the first RENDER_EXCERPT_CHARS - 1 chars */
        bool pending_space = false, truncated = false;
        int r = 0;

        while (i < len) {
                size_t n;
                if (is_space_at(p + i, len - i, &n)) {
                        pending_space = line.len > 0;
                        i += n;
                        continue;
                }
                if (chars + (pending_space ? 1 : 0) >= RENDER_EXCERPT_CHARS) {
                        truncated = true;
                        break;
                }
                if (pending_space) {
                        if ((r = strbuf_puts(&line, " ")) < 0)
                                goto out;
                        chars++;
                        pending_space = false;
                        if (chars == RENDER_EXCERPT_CHARS - 1)
                                cut = line.len;
                }
                n = utf8_sequence_len(p + i, len - i);
                if ((r = append_clean(&line, (const char *)p + i, n ? n : 1)) < 0)
                        goto out;
                i += n ? n : 1;
                chars++;
                if (chars == RENDER_EXCERPT_CHARS - 1)
                        cut = line.len;
        }
        if (!truncated) {
                r = line.len ? strbuf_append(sb, line.buf, line.len) : 0;
                goto out;
        }
        /* room for "…": keep RENDER_EXCERPT_CHARS - 1 characters, fewer to end on a word */
        for (size_t j = cut; j > 0 && cut - j < EXCERPT_WORD_SLACK; j--)
                if (line.buf[j - 1] == ' ') {
                        cut = j - 1;
                        break;
                }
        while (cut > 0 && line.buf[cut - 1] == ' ')
                cut--;
        r = strbuf_append(sb, line.buf, cut);
        if (r >= 0)
                r = strbuf_puts(sb, ELLIPSIS);
out:
        strbuf_done(&line);
        return r;
}

static int append_categories(struct strbuf *sb, char *const *categories)
{
        int r = 0;
        if (!categories || !categories[0])
                return strbuf_puts(sb, "Без категории");
        for (char *const *c = categories; *c && r >= 0; c++) {
                if (c != categories)
                        r = strbuf_puts(sb, ", ");
                if (r >= 0) {
                        const char *title = render_category_title(*c);
                        r = append_clean(sb, title, strlen(title));
                }
        }
        return r;
}

/* "28.11.2026 18:00": how Russian readers write a date. Both the post date and a broadcast's
 * start are shown in the configured zone (the offsets the notification carries), never the
 * host's, so the two read alike. A time beyond years 1..9999 is left out like an absent one:
 * post.c never lets VK's through, and this keeps the sum below from overflowing. */
static int append_time(struct strbuf *sb, int64_t t, int32_t utc_offset)
{
        struct tm tm;
        char buf[64];

        if (t == 0 || t < TIMEPARSE_TIME_MIN || t > TIMEPARSE_TIME_MAX)
                return 0;
        time_t tt = (time_t)(t + utc_offset);
        if (!gmtime_r(&tt, &tm))
                return 0;
        size_t n = strftime(buf, sizeof(buf), "%d.%m.%Y %H:%M", &tm);
        return strbuf_append(sb, buf, n);
}

/* "Задать вопрос: URL", one line an action of notification_actions(): a link a medium
 * without buttons (e-mail, a feed reader's text) can still offer. */
static int append_actions(struct strbuf *sb, const struct notification *n)
{
        struct notification_action actions[NOTIFICATION_ACTIONS_MAX];
        size_t k = notification_actions(n, actions);
        int r = 0;

        for (size_t i = 0; r >= 0 && i < k; i++) {
                r = strbuf_appendf(sb, "%s%s: ", i ? "\n" : "", actions[i].label);
                if (r >= 0)
                        r = append_clean(sb, actions[i].url, strlen(actions[i].url));
        }
        return r;
}

static int append_placeholder(struct strbuf *sb, enum placeholder ph, const struct notification *n)
{
        const char *s = NULL;

        switch (ph) {
        case PH_COMMUNITY:
                s = n->community;
                break;
        case PH_TOPIC:
                s = n->topic;
                break;
        case PH_TEXT:
                s = n->text;
                break;
        case PH_URL:
                s = n->url;
                break;
        case PH_WATCH_URL:
                s = n->watch_url;
                break;
        case PH_ACTIONS:
                return append_actions(sb, n);
        case PH_CATEGORY:
                return append_categories(sb, n->categories);
        case PH_EXCERPT:
                return append_excerpt(sb, n->text);
        case PH_DATE:
                return append_time(sb, n->date, n->date_utc_offset);
        case PH_STARTS_AT:
                return append_time(sb, n->starts_at, n->starts_at_utc_offset);
        case PH_TITLE:
        case PH_BODY:
        case _PH_MAX:
                break;
        }
        s = strempty(s);
        return append_clean(sb, s, strlen(s));
}

/* At p (a '{' that does not start "{{"): the placeholder spelled there (one of the first
 * n_known), _PH_MAX when the braces are literal text, -EINVAL when it is an unknown name.
 * *ret_len: bytes of "{name}". */
static int parse_placeholder(const char *p, int n_known, size_t *ret_len)
{
        size_t k = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
        if (k == 0 || k > PLACEHOLDER_MAX || p[1 + k] != '}')
                return _PH_MAX;
        *ret_len = k + 2;
        for (int i = 0; i < n_known; i++)
                if (strlen(placeholder_names[i]) == k &&
                    memcmp(placeholder_names[i], p + 1, k) == 0)
                        return i;
        return -EINVAL;
}

static int check_placeholders(const char *tmpl, int n_known, size_t *ret_offset)
{
        for (const char *p = tmpl ? strchr(tmpl, '{') : NULL; p; p = strchr(p, '{')) {
                size_t len = 0;
                if (p[1] == '{') {
                        p += 2;
                        continue;
                }
                int ph = parse_placeholder(p, n_known, &len);
                if (ph < 0) {
                        if (ret_offset)
                                *ret_offset = (size_t)(p - tmpl);
                        return ph;
                }
                p += ph == _PH_MAX ? 1 : len;
        }
        return 0;
}

int render_check(const char *tmpl, size_t *ret_offset)
{
        return check_placeholders(tmpl, _PH_TEXT_MAX, ret_offset);
}

/* Cuts sb so that it, "…" included, fits in max_bytes (0: no limit). */
static void cut(struct strbuf *sb, size_t max_bytes)
{
        if (max_bytes == 0 || sb->len <= max_bytes)
                return;
        if (max_bytes > ELLIPSIS_LEN) {
                size_t keep = utf8_prefix_len(sb->buf, max_bytes - ELLIPSIS_LEN);
                while (keep > 0 && (sb->buf[keep - 1] == ' ' || sb->buf[keep - 1] == '\n'))
                        keep--;
                memcpy(sb->buf + keep, ELLIPSIS, ELLIPSIS_LEN);
                sb->len = keep + ELLIPSIS_LEN;
        } else
                sb->len = utf8_prefix_len(sb->buf, max_bytes);
        sb->buf[sb->len] = '\0';
}

/* s (clean UTF-8) as the inside of a JSON string: quote, backslash and control characters
 * escaped, the rest as it is (JSON is UTF-8). */
static int append_json_escaped(struct strbuf *out, const char *s, size_t len)
{
        int r = 0;
        for (size_t i = 0; i < len && r >= 0; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\')
                        r = strbuf_appendf(out, "\\%c", c);
                else if (c == '\n')
                        r = strbuf_puts(out, "\\n");
                else if (c == '\t')
                        r = strbuf_puts(out, "\\t");
                else if (c < 0x20)
                        r = strbuf_appendf(out, "\\u%04x", c);
                else
                        r = strbuf_append(out, s + i, 1);
        }
        return r;
}

/* One placeholder's value: as text, or cut and escaped for JSON. */
static int append_value(struct strbuf *sb, enum placeholder ph, const struct render_job *job)
{
        struct strbuf value = {0};
        int r;

        if (!job->json)
                return append_placeholder(sb, ph, job->n);
        if (ph == PH_TITLE || ph == PH_BODY) {
                const char *s = strempty(ph == PH_TITLE ? job->title : job->body);
                r = append_clean(&value, s, strlen(s));
        } else
                r = append_placeholder(&value, ph, job->n);
        if (r >= 0 && value.len > 0) {
                cut(&value, job->value_max);
                r = append_json_escaped(sb, value.buf, value.len);
        }
        strbuf_done(&value);
        return r;
}

static int render(const char *tmpl, const struct render_job *job, struct strbuf *sb)
{
        const char *p = tmpl ? tmpl : RENDER_DEFAULT_BODY;
        int r = 0;

        while (*p && r >= 0) {
                size_t len = 0;
                if (p[0] == '{' && p[1] == '{') {
                        r = strbuf_puts(sb, "{");
                        p += 2;
                        continue;
                }
                if (p[0] == '{') {
                        int ph = parse_placeholder(p, job->n_known, &len);
                        if (ph < 0)
                                return ph;
                        if (ph < _PH_MAX) {
                                r = append_value(sb, (enum placeholder)ph, job);
                                p += len;
                                continue;
                        }
                }
                /* literal text up to the next brace (a lone '{' is literal too) */
                const char *next = strchr(p + 1, '{');
                len = next ? (size_t)(next - p) : strlen(p);
                r = append_clean(sb, p, len);
                p += len;
        }
        if (r >= 0 && !sb->buf)
                r = strbuf_append(sb, "", 0);
        return r;
}

int render_template(const char *tmpl, const struct notification *n, size_t max_bytes, char **ret)
{
        struct render_job job = {.n = n, .n_known = _PH_TEXT_MAX};
        struct strbuf sb = {0};
        int r = render(tmpl, &job, &sb);

        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        cut(&sb, max_bytes);
        *ret = sb.buf;
        return 0;
}

int render_json_template(const char *tmpl, const struct notification *n, const char *title,
                         const char *body, size_t value_max_bytes, char **ret)
{
        struct render_job job = {
                .n = n,
                .json = true,
                .n_known = _PH_MAX,
                .title = title,
                .body = body,
                .value_max = value_max_bytes,
        };
        struct strbuf sb = {0};
        int r = tmpl ? render(tmpl, &job, &sb) : -EINVAL;

        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

/* A value for every placeholder that no JSON outside a string can hold: a quote. */
#define SAMPLE "x\""

const char *render_json_check(const char *tmpl, char *buf, size_t size)
{
        char *categories[] = {(char *)SAMPLE, NULL};
        struct notification sample = {
                .kind = (char *)"post",
                .community = (char *)SAMPLE,
                .topic = (char *)SAMPLE,
                .url = (char *)SAMPLE,
                .text = (char *)SAMPLE,
                .categories = categories,
                .date = 1773144000,
                .starts_at = 1773144000,
        };
        _cleanup_free_ char *out = NULL;
        size_t offset = 0;
        json_error_t error;

        if (check_placeholders(tmpl, _PH_MAX, &offset) < 0) {
                const char *p = tmpl + offset + 1;
                char name[PLACEHOLDER_MAX + 1];
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "}"), p);
                const char *near = closest_name(name, placeholder_names);
                snprintf(buf, size, "unknown placeholder '{%s}' in the body%s%s%s", name,
                         near ? "; did you mean '{" : "", strempty(near), near ? "}'?" : "");
                return buf;
        }
        if (render_json_template(tmpl, &sample, SAMPLE, SAMPLE, 0, &out) < 0) {
                snprintf(buf, size, "the body cannot be rendered");
                return buf;
        }
        json_t *doc = json_loads(out, 0, &error);
        if (!doc) {
                snprintf(buf, size,
                         "the body is not JSON once its placeholders are filled in (each goes "
                         "inside a string, as \"{text}\"): %s, line %d, column %d",
                         error.text, error.line, error.column);
                return buf;
        }
        json_decref(doc);
        return NULL;
}
