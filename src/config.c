/* config.c — the config stage: the YAML watch list becomes one immutable, validated snapshot.
 *
 * The shared YAML tree (yaml_tree.c) gives nodes that keep their marks; tables of settings
 * (one per section, the way dunst does it) then give every key its type, target field, default
 * and description, and drive parsing, validation and defaults from that one place. Every problem
 * is collected as FILE:LINE:COL, sorted by position, so an admin fixes a watch list in one pass.
 * Hostile input is bounded before it costs anything: the tree caps size, nesting depth, number of
 * aliases and what they expand to; this file caps what the settings ask of the daemon. This stage
 * never logs, never resolves names on the network and never reads a secret's value (only whether
 * it can be read).
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "config.h"
#include "corpus.h"
#include "rules.h"
#include "setting.h"
#include "sink.h"
#include "tz_cache.h"
#include "util.h"

#define TOKEN_MAX_SIZE 4096
/* Work bounds: what one file may ask of the daemon it configures (yaml_tree.h has the loader's:
 * size, values, depth, aliases, errors and their length). Each is refused with its own message. */
#define CONFIG_MAX_LISTED_NAMES 8  /* names a message lists ("defined: a, b, ... and 3 more") */
#define CONFIG_MAX_NAME         64 /* bytes of a sink or category name */
/* What the daemon's parts take from one file: */
#define CONFIG_MAX_SINKS       256   /* sinks */
#define CONFIG_MAX_WATCH       10000 /* watch entries */
#define CONFIG_MAX_COMMUNITIES 50000 /* community references over all watch entries */
/* The classifier reads each post against every phrase and regex of the config (classify.h bounds
 * the text and the work of each): an admin's tens to few hundred phrases fit many times over, and
 * each item costs ~20 us to compile at start and reload. Regexes cost most: a scan of the text
 * read per post each (~0.15 ms at CLASSIFY_TEXT_MAX), and all of a post's share one work budget
 * (CLASSIFY_REGEX_STEPS, ~10 ms at worst), so even 100 runaway regexes stay near it; the cap
 * keeps start, reload and a post's plain regexes cheap. */
#define CONFIG_MAX_CLASSIFIER_ITEMS 1000 /* phrases, regexes and exclusions of the classifier */
#define CONFIG_MAX_REGEXES          100  /* regexes of the classifier */

/* ---- the loader -------------------------------------------------------------------------- */

struct loader {
        const char *path;
        char *dir; /* where relative paths in the file start; NULL: the working directory */
        struct yaml_report rep; /* the errors, with the tree's (yaml_tree.h) */
        struct config *c;

        size_t n_communities;             /* over the watch entries parsed so far */
        struct name_index category_index; /* c->category_names, for watch entries */
        size_t n_classifier_items;        /* phrases, regexes and exclusions so far */
        size_t n_regexes;                 /* regexes of them */
};

static void error_at(struct loader *l, struct conf_mark mark, const char *fmt, ...) _printf_(3, 4);
static void error_at(struct loader *l, struct conf_mark mark, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        yaml_report_errorv(&l->rep, mark, fmt, ap);
        va_end(ap);
}

/* Whether another error would still be shown: callers skip costly work (suggestions, lists)
 * for errors that would only be counted. */
static bool errors_full(const struct loader *l)
{
        return yaml_report_full(&l->rep);
}

/* ---- settings tables --------------------------------------------------------------------- */

static void *field(void *base, const struct setting *s)
{
        return (char *)base + s->offset;
}

static const char *type_expectation(const struct setting *s, char *buf, size_t size)
{
        switch (s->type) {
        case SETTING_STRING:
        case SETTING_PATH:
                return "expected a string";
        case SETTING_BOOL:
                return "expected a boolean (true/false, yes/no, on/off)";
        case SETTING_UINT:
        case SETTING_INT:
        case SETTING_SIZE:
                return "expected a whole number";
        case SETTING_DOUBLE:
                return "expected a number";
        case SETTING_DURATION:
                return "expected a duration like 5m";
        case SETTING_STRV:
                return "expected a list of strings";
        case SETTING_ENUM: {
                size_t j = 0;
                j += (size_t)snprintf(buf, size, "expected one of ");
                for (size_t i = 0; s->enum_values[i] && j < size; i++)
                        j += (size_t)snprintf(buf + j, size - j, "%s%s", i ? ", " : "",
                                              s->enum_values[i]);
                return buf;
        }
        default:
                return "expected a mapping";
        }
}

static void error_type(struct loader *l, const struct setting *s, const struct node *value)
{
        char buf[160];
        const char *expect = type_expectation(s, buf, sizeof(buf));
        if (value->kind == NODE_SCALAR)
                error_at(l, value->mark, "%s, got '%s'", expect, QUOTE(value->scalar));
        else
                error_at(l, value->mark, "%s, got %s", expect, DESCRIBE(value));
}

static bool has_control(const char *s, bool allow_newline)
{
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                if ((ch < 0x20 && !(allow_newline && (ch == '\n' || ch == '\t'))) || ch == 0x7F)
                        return true;
        }
        return false;
}

static char *resolve_path(struct loader *l, const char *p)
{
        if (p[0] == '/' || !l->dir)
                return strdup(p);
        char *joined = NULL;
        if (asprintf(&joined, "%s/%s", l->dir, p) < 0)
                return NULL;
        return joined;
}

/* A string value: a scalar with no NUL and no control characters. */
static const char *scalar_string(struct loader *l, const struct setting *s,
                                 const struct node *value)
{
        if (value->kind != NODE_SCALAR) {
                error_type(l, s, value);
                return NULL;
        }
        if (strlen(value->scalar) != value->scalar_len || has_control(value->scalar, false)) {
                error_at(l, value->mark, "'%s' must not contain control characters", s->key);
                return NULL;
        }
        if (value->scalar[0] == '\0') {
                error_at(l, value->mark, "'%s' must not be empty", s->key);
                return NULL;
        }
        return value->scalar;
}

static bool run_check(struct loader *l, const struct setting *s, const struct node *value)
{
        char buf[256];
        const char *reason = s->check ? s->check(value->scalar, buf, sizeof(buf)) : NULL;
        if (reason)
                error_at(l, value->mark, "%s", reason);
        return !reason;
}

static void parse_strv(struct loader *l, const struct setting *s, const struct node *value,
                       char ***ret)
{
        _cleanup_strv_free_ char **v = NULL;
        size_t n = 0, allocated = 0;
        bool ok = true;

        /* A single string is a list of one: "to: me@example.org" reads naturally. */
        const struct node *const *items = (const struct node *const *)&value;
        size_t n_items = 1;
        if (value->kind == NODE_SEQUENCE) {
                items = (const struct node *const *)value->items;
                n_items = value->n_items;
        } else if (value->kind != NODE_SCALAR) {
                error_at(l, value->mark, "expected a list of strings, got %s", DESCRIBE(value));
                return;
        }

        for (size_t i = 0; i < n_items; i++) {
                const struct node *it = items[i];
                if (it->kind != NODE_SCALAR || node_is_null(it)) {
                        error_at(l, it->mark, "expected a string in '%s', got %s", s->key,
                                 it->kind == NODE_SCALAR ? "nothing" : DESCRIBE(it));
                        ok = false;
                        continue;
                }
                const char *str = scalar_string(l, s, it);
                if (!str || !run_check(l, s, it)) {
                        ok = false;
                        continue;
                }
                if (!greedy_realloc((void **)&v, &allocated, n + 2, sizeof(char *))) {
                        l->rep.oom = true;
                        return;
                }
                v[n] = strdup(str);
                if (!v[n]) {
                        l->rep.oom = true;
                        return;
                }
                v[++n] = NULL;
        }
        if (!ok)
                return;
        if (n == 0 && s->required) {
                error_at(l, value->mark, "'%s' must not be empty", s->key);
                return;
        }
        if (!v) {
                v = calloc(1, sizeof(char *));
                if (!v) {
                        l->rep.oom = true;
                        return;
                }
        }
        strv_free(*ret);
        *ret = TAKE_PTR(v);
}

static void parse_table(struct loader *l, const struct setting *table, size_t n_table,
                        const struct node *map, void *base, const char *where);
static void parse_category_map(struct loader *l, const struct setting *s, const struct node *value,
                               char **map);

/* Parses one value into its field; value is never null here. */
static void parse_string(struct loader *l, const struct setting *s, const struct node *value,
                         void *p)
{
        if (!scalar_string(l, s, value) || !run_check(l, s, value))
                return;
        char *copy =
                s->type == SETTING_PATH ? resolve_path(l, value->scalar) : strdup(value->scalar);
        if (!copy) {
                l->rep.oom = true;
                return;
        }
        free(*(char **)p);
        *(char **)p = copy;
}

/* SETTING_UINT, SETTING_INT and SETTING_SIZE: a whole number in [min, max]. */
static void parse_whole(struct loader *l, const struct setting *s, const struct node *value,
                        void *p)
{
        const char *text = value->scalar;
        uint64_t max = s->max                    ? s->max
                       : s->type == SETTING_UINT ? UINT_MAX
                       : s->type == SETTING_INT  ? INT_MAX
                                                 : SIZE_MAX;
        uint64_t min = s->positive && s->min == 0 ? 1 : s->min;
        uint64_t u;
        int r = parse_uint64(text, &u);

        if (r == -EINVAL) {
                error_type(l, s, value);
                return;
        }
        if (r < 0 || u < min || u > max) {
                if (s->max)
                        error_at(l, value->mark,
                                 "'%s' must be between %" PRIu64 " and %" PRIu64 ", got %s", s->key,
                                 min, max, QUOTE(text));
                else
                        error_at(l, value->mark, "'%s' must be at least %" PRIu64 ", got %s",
                                 s->key, min, QUOTE(text));
                return;
        }
        if (s->type == SETTING_UINT)
                *(unsigned *)p = (unsigned)u;
        else if (s->type == SETTING_INT)
                *(int *)p = (int)u;
        else
                *(size_t *)p = (size_t)u;
}

static void parse_decimal(struct loader *l, const struct setting *s, const struct node *value,
                          void *p)
{
        double d;

        if (parse_double(value->scalar, &d) < 0) {
                error_type(l, s, value);
                return;
        }
        if (s->positive && !(d > 0)) {
                error_at(l, value->mark, "'%s' must be greater than 0, got %s", s->key,
                         QUOTE(value->scalar));
                return;
        }
        *(double *)p = d;
}

static void parse_duration(struct loader *l, const struct setting *s, const struct node *value,
                           void *p)
{
        uint64_t u;
        int r = parse_duration_usec(value->scalar, &u);

        if (r == -ERANGE) {
                error_at(l, value->mark, "duration '%s' is too long", QUOTE(value->scalar));
                return;
        }
        if (r < 0) {
                error_type(l, s, value);
                return;
        }
        if (s->positive && u == 0) {
                error_at(l, value->mark, "'%s' must be longer than 0", s->key);
                return;
        }
        *(uint64_t *)p = u;
}

static void parse_scalar(struct loader *l, const struct setting *s, const struct node *value,
                         void *p)
{
        switch (s->type) {
        case SETTING_STRING:
        case SETTING_PATH:
                parse_string(l, s, value, p);
                return;
        case SETTING_BOOL:
                if (parse_bool(value->scalar, (bool *)p) < 0)
                        error_type(l, s, value);
                return;
        case SETTING_UINT:
        case SETTING_INT:
        case SETTING_SIZE:
                parse_whole(l, s, value, p);
                return;
        case SETTING_DOUBLE:
                parse_decimal(l, s, value, p);
                return;
        case SETTING_DURATION:
                parse_duration(l, s, value, p);
                return;
        case SETTING_ENUM:
                for (size_t i = 0; s->enum_values[i]; i++)
                        if (streq(s->enum_values[i], value->scalar)) {
                                *(int *)p = (int)i;
                                return;
                        }
                error_type(l, s, value);
                return;
        default:
                return;
        }
}

static void parse_value(struct loader *l, const struct setting *s, const struct node *value,
                        void *base)
{
        void *p = field(base, s);
        char where[64];

        switch (s->type) {
        case SETTING_CUSTOM:
                s->parse(l, s, value, base);
                return;
        case SETTING_SECTION:
                if (value->kind != NODE_MAPPING) {
                        error_type(l, s, value);
                        return;
                }
                snprintf(where, sizeof(where), "in '%s'", s->key);
                parse_table(l, s->sub, s->n_sub, value, base, where);
                return;
        case SETTING_STRV:
                parse_strv(l, s, value, (char ***)p);
                return;
        case SETTING_CATEGORY_MAP:
                parse_category_map(l, s, value, (char **)p);
                return;
        default:
                break;
        }
        if (value->kind != NODE_SCALAR)
                error_type(l, s, value);
        else
                parse_scalar(l, s, value, p);
}

/* Defaults go through the same parser as the file, so the table is the one source of truth. */
static void apply_defaults(struct loader *l, const struct setting *table, size_t n_table,
                           void *base)
{
        for (size_t i = 0; i < n_table; i++) {
                const struct setting *s = &table[i];
                if (s->type == SETTING_SECTION) {
                        apply_defaults(l, s->sub, s->n_sub, base);
                        continue;
                }
                if (!s->default_value)
                        continue;
                struct node fake = {
                        .kind = NODE_SCALAR,
                        .scalar = (char *)s->default_value,
                        .scalar_len = strlen(s->default_value),
                };
                size_t before = l->rep.errors->n_errors;
                parse_value(l, s, &fake, base);
                /* a default that does not parse is a bug in the table, not in the file */
                if (l->rep.errors->n_errors != before)
                        abort();
        }
}

/* The values of the table's keys in map, into base, in table order (so later sections can refer
 * to earlier ones: watch -> sinks); a required key that is missing is an error at map. */
static void parse_values(struct loader *l, const struct setting *table, size_t n_table,
                         const struct node *map, void *base, const char *where)
{
        for (size_t i = 0; i < n_table; i++) {
                const struct setting *s = &table[i];
                const struct node *value = map_get(map, s->key, NULL);
                if (!node_is_null(value))
                        parse_value(l, s, value, base);
                else if (s->required)
                        error_at(l, mark_of(map), "missing required key '%s' %s", s->key, where);
        }
}

static const struct setting *table_find(const struct setting *table, size_t n_table,
                                        const char *key)
{
        for (size_t i = 0; i < n_table; i++)
                if (streq(table[i].key, key))
                        return &table[i];
        return NULL;
}

static void suggest_keys(struct suggest *sg, const struct setting *table, size_t n_table)
{
        for (size_t i = 0; i < n_table; i++)
                suggest_consider(sg, table[i].key);
}

/* k, which no table of its mapping knows; sg holds the keys it might have meant. */
static void error_unknown_key(struct loader *l, const struct node *k, const char *where,
                              const struct suggest *sg)
{
        if (sg->best)
                error_at(l, k->mark, "unknown key '%s' %s; did you mean '%s'?", QUOTE(k->scalar),
                         where, sg->best);
        else
                error_at(l, k->mark, "unknown key '%s' %s", QUOTE(k->scalar), where);
}

static void parse_table(struct loader *l, const struct setting *table, size_t n_table,
                        const struct node *map, void *base, const char *where)
{
        parse_values(l, table, n_table, map, base, where);
        for (size_t i = 0; map && i + 1 < map->n_items; i += 2) {
                const struct node *k = map->items[i];
                if (k->ignored || table_find(table, n_table, k->scalar))
                        continue;
                if (errors_full(l)) {
                        l->rep.n_dropped++;
                        continue;
                }
                struct suggest sg = SUGGEST_INIT(k->scalar);
                suggest_keys(&sg, table, n_table);
                error_unknown_key(l, k, where, &sg);
        }
}

/* ---- checks on single values ------------------------------------------------------------- */

const char *setting_check_url(const char *v, const char *scheme, char *buf, size_t size)
{
        size_t l = strlen(scheme);
        const char *rest = NULL;

        if (strncasecmp(v, scheme, l) == 0) {
                if (strncmp(v + l, "s://", 4) == 0)
                        rest = v + l + 4;
                else if (strncmp(v + l, "://", 3) == 0)
                        rest = v + l + 3;
        }
        if (!rest) {
                snprintf(buf, size, "expected an %s:// or %ss:// URL, got '%s'", scheme, scheme,
                         QUOTE(v));
                return buf;
        }
        if (*rest == '\0' || *rest == '/') {
                snprintf(buf, size, "no host in URL '%s'", QUOTE(v));
                return buf;
        }
        return NULL;
}

static const char *check_http_url(const char *v, char *buf, size_t size)
{
        return setting_check_url(v, "http", buf, size);
}

static const char *check_version(const char *v, char *buf, size_t size)
{
        size_t a = strspn(v, "0123456789");
        if (a == 0 || v[a] != '.' || strspn(v + a + 1, "0123456789") == 0 ||
            v[a + 1 + strspn(v + a + 1, "0123456789")] != '\0') {
                snprintf(buf, size, "expected a VK API version like \"5.199\", got '%s'", QUOTE(v));
                return buf;
        }
        return NULL;
}

static const char *check_timezone(const char *v, char *buf, size_t size)
{
        /* The cache the daemon reads offsets from loads it here, so a zone accepted is one it
         * has. "" would be the local zone to the cache: not a zone this file can name. */
        const struct tz *tz;
        int r = v[0] ? tz_cache_get(v, &tz) : -EINVAL;
        if (r == -EINVAL)
                snprintf(buf, size, "'%s' is not a time zone name like Europe/Moscow", QUOTE(v));
        else if (r == -ENOENT)
                snprintf(buf, size, "unknown time zone '%s'", QUOTE(v));
        else if (r < 0)
                snprintf(buf, size, "cannot read time zone '%s': %s", QUOTE(v), strerror(-r));
        return r < 0 ? buf : NULL;
}

static const char *check_regex(const char *v, char *buf, size_t size)
{
        int code;
        PCRE2_SIZE offset;
        if (strlen(v) > RULES_MAX_PATTERN_BYTES) {
                snprintf(buf, size, "regular expression '%s' is longer than %d bytes", QUOTE(v),
                         RULES_MAX_PATTERN_BYTES);
                return buf;
        }
        /* the options ruleset_add_regex() compiles with, so that both refuse the same patterns */
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS |
                                               PCRE2_MATCH_INVALID_UTF | PCRE2_AUTO_CALLOUT,
                                       &code, &offset, NULL);
        if (re) {
                pcre2_code_free(re);
                return NULL;
        }
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
                snprintf((char *)msg, sizeof(msg), "error %d", code);
        /* PCRE2 counts bytes; a person counts characters */
        size_t chars = 0;
        for (size_t i = 0; i < offset && v[i]; i++)
                chars += ((unsigned char)v[i] & 0xC0) != 0x80;
        snprintf(buf, size, "invalid regular expression '%s': %s at character %zu", QUOTE(v),
                 (const char *)msg, chars);
        return buf;
}

static const char *check_sink_name(const char *v, char *buf, size_t size)
{
        if (strlen(v) > CONFIG_MAX_NAME) {
                snprintf(buf, size, "sink name '%s' is longer than %d bytes", QUOTE(v),
                         CONFIG_MAX_NAME);
                return buf;
        }
        if (strpbrk(v, " \t,")) {
                snprintf(buf, size, "sink name '%s' must not contain spaces or commas", QUOTE(v));
                return buf;
        }
        return NULL;
}

static const char *check_category_name(const char *v, char *buf, size_t size)
{
        if (strlen(v) > CONFIG_MAX_NAME) {
                snprintf(buf, size, "category name '%s' is longer than %d bytes", QUOTE(v),
                         CONFIG_MAX_NAME);
                return buf;
        }
        if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v) || streq(v, "all")) {
                snprintf(buf, size,
                         "category name '%s' must be lower-case latin letters, digits, '_' or "
                         "'-', and not 'all'",
                         QUOTE(v));
                return buf;
        }
        return NULL;
}

/* ---- custom parsers ---------------------------------------------------------------------- */

static const char *const template_placeholders[] = {
        "community", "category", "text", "excerpt", "url", "date", "starts_at", "topic",
};

/* "{comunity}" would be sent to every resident as is: catch it here. Only {identifier} counts
 * as a placeholder, so other braces in a template stay literal. */
static void check_placeholders(struct loader *l, const struct node *value)
{
        for (const char *p = strchr(value->scalar, '{'); p; p = strchr(p + 1, '{')) {
                size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
                if (n == 0 || p[1 + n] != '}' || n > 32)
                        continue;
                char name[33];
                memcpy(name, p + 1, n);
                name[n] = '\0';
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(template_placeholders); i++)
                        known = known || streq(name, template_placeholders[i]);
                if (known)
                        continue;
                if (errors_full(l)) {
                        l->rep.n_dropped++;
                        continue;
                }
                struct suggest sg = SUGGEST_INIT(name);
                for (size_t i = 0; i < ELEMENTSOF(template_placeholders); i++)
                        suggest_consider(&sg, template_placeholders[i]);
                if (sg.best)
                        error_at(l, value->mark,
                                 "unknown placeholder '{%s}' in template; did you mean '{%s}'?",
                                 name, sg.best);
                else
                        error_at(l, value->mark, "unknown placeholder '{%s}' in template", name);
        }
}

static void parse_template(struct loader *l, const struct setting *s, const struct node *value,
                           void *base)
{
        struct sink_conf *sink = base;
        if (value->kind != NODE_MAPPING) {
                error_at(l, value->mark, "expected a mapping with title and body, got %s",
                         DESCRIBE(value));
                return;
        }
        for (size_t i = 0; i + 1 < value->n_items; i += 2) {
                const struct node *k = value->items[i], *v = value->items[i + 1];
                if (k->ignored)
                        continue;
                bool title = streq(k->scalar, "title");
                if (!title && !streq(k->scalar, "body")) {
                        struct suggest sg = SUGGEST_INIT(k->scalar);
                        suggest_consider(&sg, "title");
                        suggest_consider(&sg, "body");
                        if (sg.best)
                                error_at(l, k->mark,
                                         "unknown key '%s' in template; did you mean '%s'?",
                                         QUOTE(k->scalar), sg.best);
                        else
                                error_at(l, k->mark,
                                         "unknown key '%s' in template (expected title, body)",
                                         QUOTE(k->scalar));
                        continue;
                }
                if (node_is_null(v))
                        continue;
                if (v->kind != NODE_SCALAR) {
                        error_at(l, v->mark, "expected a string, got %s", DESCRIBE(v));
                        continue;
                }
                /* a body may span lines; a title is one line of a notification or a Subject */
                if (strlen(v->scalar) != v->scalar_len || has_control(v->scalar, !title)) {
                        error_at(l, v->mark, "template %s must not contain control characters",
                                 title ? "title" : "body");
                        continue;
                }
                check_placeholders(l, v);
                char *copy = strdup(v->scalar);
                if (!copy) {
                        l->rep.oom = true;
                        return;
                }
                char **target = title ? &sink->template_title : &sink->template_body;
                free(*target);
                *target = copy;
        }
}

static int parse_clock(const char *s, size_t len, int *ret)
{
        /* "7:00" or "07:00" */
        if (len < 4 || len > 5 || s[len - 3] != ':')
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                if (i != len - 3 && !isdigit((unsigned char)s[i]))
                        return -EINVAL;
        int h = len == 5 ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
        int m = (s[len - 2] - '0') * 10 + (s[len - 1] - '0');
        if (h > 23 || m > 59)
                return -ERANGE;
        *ret = h * 60 + m;
        return 0;
}

static void parse_quiet_hours(struct loader *l, const struct setting *s, const struct node *value,
                              void *base)
{
        struct sink_conf *sink = base;
        int start, end;

        const char *text = scalar_string(l, s, value);
        if (!text)
                return;
        const char *dash = strchr(text, '-');
        if (!dash || parse_clock(text, (size_t)(dash - text), &start) < 0 ||
            parse_clock(dash + 1, strlen(dash + 1), &end) < 0) {
                error_at(l, value->mark, "expected quiet hours like 23:00-07:00, got '%s'",
                         QUOTE(text));
                return;
        }
        if (start == end) {
                error_at(l, value->mark, "quiet hours '%s' start and end at the same time",
                         QUOTE(text));
                return;
        }
        char *copy = strdup(text);
        if (!copy) {
                l->rep.oom = true;
                return;
        }
        free(sink->quiet_hours);
        sink->quiet_hours = copy;
        sink->quiet_start_min = start;
        sink->quiet_end_min = end;
}

/* "a, b, c" for the first CONFIG_MAX_LISTED_NAMES of n names (name(i) gives each), then
 * " and N more": a message stays short whatever the file defines. */
static char *names_list(const char *(*name)(const void *userdata, size_t i), const void *userdata,
                        size_t n)
{
        struct strbuf sb = {0};
        int r = strbuf_append(&sb, "", 0);
        size_t shown = n < CONFIG_MAX_LISTED_NAMES ? n : CONFIG_MAX_LISTED_NAMES;
        for (size_t i = 0; r >= 0 && i < shown; i++)
                r = strbuf_appendf(&sb, "%s%s", i ? ", " : "", QUOTE(name(userdata, i)));
        if (r >= 0 && n > shown)
                r = strbuf_appendf(&sb, " and %zu more", n - shown);
        if (r < 0) {
                strbuf_done(&sb);
                return NULL;
        }
        return sb.buf;
}

static const char *strv_name(const void *userdata, size_t i)
{
        return ((const char *const *)userdata)[i];
}

static const char *sink_name(const void *userdata, size_t i)
{
        return ((const struct config *)userdata)->sinks[i].name;
}

static void error_unknown_category(struct loader *l, const struct node *item,
                                   const char *const *names, size_t n_names)
{
        if (errors_full(l)) {
                l->rep.n_dropped++;
                return;
        }
        struct suggest sg = SUGGEST_INIT(item->scalar);
        for (size_t i = 0; i < n_names; i++)
                suggest_consider(&sg, names[i]);
        if (sg.best) {
                error_at(l, item->mark, "unknown category '%s'; did you mean '%s'?",
                         QUOTE(item->scalar), sg.best);
                return;
        }
        _cleanup_free_ char *known = names_list(strv_name, names, n_names);
        if (!known)
                l->rep.oom = true;
        error_at(l, item->mark, "unknown category '%s' (known: %s)", QUOTE(item->scalar),
                 strempty(known));
}

/* "a, b or c" (last " or ") or "a, b, c" (last ", ") of a NULL-terminated list. */
static const char *words_list(const char *const *words, const char *last, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; words[i]; i++) {
                const char *sep = i == 0 ? "" : words[i + 1] ? ", " : last;
                int n = snprintf(buf + len, size - len, "%s%s", sep, words[i]);
                if (n < 0 || (size_t)n >= size - len)
                        break;
                len += (size_t)n;
        }
        return buf;
}

/* A category of the file, as a key of a SETTING_CATEGORY_MAP: the built-in's index, else -1
 * and an error (a category of the admin's own gets its own). */
static int category_map_key(struct loader *l, const struct setting *s, const struct node *k)
{
        int idx = category_builtin_from_name(k->scalar);
        if (idx >= 0)
                return idx;
        for (char **n = l->c->category_names; n && *n; n++)
                if (streq(*n, k->scalar)) {
                        error_at(l, k->mark, "%s can be set only for built-in categories, not '%s'",
                                 s->key, QUOTE(k->scalar));
                        return -1;
                }
        error_unknown_category(l, k, category_builtin_names, _CATEGORY_BUILTIN_MAX);
        return -1;
}

static void parse_category_map(struct loader *l, const struct setting *s, const struct node *value,
                               char **map)
{
        char words[160];
        if (value->kind != NODE_MAPPING) {
                error_at(l, value->mark, "expected a mapping of categories to %s, got %s",
                         words_list(s->enum_values, " or ", words, sizeof(words)), DESCRIBE(value));
                return;
        }
        words_list(s->enum_values, ", ", words, sizeof(words));
        for (size_t i = 0; i + 1 < value->n_items; i += 2) {
                const struct node *k = value->items[i], *v = value->items[i + 1];
                if (k->ignored)
                        continue;
                int idx = category_map_key(l, s, k);
                if (idx < 0)
                        continue;
                const char *match = NULL;
                for (size_t j = 0; s->enum_values[j] && v->kind == NODE_SCALAR; j++)
                        if (streq(s->enum_values[j], v->scalar))
                                match = s->enum_values[j];
                if (!match) {
                        error_at(l, v->mark, "expected one of %s, got %s", words, DESCRIBE(v));
                        continue;
                }
                char *copy = strdup(match);
                if (!copy) {
                        l->rep.oom = true;
                        return;
                }
                free(map[idx]);
                map[idx] = copy;
        }
}

/* Lists written as a single string are a list of one; valuep must outlive the result. */
static const struct node *const *node_items(const struct node *const *valuep, size_t *ret_n)
{
        const struct node *value = *valuep;
        if (value->kind == NODE_SEQUENCE) {
                *ret_n = value->n_items;
                return (const struct node *const *)value->items;
        }
        *ret_n = value->kind == NODE_SCALAR ? 1 : 0;
        return value->kind == NODE_SCALAR ? valuep : NULL;
}

static void parse_communities(struct loader *l, const struct setting *s, const struct node *value,
                              void *base)
{
        struct watch_conf *w = base;
        size_t n_items;
        const struct node *const *items = node_items(&value, &n_items);

        if (value->kind == NODE_MAPPING) {
                error_at(l, value->mark, "expected a list of communities, got a mapping");
                return;
        }
        if (n_items == 0) {
                error_at(l, value->mark, "'communities' must not be empty");
                return;
        }
        if (n_items > CONFIG_MAX_COMMUNITIES - l->n_communities) {
                error_at(l, mark_of(items[CONFIG_MAX_COMMUNITIES - l->n_communities]),
                         "more than %d communities in the watch list", CONFIG_MAX_COMMUNITIES);
                l->n_communities = CONFIG_MAX_COMMUNITIES;
                return;
        }
        l->n_communities += n_items;
        w->communities = calloc(n_items, sizeof(struct community_ref));
        if (!w->communities) {
                l->rep.oom = true;
                return;
        }
        for (size_t i = 0; i < n_items; i++) {
                const struct node *it = items[i];
                const char *reason = NULL;
                if (it->kind != NODE_SCALAR) {
                        error_at(l, it->mark, "expected a community reference, got %s",
                                 DESCRIBE(it));
                        continue;
                }
                struct community_ref *ref = &w->communities[w->n_communities];
                int r = strlen(it->scalar) == it->scalar_len
                                ? community_ref_parse(it->scalar, ref, &reason)
                                : (reason = "contains a NUL character", -EINVAL);
                if (r == -ENOMEM) {
                        l->rep.oom = true;
                        return;
                }
                if (r < 0) {
                        error_at(l, it->mark, "malformed community reference '%s': %s",
                                 QUOTE(it->scalar), reason);
                        continue;
                }
                ref->mark = it->mark;
                w->n_communities++;
        }
}

static void parse_watch_categories(struct loader *l, const struct setting *s,
                                   const struct node *value, void *base)
{
        struct watch_conf *w = base;
        size_t n_items;
        const struct node *const *items = node_items(&value, &n_items);

        if (value->kind == NODE_MAPPING) {
                error_at(l, value->mark, "expected a list of categories or \"all\", got a mapping");
                return;
        }
        w->all_categories = false;
        w->categories = 0;
        for (size_t i = 0; i < n_items; i++) {
                const struct node *it = items[i];
                if (it->kind != NODE_SCALAR) {
                        error_at(l, it->mark, "expected a category name, got %s", DESCRIBE(it));
                        continue;
                }
                if (streq(it->scalar, "all")) {
                        w->all_categories = true;
                        continue;
                }
                ssize_t j = name_index_find(&l->category_index, it->scalar);
                if (j >= 0)
                        w->categories |= UINT64_C(1) << j;
                else
                        error_unknown_category(l, it, (const char *const *)l->c->category_names,
                                               strv_length(l->c->category_names));
        }
}

static void error_unknown_sink(struct loader *l, const struct node *item, const char *where)
{
        const struct config *c = l->c;
        if (errors_full(l)) {
                l->rep.n_dropped++;
                return;
        }
        /* edit_distance() gives up on names over 64 bytes, and there are at most
         * CONFIG_MAX_SINKS sinks: a suggestion costs a bounded amount */
        struct suggest sg = SUGGEST_INIT(item->scalar);
        for (size_t i = 0; i < c->n_sinks; i++)
                suggest_consider(&sg, c->sinks[i].name);
        if (sg.best) {
                error_at(l, item->mark, "unknown sink '%s' in %s; did you mean '%s'?",
                         QUOTE(item->scalar), where, sg.best);
                return;
        }
        if (c->n_sinks == 0) {
                error_at(l, item->mark, "unknown sink '%s' in %s (no sinks are defined)",
                         QUOTE(item->scalar), where);
                return;
        }
        _cleanup_free_ char *defined = names_list(sink_name, c, c->n_sinks);
        if (!defined)
                l->rep.oom = true;
        error_at(l, item->mark, "unknown sink '%s' in %s (defined: %s)", QUOTE(item->scalar), where,
                 strempty(defined));
}

static void parse_watch_sinks(struct loader *l, const struct setting *s, const struct node *value,
                              void *base)
{
        struct watch_conf *w = base;
        size_t n_items;
        const struct node *const *items = node_items(&value, &n_items);
        uint64_t seen[(CONFIG_MAX_SINKS + 63) / 64] = {0};

        if (value->kind == NODE_MAPPING) {
                error_at(l, value->mark, "expected a list of sink names, got a mapping");
                return;
        }
        if (n_items == 0) {
                error_at(l, value->mark, "'sinks' must not be empty");
                return;
        }
        w->sinks = calloc(n_items, sizeof(size_t));
        if (!w->sinks) {
                l->rep.oom = true;
                return;
        }
        for (size_t i = 0; i < n_items; i++) {
                const struct node *it = items[i];
                if (it->kind != NODE_SCALAR) {
                        error_at(l, it->mark, "expected a sink name, got %s", DESCRIBE(it));
                        continue;
                }
                ssize_t idx = config_find_sink(l->c, it->scalar);
                if (idx < 0) {
                        error_unknown_sink(l, it, "watch entry");
                        continue;
                }
                /* a list naming the sinks over and over: a bit a sink, not a scan of the list */
                if (seen[idx / 64] & UINT64_C(1) << idx % 64)
                        continue;
                seen[idx / 64] |= UINT64_C(1) << idx % 64;
                w->sinks[w->n_sinks++] = (size_t)idx;
        }
}

static void parse_alerts(struct loader *l, const struct setting *s, const struct node *value,
                         void *base)
{
        struct config *c = base;
        size_t n_items;
        const struct node *const *items = node_items(&value, &n_items);

        parse_strv(l, s, value, &c->alerts);
        if (!c->alerts)
                return;
        for (size_t i = 0; i < n_items; i++)
                if (items[i]->kind == NODE_SCALAR && config_find_sink(c, items[i]->scalar) < 0)
                        error_unknown_sink(l, items[i], "alerts");
}

/* ---- sections ---------------------------------------------------------------------------- */

/* The registry's type names (sink.h), NULL-terminated, in names[size]. */
static const char *const *sink_type_names(const char **names, size_t size)
{
        size_t n = 0;
        for (const struct sink_ops *const *ops = sink_registry; *ops && n + 1 < size; ops++)
                names[n++] = (*ops)->type;
        names[n] = NULL;
        return names;
}

static bool type_has_key(const struct sink_ops *ops, const char *key)
{
        return table_find(ops->settings, ops->n_settings, key);
}

static bool type_can_silence(const struct sink_ops *ops, const char *key)
{
        (void)key;
        return ops->can_silence;
}

/* The types for which has(ops, key) holds, "email, webhook"; "" when none. */
static const char *sink_types_where(bool (*has)(const struct sink_ops *, const char *),
                                    const char *key, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (const struct sink_ops *const *ops = sink_registry; *ops; ops++) {
                if (!has(*ops, key))
                        continue;
                int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", (*ops)->type);
                if (n < 0 || (size_t)n >= size - len)
                        break;
                len += (size_t)n;
        }
        return buf;
}

/* `type:` names a type of the registry; its own keys come with it. */
static void parse_sink_type(struct loader *l, const struct setting *s, const struct node *value,
                            void *base)
{
        struct sink_conf *sink = base;
        const char *text = scalar_string(l, s, value);
        if (!text)
                return;
        const struct sink_ops *ops = sink_ops_find(text);
        if (!ops) {
                const char *buf[32], *const *names = sink_type_names(buf, ELEMENTSOF(buf));
                const char *near = closest_name(text, names);
                char list[256];
                if (near)
                        error_at(l, value->mark, "unknown sink type '%s'; did you mean '%s'?",
                                 QUOTE(text), near);
                else
                        error_at(l, value->mark, "unknown sink type '%s' (expected %s)",
                                 QUOTE(text), words_list(names, " or ", list, sizeof(list)));
                return;
        }
        char *copy = strdup(ops->type);
        if (!copy) {
                l->rep.oom = true;
                return;
        }
        free(sink->type);
        sink->type = copy;
}

static const char *const quiet_modes[] = {[QUIET_DEFER] = "defer", [QUIET_SILENT] = "silent", NULL};

/* The keys every sink has; each type's own are in its sink_ops (sinks/TYPE.c). */
#define SINK_OFF(f) offsetof(struct sink_conf, f)
static const struct setting sink_settings[] = {
        {S("type", SETTING_CUSTOM, SINK_OFF(type), NULL,
           "the kind of sink, which decides the other keys it takes"),
         .required = true, .parse = parse_sink_type},
        {S("template", SETTING_CUSTOM, 0, NULL,
           "{title, body} with {community}, {category}, {text}, {excerpt}, {url}, {date}, "
           "{starts_at}, {topic}, {watch_url}, {actions}"),
         .parse = parse_template},
        {S("max_length", SETTING_SIZE, SINK_OFF(max_length), "0",
           "cut the text at this many characters (0: the sink's own limit)")},
        {S("quiet_hours", SETTING_CUSTOM, 0, NULL, "\"HH:MM-HH:MM\": defer until the window ends"),
         .parse = parse_quiet_hours},
        {S("quiet_emergency", SETTING_BOOL, SINK_OFF(quiet_emergency), "false",
           "emergencies wait out quiet hours too")},
        {S("quiet_mode", SETTING_ENUM, SINK_OFF(quiet_mode), "defer",
           "in quiet hours: defer until they end, or deliver at once without a sound (silent: "
           "ntfy, telegram)"),
         .enum_values = quiet_modes},
        {S("concurrency", SETTING_UINT, SINK_OFF(concurrency), NULL,
           "sends in flight at once (default 4; 1 for ntfy and telegram, so that a phone shows "
           "posts in the order they were written)"),
         .min = 1, .max = 64},
        {S("timeout", SETTING_DURATION, SINK_OFF(timeout_usec), "30s", "give up on one send after"),
         .positive = true},
};

/* What a sink type's check() reports through: the loader, and the sink's mapping for marks. */
struct setting_errors {
        struct loader *l;
        const struct node *map;
};

static void setting_error_v(struct setting_errors *e, const struct node *at, const char *fmt,
                            va_list ap) _printf_(3, 0);
static void setting_error_v(struct setting_errors *e, const struct node *at, const char *fmt,
                            va_list ap)
{
        yaml_report_errorv(&e->l->rep, mark_of(at ? at : e->map), fmt, ap);
}

void setting_error_at_key(struct setting_errors *e, const char *key, const char *fmt, ...)
{
        const struct node *k = NULL;
        va_list ap;

        (void)map_get(e->map, key, &k);
        va_start(ap, fmt);
        setting_error_v(e, k, fmt, ap);
        va_end(ap);
}

void setting_error_at_value(struct setting_errors *e, const char *key, const char *fmt, ...)
{
        const struct node *v = map_get(e->map, key, NULL);
        va_list ap;

        if (v && v->kind == NODE_SEQUENCE && v->n_items > 0)
                v = v->items[0];
        va_start(ap, fmt);
        setting_error_v(e, v, fmt, ap);
        va_end(ap);
}

const char *setting_quote(const char *s, char *buf, size_t size)
{
        return yaml_quote(s, buf, size);
}

/* The keys of body that are neither every sink's nor its type's own: another type's key says
 * whose it is, any other is unknown. Without a type (ops NULL), a key of some type waits for
 * the type to be right, and a misspelt one is compared with every type's keys. */
static void check_sink_keys(struct loader *l, const struct node *body, const char *where,
                            const struct sink_ops *ops)
{
        for (size_t i = 0; i + 1 < body->n_items; i += 2) {
                const struct node *k = body->items[i];
                char types[128];

                if (k->ignored || table_find(sink_settings, ELEMENTSOF(sink_settings), k->scalar) ||
                    (ops && table_find(ops->settings, ops->n_settings, k->scalar)))
                        continue;
                if (sink_types_where(type_has_key, k->scalar, types, sizeof(types))[0]) {
                        if (ops)
                                error_at(l, k->mark,
                                         "key '%s' is not valid for sink type '%s' (only for %s)",
                                         k->scalar, ops->type, types);
                        continue;
                }
                if (errors_full(l)) {
                        l->rep.n_dropped++;
                        continue;
                }
                struct suggest sg = SUGGEST_INIT(k->scalar);
                suggest_keys(&sg, sink_settings, ELEMENTSOF(sink_settings));
                for (const struct sink_ops *const *o = sink_registry; *o; o++)
                        if (!ops || *o == ops)
                                suggest_keys(&sg, (*o)->settings, (*o)->n_settings);
                error_unknown_key(l, k, where, &sg);
        }
}

static void parse_sink(struct loader *l, const struct node *key, const struct node *body,
                       struct sink_conf *sink)
{
        char where[128];
        snprintf(where, sizeof(where), "in sink '%s'", QUOTE(key->scalar));

        /* type first, the table's first row: it says what the other keys may be */
        parse_values(l, sink_settings, ELEMENTSOF(sink_settings), body, sink, where);
        const struct sink_ops *ops = sink_ops_find(sink->type);
        if (ops && ops->settings_size > 0) {
                sink->settings = calloc(1, ops->settings_size);
                if (!sink->settings) {
                        l->rep.oom = true;
                        return;
                }
                apply_defaults(l, ops->settings, ops->n_settings, sink->settings);
                parse_values(l, ops->settings, ops->n_settings, body, sink->settings, where);
        }
        check_sink_keys(l, body, where, ops);
        struct setting_errors e = {.l = l, .map = body};
        char types[128];
        if (ops && sink->quiet_mode == QUIET_SILENT && !ops->can_silence)
                setting_error_at_value(
                        &e, "quiet_mode",
                        "sink type '%s' cannot deliver without a sound: "
                        "quiet_mode: silent is only for %s",
                        ops->type,
                        sink_types_where(type_can_silence, NULL, types, sizeof(types))[0]
                                ? types
                                : "none of this build's types");
        if (ops && ops->check)
                ops->check(sink, &e);
}

static void parse_sink_entries(struct loader *l, const struct node *value, struct config *c)
{
        size_t allocated = 0;

        if (value->kind != NODE_MAPPING) {
                error_at(l, value->mark, "expected a mapping of sink names to sinks, got %s",
                         DESCRIBE(value));
                return;
        }
        for (size_t i = 0; i + 1 < value->n_items; i += 2) {
                const struct node *k = value->items[i], *body = value->items[i + 1];
                char buf[256];
                const char *reason;

                if (k->ignored)
                        continue;
                if (k->scalar[0] == '\0' || strlen(k->scalar) != k->scalar_len ||
                    has_control(k->scalar, false)) {
                        error_at(l, k->mark, "a sink name must be a non-empty, printable string");
                        continue;
                }
                reason = check_sink_name(k->scalar, buf, sizeof(buf));
                if (reason) {
                        error_at(l, k->mark, "%s", reason);
                        continue;
                }
                if (c->n_sinks >= CONFIG_MAX_SINKS) {
                        error_at(l, k->mark, "more than %d sinks", CONFIG_MAX_SINKS);
                        return;
                }
                if (body->kind != NODE_MAPPING) {
                        if (body->kind == NODE_SCALAR)
                                error_at(l, body->mark,
                                         "expected the settings of sink '%s' (a mapping with "
                                         "type: ...), got '%s'",
                                         QUOTE(k->scalar), QUOTE(body->scalar));
                        else
                                error_at(l, body->mark,
                                         "expected the settings of sink '%s' (a mapping with "
                                         "type: ...), got %s",
                                         QUOTE(k->scalar), DESCRIBE(body));
                        continue;
                }
                if (!greedy_realloc((void **)&c->sinks, &allocated, c->n_sinks + 1,
                                    sizeof(struct sink_conf))) {
                        l->rep.oom = true;
                        return;
                }
                struct sink_conf *sink = &c->sinks[c->n_sinks++];
                *sink = (struct sink_conf){
                        .mark = k->mark,
                        .quiet_start_min = -1,
                        .quiet_end_min = -1,
                        .name = strdup(k->scalar),
                };
                if (!sink->name) {
                        l->rep.oom = true;
                        return;
                }
                apply_defaults(l, sink_settings, ELEMENTSOF(sink_settings), sink);
                parse_sink(l, k, body, sink);
        }
}

static void parse_sinks(struct loader *l, const struct setting *s, const struct node *value,
                        void *base)
{
        struct config *c = base;
        parse_sink_entries(l, value, c);
        /* watch entries and alerts name sinks many thousand times: by binary search */
        if (name_index_build(&c->sink_index, sink_name, c, c->n_sinks) < 0)
                l->rep.oom = true;
}

#define WATCH_OFF(f) offsetof(struct watch_conf, f)
static const struct setting watch_settings[] = {
        {S("topic", SETTING_STRING, WATCH_OFF(topic), NULL, "what this entry is about"),
         .required = true},
        {S("communities", SETTING_CUSTOM, 0, NULL,
           "vk.com addresses, screen names, club123/public123/event123, -123, user ids"),
         .required = true, .parse = parse_communities},
        {S("categories", SETTING_CUSTOM, 0, NULL, "category names, or \"all\" (the default)"),
         .parse = parse_watch_categories},
        {S("uncategorized", SETTING_BOOL, WATCH_OFF(uncategorized), "false",
           "also send posts that fit no category")},
        {S("sinks", SETTING_CUSTOM, 0, NULL, "where to send"), .required = true,
         .parse = parse_watch_sinks},
        {S("priority", SETTING_INT, WATCH_OFF(priority), "1",
           "scheduler weight: polled about √priority times as often, and waiting at most "
           "1/√priority "
           "as long"),
         .min = 1, .max = 10},
        {S("max_interval", SETTING_DURATION, WATCH_OFF(max_interval_usec), NULL,
           "poll these communities at least this often, in place of the scheduler's bound (see "
           "govwatchd(8))"),
         .positive = true},
        {S("backfill", SETTING_UINT, WATCH_OFF(backfill), "0",
           "on first sight, notify the newest N posts"),
         .max = 100},
};

static void parse_watch(struct loader *l, const struct setting *s, const struct node *value,
                        void *base)
{
        struct config *c = base;

        if (value->kind != NODE_SEQUENCE) {
                error_at(l, value->mark,
                         "expected a list of watch entries (\"- topic: ...\"), got %s",
                         DESCRIBE(value));
                return;
        }
        if (value->n_items > CONFIG_MAX_WATCH) {
                error_at(l, value->items[CONFIG_MAX_WATCH]->mark, "more than %d watch entries",
                         CONFIG_MAX_WATCH);
                return;
        }
        /* the categories are known by now (the classifier section comes first) */
        if (name_index_build(&l->category_index, strv_name, c->category_names,
                             strv_length(c->category_names)) < 0) {
                l->rep.oom = true;
                return;
        }
        c->watch = calloc(value->n_items ? value->n_items : 1, sizeof(struct watch_conf));
        if (!c->watch) {
                l->rep.oom = true;
                return;
        }
        for (size_t i = 0; i < value->n_items; i++) {
                const struct node *entry = value->items[i];
                if (entry->kind != NODE_MAPPING) {
                        error_at(l, entry->mark,
                                 "expected a watch entry (a mapping with topic, communities and "
                                 "sinks), got %s",
                                 DESCRIBE(entry));
                        continue;
                }
                struct watch_conf *w = &c->watch[c->n_watch++];
                *w = (struct watch_conf){.mark = entry->mark, .all_categories = true};
                apply_defaults(l, watch_settings, ELEMENTSOF(watch_settings), w);
                parse_table(l, watch_settings, ELEMENTSOF(watch_settings), entry, w,
                            "in watch entry");

                const struct node *cats = map_get(entry, "categories", NULL);
                if (cats && !node_is_null(cats) && !w->all_categories && w->categories == 0 &&
                    !w->uncategorized && cats->kind == NODE_SEQUENCE && cats->n_items == 0)
                        error_at(l, cats->mark,
                                 "this watch entry selects no posts: 'categories' is empty and "
                                 "'uncategorized' is false");
        }
}

#define UCAT_OFF(f) offsetof(struct classify_user_category, f)
static const struct setting user_category_settings[] = {
        {S("phrases", SETTING_STRV, UCAT_OFF(phrases), NULL, "words and phrases, stemmed")},
        {S("regex", SETTING_STRV, UCAT_OFF(regexes), NULL, "PCRE2 patterns, caseless"),
         .check = check_regex},
        {S("exclude", SETTING_STRV, UCAT_OFF(exclude), NULL, "phrases that veto the category")},
};

/* Counts body's phrases, regexes and exclusions against the classifier's caps, before any is
 * compiled: past a cap, none is. Returns false when this category is past one. */
static bool user_category_fits(struct loader *l, const struct node *body)
{
        size_t n_items = 0, n_regexes = 0;

        for (size_t j = 0; j < ELEMENTSOF(user_category_settings); j++) {
                const struct node *v = map_get(body, user_category_settings[j].key, NULL);
                size_t n = 0;
                if (!node_is_null(v))
                        (void)node_items(&v, &n);
                n_items += n;
                if (user_category_settings[j].check == check_regex)
                        n_regexes += n;
        }
        bool over = l->n_classifier_items + n_items > CONFIG_MAX_CLASSIFIER_ITEMS ||
                    l->n_regexes + n_regexes > CONFIG_MAX_REGEXES;
        if (l->n_classifier_items <= CONFIG_MAX_CLASSIFIER_ITEMS &&
            l->n_classifier_items + n_items > CONFIG_MAX_CLASSIFIER_ITEMS)
                error_at(l, body->mark,
                         "more than %d phrases, regexes and exclusions in the classifier's "
                         "categories",
                         CONFIG_MAX_CLASSIFIER_ITEMS);
        if (l->n_regexes <= CONFIG_MAX_REGEXES && l->n_regexes + n_regexes > CONFIG_MAX_REGEXES)
                error_at(l, body->mark, "more than %d regexes in the classifier's categories",
                         CONFIG_MAX_REGEXES);
        l->n_classifier_items += n_items;
        l->n_regexes += n_regexes;
        return !over;
}

/* u names a category the rules do not have: it joins the config's category names. */
static void user_category_add_name(struct loader *l, const struct classify_user_category *u,
                                   const struct node *k, const struct node *body, bool fits)
{
        struct config *c = l->c;
        size_t n_names = strv_length(c->category_names);

        for (size_t j = 0; j < n_names; j++)
                if (streq(c->category_names[j], u->name))
                        return;
        if (fits && strv_length(u->phrases) == 0 && strv_length(u->regexes) == 0) {
                error_at(l, body->mark,
                         "new category '%s' needs phrases or regex to match anything", u->name);
                return;
        }
        if (n_names >= CATEGORY_MAX) {
                error_at(l, k->mark, "more than %d categories", CATEGORY_MAX);
                return;
        }
        char **grown = realloc(c->category_names, (n_names + 2) * sizeof(char *));
        if (!grown) {
                l->rep.oom = true;
                return;
        }
        c->category_names = grown;
        c->category_names[n_names] = strdup(u->name);
        c->category_names[n_names + 1] = NULL;
        if (!c->category_names[n_names])
                l->rep.oom = true;
}

/* One entry of classifier.categories: k, its name, and body, its phrases, regex and exclude. */
static void parse_user_category(struct loader *l, const struct node *k, const struct node *body)
{
        struct config *c = l->c;
        char buf[256], where[128];
        const char *reason = check_category_name(k->scalar, buf, sizeof(buf));

        if (reason) {
                error_at(l, k->mark, "%s", reason);
                return;
        }
        if (body->kind != NODE_MAPPING) {
                error_at(l, body->mark,
                         "expected phrases, regex or exclude for category '%s', got %s",
                         QUOTE(k->scalar), DESCRIBE(body));
                return;
        }
        struct classify_user_category *u = &c->classifier.user[c->classifier.n_user++];
        u->name = strdup(k->scalar);
        if (!u->name) {
                l->rep.oom = true;
                return;
        }
        bool fits = user_category_fits(l, body);
        if (fits) {
                snprintf(where, sizeof(where), "in category '%s'", QUOTE(k->scalar));
                parse_table(l, user_category_settings, ELEMENTSOF(user_category_settings), body, u,
                            where);
        }
        user_category_add_name(l, u, k, body, fits);
}

static void parse_user_categories(struct loader *l, const struct setting *s,
                                  const struct node *value, void *base)
{
        struct config *c = l->c;

        if (value->kind != NODE_MAPPING) {
                error_at(l, value->mark,
                         "expected a mapping of category names to phrases, regex and exclude, "
                         "got %s",
                         DESCRIBE(value));
                return;
        }
        c->classifier.user = calloc(value->n_items / 2 + 1, sizeof(struct classify_user_category));
        if (!c->classifier.user) {
                l->rep.oom = true;
                return;
        }
        for (size_t i = 0; i + 1 < value->n_items && !l->rep.oom; i += 2)
                if (!value->items[i]->ignored)
                        parse_user_category(l, value->items[i], value->items[i + 1]);
}

#define CONF_OFF(f) offsetof(struct config, f)
static const struct setting vk_settings[] = {
        {S("api_url", SETTING_STRING, CONF_OFF(vk.api_url), "https://api.vk.com/method",
           "VK API endpoint (tests point it at the emulator)"),
         .check = check_http_url},
        {S("token_file", SETTING_PATH, CONF_OFF(vk.token_file), NULL,
           "file with the token (else $GOVWATCH_VK_TOKEN, else $CREDENTIALS_DIRECTORY/vk-token)")},
        {S("version", SETTING_STRING, CONF_OFF(vk.version), "5.199", "VK API version"),
         .check = check_version},
        {S("requests_per_second", SETTING_DOUBLE, CONF_OFF(vk.requests_per_second), "3",
           "VK requests in any one second (a sliding window): 2.5 acts as 2; below 1, one "
           "request every 1/N s (0.5: one every 2 s); above 100 acts as 100"),
         .positive = true},
        {S("daily_wall_get", SETTING_UINT, CONF_OFF(vk.daily_wall_get), "5000",
           "wall.get calls a day, execute's inner calls included"),
         .min = 1},
        {S("timeout", SETTING_DURATION, CONF_OFF(vk.timeout_usec), "30s", "one API request"),
         .positive = true},
        {S("wall_count", SETTING_UINT, CONF_OFF(vk.wall_count), "20", "posts per wall.get"),
         .min = 1, .max = 100},
};

static const struct setting alert_after_settings[] = {
        {S("community", SETTING_UINT, CONF_OFF(alert_after.community), "3",
           "failed polls of one community in a row (a refused token alerts at once)"),
         .min = 1},
        {S("sink", SETTING_UINT, CONF_OFF(alert_after.sink), "5",
           "failed sends of one sink in a row"),
         .min = 1},
};

static const struct setting classifier_settings[] = {
        {S("rules", SETTING_PATH, CONF_OFF(classifier.rules_file), NULL,
           "rules file (default: the installed rules)")},
        {S("categories", SETTING_CUSTOM, 0, NULL,
           "{NAME: {phrases, regex, exclude}}: adds to a built-in category or defines a new one"),
         .parse = parse_user_categories},
        {S("examples", SETTING_STRV, CONF_OFF(classifier.examples), NULL,
           "labelled posts of your own (JSON lines, the corpus format) the model also learns "
           "from")},
};

static const struct setting config_settings[] = {
        {S("vk", SETTING_SECTION, 0, NULL, "VK API access"), .sub = vk_settings,
         .n_sub = ELEMENTSOF(vk_settings)},
        {S("state_dir", SETTING_PATH, CONF_OFF(state_dir), "/var/lib/govwatch",
           "the store (default: $STATE_DIRECTORY under systemd)")},
        {S("poll_interval", SETTING_DURATION, CONF_OFF(poll_interval_usec), "5m",
           "the longest sleep between sweeps (the scheduler says when a community is due); also "
           "the wait before retrying a sweep that failed to start or resolving the watch list "
           "again"),
         .positive = true},
        {S("min_interval", SETTING_DURATION, CONF_OFF(min_interval_usec), "2m",
           "poll one community at most this often"),
         .positive = true},
        {S("max_interval", SETTING_DURATION, CONF_OFF(max_interval_usec), "6h",
           "poll one community at least this often"),
         .positive = true},
        {S("timezone", SETTING_STRING, CONF_OFF(timezone), "Europe/Moscow",
           "for times written in posts"),
         .check = check_timezone},
        {S("skip_ads", SETTING_BOOL, CONF_OFF(skip_ads), "true", "skip posts marked as ads")},
        {S("skip_donut", SETTING_BOOL, CONF_OFF(skip_donut), "true", "skip donut-only posts")},
        {S("resend_on_category_change", SETTING_BOOL, CONF_OFF(resend_on_category_change), "false",
           "send an edited post again when its categories change")},
        {S("remind_before", SETTING_DURATION, CONF_OFF(remind_before_usec), "15m",
           "remind this long before a planned broadcast (0: no reminder)")},
        {S("expire", SETTING_DURATION, CONF_OFF(outbox_expire_usec), "4d",
           "undelivered notifications become dead letters after"),
         .positive = true},
        {S("history", SETTING_DURATION, CONF_OFF(history_keep_usec), "30d",
           "keep delivery history for"),
         .positive = true},
        {S("metrics_file", SETTING_PATH, CONF_OFF(metrics_file), NULL,
           "a node_exporter textfile (Prometheus text format) the daemon rewrites after each sweep "
           "and delivery round; name it NAME.prom in the collector's directory (docs/metrics.md)")},
        {S("classifier", SETTING_SECTION, 0, NULL, "rules and user categories"),
         .sub = classifier_settings, .n_sub = ELEMENTSOF(classifier_settings)},
        {S("sinks", SETTING_CUSTOM, 0, NULL, "{NAME: {type: ..., ...}}"), .parse = parse_sinks},
        {S("alerts", SETTING_CUSTOM, CONF_OFF(alerts), NULL,
           "sinks told about the daemon's own failures"),
         .parse = parse_alerts},
        {S("alert_after", SETTING_SECTION, 0, NULL, "failures in a row before an alert"),
         .sub = alert_after_settings, .n_sub = ELEMENTSOF(alert_after_settings)},
        {S("watch", SETTING_CUSTOM, 0, NULL, "list of {topic, communities, sinks, ...}"),
         .parse = parse_watch},
};

/* only_for: the sink type whose own table this is; NULL for none. */
static void settings_print(FILE *f, const struct setting *table, size_t n, const char *prefix,
                           const char *only_for)
{
        char buf[160];
        for (size_t i = 0; i < n; i++) {
                const struct setting *s = &table[i];
                if (s->type == SETTING_SECTION) {
                        char sub[64];
                        snprintf(sub, sizeof(sub), "%s%s.", prefix, s->key);
                        settings_print(f, s->sub, s->n_sub, sub, NULL);
                        continue;
                }
                fprintf(f, "%s%s", prefix, s->key);
                if (only_for)
                        fprintf(f, " [%s]", only_for);
                if (s->default_value)
                        fprintf(f, " (default: %s)", s->default_value);
                if (s->required)
                        fputs(" (required)", f);
                fprintf(f, "\n    %s", s->description);
                if (s->type == SETTING_ENUM)
                        fprintf(f, "; %s", type_expectation(s, buf, sizeof(buf)));
                fputc('\n', f);
        }
}

void config_settings_print(FILE *f)
{
        settings_print(f, config_settings, ELEMENTSOF(config_settings), "", NULL);
        settings_print(f, sink_settings, ELEMENTSOF(sink_settings), "sinks.NAME.", NULL);
        for (const struct sink_ops *const *ops = sink_registry; *ops; ops++)
                settings_print(f, (*ops)->settings, (*ops)->n_settings, "sinks.NAME.",
                               (*ops)->type);
        settings_print(f, watch_settings, ELEMENTSOF(watch_settings), "watch[].", NULL);
        settings_print(f, user_category_settings, ELEMENTSOF(user_category_settings),
                       "classifier.categories.NAME.", NULL);
}

/* ---- whole-file checks ------------------------------------------------------------------- */

static bool env_set(const char *name)
{
        const char *v = getenv(name);
        return v && *v;
}

static int credentials_token_path(char **ret)
{
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        if (!dir || !*dir)
                return -ENOENT;
        return asprintf(ret, "%s/vk-token", dir) < 0 ? -ENOMEM : 0;
}

static int check_readable_file(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
        close(fd);
        return r;
}

static void check_token_source(struct loader *l, const struct node *root)
{
        const struct node *vk = map_get(root, "vk", NULL);
        struct config *c = l->c;

        if (!c->vk.token_file && !node_is_null(map_get(vk, "token_file", NULL)))
                return; /* token_file is there but wrong: already reported */
        if (c->vk.token_file) {
                const struct node *v = map_get(vk, "token_file", NULL);
                int r = check_readable_file(c->vk.token_file);
                if (r < 0)
                        error_at(l, mark_of(v), "cannot read token_file '%s': %s",
                                 QUOTE(v ? v->scalar : c->vk.token_file), strerror(-r));
                return;
        }
        /* Neither token_file nor $GOVWATCH_VK_TOKEN: the token is the service's credential,
         * which only the service sees. That is no fault of the file; `run` and `once` say so
         * when they find no token, and check-config notes it. */
}

static bool duration_node_ok(const struct node *n)
{
        uint64_t u;
        return node_is_null(n) ||
               (n->kind == NODE_SCALAR && parse_duration_usec(n->scalar, &u) >= 0);
}

/* An example file is read as the classifier will read it at start: a bad line is reported here,
 * as FILE:LINE inside the message, not when the daemon starts. */
static void check_examples(struct loader *l, const struct node *root)
{
        struct config *c = l->c;
        const struct node *v = map_get(map_get(root, "classifier", NULL), "examples", NULL);
        if (!c->classifier.examples || !v)
                return;
        for (size_t i = 0; c->classifier.examples[i]; i++) {
                const struct node *it =
                        v->kind == NODE_SEQUENCE && i < v->n_items ? v->items[i] : v;
                char *path = resolve_path(l, c->classifier.examples[i]);
                if (!path) {
                        l->rep.oom = true;
                        return;
                }
                free(c->classifier.examples[i]);
                c->classifier.examples[i] = path;

                struct corpus corpus = {0};
                _cleanup_free_ char *error = NULL;
                int r = corpus_read(&corpus, path, c->category_names,
                                    strv_length(c->category_names), false, &error);
                if (r == -ENOMEM)
                        l->rep.oom = true;
                else if (r < 0) {
                        /* name the file as the config does, not by the path it resolved to */
                        const char *msg = error ? error : strerror(-r);
                        size_t len = strlen(path);
                        bool prefixed = error && strncmp(error, path, len) == 0;
                        error_at(l, it->mark, "classifier.examples: %s%s",
                                 prefixed ? it->scalar : "", prefixed ? msg + len : msg);
                } else if (corpus.n == 0)
                        error_at(l, it->mark, "classifier.examples: %s has no examples", path);
                corpus_done(&corpus);
        }
}

/* The rules file is loaded and the admin's phrases compiled as the classifier will do at start
 * and reload (govwatch_prepare() builds the classifier itself too, so nothing that fails there
 * passes here): problems are reported where they are written, all of them at once. */
static void check_classifier(struct loader *l, const struct node *root)
{
        struct config *c = l->c;
        const struct node *section = map_get(root, "classifier", NULL);
        const struct node *rules = map_get(section, "rules", NULL);
        _cleanup_free_ char *default_path = NULL, *error = NULL;
        const char *path = c->classifier.rules_file;
        struct ruleset *rs = NULL;
        int r;

        if (!path && !node_is_null(rules))
                return; /* there but wrong: reported already */
        if (l->n_classifier_items > CONFIG_MAX_CLASSIFIER_ITEMS ||
            l->n_regexes > CONFIG_MAX_REGEXES)
                return; /* refused already: compiling them all is the work the caps bound */
        if (!path && classifier_default_rules_path(&default_path) < 0)
                return; /* the classifier says so when it is built */
        if (ruleset_new(&rs) < 0) {
                l->rep.oom = true;
                return;
        }
        r = ruleset_load_file(rs, path ? path : default_path, &error);
        if (r == -ENOMEM)
                l->rep.oom = true;
        else if (r < 0 && path) {
                /* name the file as the config does, not by the path it resolved to */
                const char *msg = error ? error : strerror(-r);
                size_t len = strlen(path);
                bool prefixed = error && strncmp(error, path, len) == 0;
                error_at(l, mark_of(rules), "classifier.rules: %s%s", prefixed ? rules->scalar : "",
                         prefixed ? msg + len : msg);
        } else if (r < 0)
                error_at(l, mark_of(section), "the installed rules do not load: %s",
                         error ? error : strerror(-r));
        if (r < 0) {
                ruleset_free(rs);
                return; /* without its word classes the phrases cannot be judged */
        }

        const struct node *cats = map_get(section, "categories", NULL);
        for (size_t i = 0; cats && cats->kind == NODE_MAPPING && i + 1 < cats->n_items; i += 2) {
                const struct node *body = cats->items[i + 1];
                if (cats->items[i]->ignored || body->kind != NODE_MAPPING)
                        continue;
                static const char *const keys[] = {"phrases", "exclude"};
                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        const struct node *v = map_get(body, keys[k], NULL);
                        size_t n = 0;
                        const struct node *const *items =
                                node_is_null(v) ? NULL : node_items(&v, &n);
                        for (size_t j = 0; j < n && !errors_full(l); j++) {
                                const struct node *it = items[j];
                                /* what is not a string is reported by the parser */
                                if (it->kind != NODE_SCALAR || node_is_null(it) ||
                                    strlen(it->scalar) != it->scalar_len ||
                                    has_control(it->scalar, false) || !it->scalar[0])
                                        continue;
                                free(error);
                                error = NULL;
                                r = ruleset_add_phrase(rs, 0, it->scalar, 1.0, k == 1, k == 0,
                                                       k == 0 ? "phrase" : "exclude", &error);
                                if (r == -ENOMEM)
                                        l->rep.oom = true;
                                else if (r < 0)
                                        error_at(l, it->mark, "%s", error ? error : strerror(-r));
                        }
                }
        }
        ruleset_free(rs);
}

static void check_intervals(struct loader *l, const struct node *root)
{
        struct config *c = l->c;
        const struct node *min = map_get(root, "min_interval", NULL);
        const struct node *max = map_get(root, "max_interval", NULL);
        /* a value that did not parse is reported already; comparing its default would mislead */
        if (c->min_interval_usec <= c->max_interval_usec || !duration_node_ok(min) ||
            !duration_node_ok(max))
                return;
        const struct node *at = min ? min : max;
        error_at(l, mark_of(at), "min_interval (%s) is longer than max_interval (%s)",
                 min && min->kind == NODE_SCALAR ? QUOTE(min->scalar) : "2m",
                 max && max->kind == NODE_SCALAR ? QUOTE(max->scalar) : "6h");
}

/* A watch entry's own max_interval cannot be shorter than min_interval. */
static void check_watch_intervals(struct loader *l, const struct node *root)
{
        struct config *c = l->c;
        const struct node *watch = map_get(root, "watch", NULL);
        const struct node *min = map_get(root, "min_interval", NULL);
        if (!watch || watch->kind != NODE_SEQUENCE || !duration_node_ok(min))
                return;
        for (size_t i = 0, k = 0; i < watch->n_items && k < c->n_watch; i++) {
                const struct node *entry = watch->items[i];
                if (entry->kind != NODE_MAPPING)
                        continue;
                const struct watch_conf *w = &c->watch[k++];
                const struct node *max = map_get(entry, "max_interval", NULL);
                if (w->max_interval_usec == 0 || w->max_interval_usec >= c->min_interval_usec ||
                    !max || max->kind != NODE_SCALAR)
                        continue;
                error_at(l, max->mark,
                         "this watch entry's max_interval (%s) is shorter than min_interval (%s)",
                         QUOTE(max->scalar),
                         min && min->kind == NODE_SCALAR ? QUOTE(min->scalar) : "2m");
        }
}

static void apply_state_directory(struct loader *l, const struct node *root)
{
        const char *env = getenv("STATE_DIRECTORY");
        if (!node_is_null(map_get(root, "state_dir", NULL)) || !env || !*env)
                return;
        /* systemd lists one path per StateDirectory=, separated by ':'; ours is the first */
        char *dir = strndup(env, strcspn(env, ":"));
        if (!dir) {
                l->rep.oom = true;
                return;
        }
        free(l->c->state_dir);
        l->c->state_dir = dir;
}

/* ---- entry points ------------------------------------------------------------------------ */

static int init_category_names(struct config *c)
{
        c->category_names = calloc(_CATEGORY_BUILTIN_MAX + 1, sizeof(char *));
        if (!c->category_names)
                return -ENOMEM;
        for (size_t i = 0; i < _CATEGORY_BUILTIN_MAX; i++) {
                c->category_names[i] = strdup(category_builtin_names[i]);
                if (!c->category_names[i])
                        return -ENOMEM;
        }
        return 0;
}

static char *config_dir(const char *path)
{
        const char *slash = strrchr(path, '/');
        if (!slash)
                return NULL;
        _cleanup_free_ char *dir =
                slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        if (!dir)
                return NULL;
        /* absolute, so the paths stay right whatever the daemon's working directory becomes */
        char *real = realpath(dir, NULL);
        return real ? real : TAKE_PTR(dir);
}

int config_load_string(const char *path, const char *data, size_t size, struct config **ret,
                       struct config_errors *errors)
{
        struct loader l = {.path = path, .rep.errors = errors};
        _cleanup_config_free_ struct config *c = NULL;
        _cleanup_(node_freep) struct node *root = NULL;
        int r;

        if (size > YAML_TREE_MAX_SIZE) {
                error_at(&l, (struct conf_mark){0, 0},
                         "configuration is larger than %d KiB, refusing it",
                         YAML_TREE_MAX_SIZE / 1024);
                return -EFBIG;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->path = strdup(path);
        l.c = c;
        l.dir = config_dir(path);
        if (!c->path || init_category_names(c) < 0) {
                free(l.dir);
                return -ENOMEM;
        }

        /* the tree's errors go to the same list, and count towards the same cap */
        r = yaml_tree_build(&l.rep, data, size, "the configuration", &root);
        if (r >= 0 && !root) {
                error_at(&l, (struct conf_mark){1, 1}, "configuration is empty");
                r = -EINVAL;
        } else if (r >= 0 && node_is_null(root)) {
                error_at(&l, root->mark, "configuration is empty");
                r = -EINVAL;
        } else if (r >= 0 && root->kind != NODE_MAPPING) {
                error_at(&l, root->mark, "the top level must be a mapping of settings, got %s",
                         DESCRIBE(root));
                r = -EINVAL;
        }

        if (r >= 0) {
                apply_defaults(&l, config_settings, ELEMENTSOF(config_settings), c);
                parse_table(&l, config_settings, ELEMENTSOF(config_settings), root, c,
                            "at the top level");
                apply_state_directory(&l, root);
                check_intervals(&l, root);
                check_watch_intervals(&l, root);
                check_classifier(&l, root);
                check_examples(&l, root);
                check_token_source(&l, root);
        }
        free(l.dir);
        name_index_done(&l.category_index);

        int k = yaml_report_finish(&l.rep);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return r < 0 ? r : k;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, struct config **ret, struct config_errors *errors)
{
        _cleanup_free_ char *data = NULL;
        size_t size;
        struct loader l = {.path = path, .rep.errors = errors};

        int r = read_full_file(path, YAML_TREE_MAX_SIZE, false, &data, &size);
        if (r == -EFBIG) {
                error_at(&l, (struct conf_mark){0, 0},
                         "configuration is larger than %d KiB, refusing it",
                         YAML_TREE_MAX_SIZE / 1024);
                return r;
        }
        if (r < 0) {
                error_at(&l, (struct conf_mark){0, 0}, "cannot read configuration: %s",
                         strerror(-r));
                return r;
        }
        return config_load_string(path, data, size, ret, errors);
}

/* Frees what parsing into base by table allocated: strings, lists, category maps. */
static void settings_done(const struct setting *table, size_t n_table, void *base)
{
        for (size_t i = 0; i < n_table; i++) {
                const struct setting *s = &table[i];
                void *p = field(base, s);
                switch (s->type) {
                case SETTING_STRING:
                case SETTING_PATH:
                        free(*(char **)p);
                        break;
                case SETTING_STRV:
                        strv_free(*(char ***)p);
                        break;
                case SETTING_CATEGORY_MAP:
                        for (size_t j = 0; j < _CATEGORY_BUILTIN_MAX; j++)
                                free(((char **)p)[j]);
                        break;
                case SETTING_SECTION:
                        settings_done(s->sub, s->n_sub, base);
                        break;
                default:
                        break;
                }
        }
}

struct config *config_free(struct config *c)
{
        if (!c)
                return NULL;
        free(c->path);
        free(c->vk.api_url);
        free(c->vk.token_file);
        free(c->vk.version);
        free(c->state_dir);
        free(c->metrics_file);
        free(c->timezone);
        strv_free(c->alerts);
        free(c->classifier.rules_file);
        strv_free(c->classifier.examples);
        for (size_t i = 0; i < c->classifier.n_user; i++) {
                struct classify_user_category *u = &c->classifier.user[i];
                free(u->name);
                strv_free(u->phrases);
                strv_free(u->regexes);
                strv_free(u->exclude);
        }
        free(c->classifier.user);
        for (size_t i = 0; i < c->n_sinks; i++) {
                struct sink_conf *s = &c->sinks[i];
                /* the type's own settings are laid out by its table: find it by the type first */
                const struct sink_ops *ops = sink_ops_find(s->type);
                if (ops && s->settings)
                        settings_done(ops->settings, ops->n_settings, s->settings);
                free(s->settings);
                free(s->name);
                free(s->type);
                free(s->template_title);
                free(s->template_body);
                free(s->quiet_hours);
        }
        free(c->sinks);
        for (size_t i = 0; i < c->n_watch; i++) {
                struct watch_conf *w = &c->watch[i];
                free(w->topic);
                for (size_t j = 0; j < w->n_communities; j++)
                        community_ref_done(&w->communities[j]);
                free(w->communities);
                free(w->sinks);
        }
        free(c->watch);
        strv_free(c->category_names);
        name_index_done(&c->sink_index);
        free(c);
        return NULL;
}

ssize_t config_find_sink(const struct config *c, const char *name)
{
        if (c && name && c->sink_index.n == c->n_sinks && c->n_sinks > 0)
                return name_index_find(&c->sink_index, name);
        for (size_t i = 0; c && name && i < c->n_sinks; i++)
                if (streq(c->sinks[i].name, name))
                        return (ssize_t)i;
        return -1;
}

int config_read_token(const struct config *c, char **ret)
{
        _cleanup_free_ char *token = NULL, *cred = NULL;
        int r;

        if (c && c->vk.token_file) {
                r = read_full_file(c->vk.token_file, TOKEN_MAX_SIZE, true, &token, NULL);
                if (r < 0)
                        return r;
        } else if (env_set("GOVWATCH_VK_TOKEN")) {
                token = strdup(getenv("GOVWATCH_VK_TOKEN"));
                if (!token)
                        return -ENOMEM;
                size_t n = strlen(token);
                while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r'))
                        token[--n] = '\0';
        } else {
                r = credentials_token_path(&cred);
                if (r == -ENOENT)
                        return -ENOKEY;
                if (r < 0)
                        return r;
                r = read_full_file(cred, TOKEN_MAX_SIZE, true, &token, NULL);
                if (r == -ENOENT)
                        return -ENOKEY;
                if (r < 0)
                        return r;
        }

        if (token[0] == '\0')
                return -ENODATA;
        /* The token goes into an HTTP header: anything but visible ASCII could forge another. */
        for (const char *p = token; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7F)
                        return -EBADMSG;
        *ret = TAKE_PTR(token);
        return 0;
}

/* ---- the key reference: every key the loader accepts, for the man page ------------------- */

static const char *key_type_name(const struct setting *s)
{
        switch (s->type) {
        case SETTING_STRING:
                return "string";
        case SETTING_PATH:
                return "path";
        case SETTING_BOOL:
                return "boolean";
        case SETTING_UINT:
        case SETTING_INT:
        case SETTING_SIZE:
                return "whole number";
        case SETTING_DOUBLE:
                return "number";
        case SETTING_DURATION:
                return "duration";
        case SETTING_STRV:
                return "list of strings";
        case SETTING_ENUM:
                return "one word";
        case SETTING_CATEGORY_MAP:
        case SETTING_SECTION:
        case SETTING_CUSTOM:
                break;
        }
        return NULL;
}

/* The tables behind the keys whose parser is their own (a mapping of names, a list). */
static bool key_nested_table(const struct setting *s, enum config_key_kind *ret_kind,
                             const char **ret_infix, const struct setting **ret_table,
                             size_t *ret_n)
{
        if (s->type == SETTING_SECTION) {
                *ret_kind = CONFIG_KEY_SECTION;
                *ret_infix = ".";
                *ret_table = s->sub;
                *ret_n = s->n_sub;
        } else if (s->parse == parse_sinks) {
                *ret_kind = CONFIG_KEY_MAP;
                *ret_infix = ".NAME.";
                *ret_table = sink_settings;
                *ret_n = ELEMENTSOF(sink_settings);
        } else if (s->parse == parse_user_categories) {
                *ret_kind = CONFIG_KEY_MAP;
                *ret_infix = ".NAME.";
                *ret_table = user_category_settings;
                *ret_n = ELEMENTSOF(user_category_settings);
        } else if (s->parse == parse_watch) {
                *ret_kind = CONFIG_KEY_LIST;
                *ret_infix = "[].";
                *ret_table = watch_settings;
                *ret_n = ELEMENTSOF(watch_settings);
        } else
                return false;
        return true;
}

/* sink_type: the sink type whose own table this is; NULL for any other table. */
static int keys_walk(const struct setting *table, size_t n, const char *prefix,
                     const char *sink_type, config_key_fn fn, void *userdata)
{
        for (size_t i = 0; i < n; i++) {
                const struct setting *s = &table[i];
                const char *type_names[32];
                char path[160];
                const struct setting *sub = NULL;
                const char *infix = NULL;
                size_t n_sub = 0;
                int r;

                r = snprintf(path, sizeof(path), "%s%s", prefix, s->key);
                if (r < 0 || (size_t)r >= sizeof(path))
                        return -ENAMETOOLONG;
                struct config_key key = {
                        .path = path,
                        .kind = CONFIG_KEY_VALUE,
                        .type = key_type_name(s),
                        .default_value = s->default_value,
                        .description = s->description,
                        .values = s->type == SETTING_ENUM ? s->enum_values : NULL,
                        .only_for = sink_type,
                        .required_for = !s->required ? NULL
                                        : sink_type  ? sink_type
                                                     : "",
                        .positive = s->positive,
                        .min = s->min,
                        .max = s->max,
                };
                if (s->parse == parse_sink_type) {
                        key.type = "one word";
                        key.values = sink_type_names(type_names, ELEMENTSOF(type_names));
                }
                bool nested = key_nested_table(s, &key.kind, &infix, &sub, &n_sub);
                r = fn(&key, userdata);
                if (r < 0)
                        return r;
                if (!nested)
                        continue;
                r = snprintf(path, sizeof(path), "%s%s%s", prefix, s->key, infix);
                if (r < 0 || (size_t)r >= sizeof(path))
                        return -ENAMETOOLONG;
                r = keys_walk(sub, n_sub, path, NULL, fn, userdata);
                /* then each sink type's own keys, from the registry */
                for (const struct sink_ops *const *ops = sink_registry;
                     r >= 0 && sub == sink_settings && *ops; ops++)
                        r = keys_walk((*ops)->settings, (*ops)->n_settings, path, (*ops)->type, fn,
                                      userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_keys_foreach(config_key_fn fn, void *userdata)
{
        return keys_walk(config_settings, ELEMENTSOF(config_settings), "", NULL, fn, userdata);
}
