/* classify.c — Russian post classifier: post -> categories (+ planned start of a broadcast).
 *
 * Reads a post the way a resident does: its own text, the reposted post (copy_history[0]) and the
 * titles of attachments, normalised and stemmed (normalize.c). Rules are data (rules.c,
 * data/rules.yaml): every rule that matches adds its weight to its category once; a category is
 * assigned when its score reaches its threshold and no veto matched. Live posts get a start time
 * from the video's live_start_time or the text (timeparse.c).
 * Pure after classifier_new(): no I/O, no logging; scratch buffers are reused between posts, so a
 * classifier must not be shared between threads.
 */
#define _GNU_SOURCE           1 /* vasprintf */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <inttypes.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "classify.h"
#include "notification.h"
#include "rules.h"
#include "timeparse.h"

const char *const category_builtin_names[_CATEGORY_BUILTIN_MAX] = {
        [CATEGORY_LIVE] = "live",           [CATEGORY_SERVICE] = "service",
        [CATEGORY_SCHEDULE] = "schedule",   [CATEGORY_OUTAGE] = "outage",
        [CATEGORY_EMERGENCY] = "emergency", [CATEGORY_CIVIC] = "civic",
};

#define MAX_TIMES 16

struct hit {
        uint32_t first, last; /* tokens of the first match; UINT32_MAX for signals/regexes */
};

struct scratch {
        struct normalizer *nz;
        struct tokens t;
        uint32_t *atoms; /* atoms of all tokens */
        size_t n_atoms, allocated_atoms;
        uint32_t *atom_off; /* token i's atoms: atoms[atom_off[i] .. atom_off[i+1]) */
        size_t allocated_atom_off;
        bool *hit;         /* per rule */
        struct hit *where; /* per rule */
        uint32_t *hits;    /* rules hit, in order */
        size_t n_hits;
        pcre2_match_data *md;
        struct time_match times[MAX_TIMES];
        size_t n_times;
        uint32_t signals;
};

struct classifier {
        struct ruleset *rs;
        struct tz *tz;
        struct scratch *s; /* mutable scratch behind a const classifier */
};

int category_builtin_from_name(const char *name)
{
        for (size_t i = 0; i < _CATEGORY_BUILTIN_MAX; i++)
                if (streq(category_builtin_names[i], name))
                        return (int)i;
        return -ENOENT;
}

static bool file_readable(const char *path)
{
        return access(path, R_OK) == 0;
}

int classifier_default_rules_path(char **ret)
{
        const char *env = getenv("GOVWATCH_RULES");
        char *p;

        if (env && env[0]) {
                p = strdup(env);
                goto found;
        }

        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                char *slash = strrchr(exe, '/');
                if (slash) {
                        *slash = '\0';
                        struct strbuf sb = {0};
                        if (strbuf_appendf(&sb, "%s/../share/govwatch/rules.yaml", exe) < 0)
                                return -ENOMEM;
                        if (file_readable(sb.buf)) {
                                p = sb.buf;
                                goto found;
                        }
                        strbuf_done(&sb);
                }
        }
#ifdef GOVWATCH_PKGDATADIR
        if (file_readable(GOVWATCH_PKGDATADIR "/rules.yaml")) {
                p = strdup(GOVWATCH_PKGDATADIR "/rules.yaml");
                goto found;
        }
#endif
#ifdef GOVWATCH_SOURCE_DIR
        if (file_readable(GOVWATCH_SOURCE_DIR "/data/rules.yaml")) {
                p = strdup(GOVWATCH_SOURCE_DIR "/data/rules.yaml");
                goto found;
        }
#endif
        return -ENOENT;
found:
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static _printf_(2, 3) void set_error(char **ret_error, const char *fmt, ...)
{
        if (!ret_error)
                return;
        va_list ap;
        va_start(ap, fmt);
        free(*ret_error);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
}

static int add_user_category(struct ruleset *rs, const struct classify_user_category *u,
                             char **ret_error)
{
        char origin[256];
        int r, c = ruleset_category(rs, u->name, true);
        if (c == -E2BIG) {
                set_error(ret_error, "classifier: more than %d categories", CATEGORY_MAX);
                return -EINVAL;
        }
        if (c < 0)
                return c;
        double weight = rs->thresholds[c]; /* one user phrase is enough on its own */
        for (size_t i = 0; u->phrases && u->phrases[i]; i++) {
                snprintf(origin, sizeof(origin), "config: category %s, phrase %zu", u->name, i + 1);
                r = ruleset_add_phrase(rs, c, u->phrases[i], weight, false, true, origin,
                                       ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; u->regexes && u->regexes[i]; i++) {
                snprintf(origin, sizeof(origin), "config: category %s, regex %zu", u->name, i + 1);
                r = ruleset_add_regex(rs, c, u->regexes[i], weight, origin, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; u->exclude && u->exclude[i]; i++) {
                snprintf(origin, sizeof(origin), "config: category %s, exclude %zu", u->name,
                         i + 1);
                r = ruleset_add_phrase(rs, c, u->exclude[i], 0, true, false, origin, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static struct scratch *scratch_free(struct scratch *s)
{
        if (!s)
                return NULL;
        normalizer_free(s->nz);
        tokens_done(&s->t);
        free(s->atoms);
        free(s->atom_off);
        free(s->hit);
        free(s->where);
        free(s->hits);
        if (s->md)
                pcre2_match_data_free(s->md);
        free(s);
        return NULL;
}

struct classifier *classifier_free(struct classifier *c)
{
        if (!c)
                return NULL;
        ruleset_free(c->rs);
        tz_free(c->tz);
        scratch_free(c->s);
        free(c);
        return NULL;
}

static void classifier_freep(struct classifier **c)
{
        *c = classifier_free(*c);
}

int classifier_new(const struct classify_options *opts, struct classifier **ret, char **ret_error)
{
        static const struct classify_options no_options = {0};
        _cleanup_(classifier_freep) struct classifier *c = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (!opts)
                opts = &no_options;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->s = calloc(1, sizeof(*c->s));
        if (!c->s)
                return -ENOMEM;
        r = normalizer_new(true, &c->s->nz);
        if (r < 0)
                return r;

        r = tz_load(opts->timezone, &c->tz);
        if (r < 0) {
                set_error(ret_error, "unknown time zone \"%s\"",
                          opts->timezone ? opts->timezone : TIMEZONE_DEFAULT);
                return -EINVAL;
        }

        if (opts->rules_file) {
                path = strdup(opts->rules_file);
                if (!path)
                        return -ENOMEM;
        } else {
                r = classifier_default_rules_path(&path);
                if (r < 0) {
                        set_error(ret_error, "default rules file (rules.yaml) not found");
                        return r;
                }
        }
        r = ruleset_new(&c->rs);
        if (r < 0)
                return r;
        r = ruleset_load_file(c->rs, path, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < opts->n_user; i++) {
                r = add_user_category(c->rs, &opts->user[i], ret_error);
                if (r < 0)
                        return r;
        }
        r = ruleset_finish(c->rs);
        if (r < 0)
                return r;

        size_t n_rules = c->rs->n_rules;
        c->s->hit = calloc(n_rules + 1, sizeof(bool));
        c->s->where = calloc(n_rules + 1, sizeof(struct hit));
        c->s->hits = calloc(n_rules + 1, sizeof(uint32_t));
        if (!c->s->hit || !c->s->where || !c->s->hits)
                return -ENOMEM;
        if (c->rs->has_regex) {
                c->s->md = pcre2_match_data_create(1, NULL);
                if (!c->s->md)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

size_t classifier_n_categories(const struct classifier *c)
{
        return c->rs->n_categories;
}

const char *classifier_category_name(const struct classifier *c, unsigned idx)
{
        return idx < c->rs->n_categories ? c->rs->category_names[idx] : NULL;
}

int classifier_category_index(const struct classifier *c, const char *name)
{
        return ruleset_category(c->rs, name, false);
}

/* ---- reading a post ---- */

static int add_text(struct scratch *s, const char *text)
{
        if (!text || !text[0])
                return 0;
        return normalizer_add(s->nz, text, strlen(text), &s->t);
}

static void attachment_signals(const struct post *p, uint32_t *signals)
{
        for (size_t i = 0; i < p->n_attachments; i++) {
                const struct attachment *a = &p->attachments[i];
                switch (a->kind) {
                case ATTACHMENT_VIDEO: {
                        bool ended = a->live_status && (streq(a->live_status, "finished") ||
                                                        streq(a->live_status, "failed"));
                        bool upcoming = a->upcoming || streq_ptr(a->live_status, "upcoming") ||
                                        (a->live_start_time > p->date && !a->live_status);
                        if ((a->live || a->upcoming) && ended)
                                *signals |= 1u << SIGNAL_VIDEO_FINISHED;
                        else if (upcoming && (a->live || a->upcoming))
                                *signals |= 1u << SIGNAL_VIDEO_UPCOMING;
                        else if (a->live)
                                *signals |= 1u << SIGNAL_VIDEO_LIVE;
                        else
                                *signals |= 1u << SIGNAL_VIDEO;
                        break;
                }
                case ATTACHMENT_POLL:
                        if (a->poll_closed || (a->poll_end_date > 0 && a->poll_end_date < p->date))
                                *signals |= 1u << SIGNAL_POLL_CLOSED;
                        else
                                *signals |= 1u << SIGNAL_POLL_OPEN;
                        break;
                case ATTACHMENT_PHOTO:
                        *signals |= 1u << SIGNAL_PHOTO;
                        break;
                default:
                        break;
                }
        }
}

static int read_post(struct scratch *s, const struct post *p)
{
        int r;
        const struct post *parts[2] = {p, p->repost};

        tokens_reset(&s->t);
        s->signals = 0;
        for (size_t k = 0; k < ELEMENTSOF(parts); k++) {
                const struct post *q = parts[k];
                if (!q)
                        continue;
                if ((r = add_text(s, q->text)) < 0)
                        return r;
                for (size_t i = 0; i < q->n_attachments; i++) {
                        if ((r = add_text(s, q->attachments[i].title)) < 0 ||
                            (r = add_text(s, q->attachments[i].description)) < 0)
                                return r;
                }
                attachment_signals(q, &s->signals);
        }
        if (p->repost)
                s->signals |= 1u << SIGNAL_REPOST;
        return 0;
}

static int index_atoms(const struct ruleset *rs, struct scratch *s)
{
        const struct tokens *t = &s->t;
        if (!greedy_realloc((void **)&s->atom_off, &s->allocated_atom_off, t->n + 1,
                            sizeof(uint32_t)))
                return -ENOMEM;
        s->n_atoms = 0;
        for (size_t i = 0; i < t->n; i++) {
                s->atom_off[i] = (uint32_t)s->n_atoms;
                int r = ruleset_token_atoms(rs, t, &t->v[i], &s->atoms, &s->n_atoms,
                                            &s->allocated_atoms);
                if (r < 0)
                        return r;
        }
        s->atom_off[t->n] = (uint32_t)s->n_atoms;
        return 0;
}

static bool token_has_item(const struct ruleset *rs, const struct scratch *s, size_t tok,
                           const struct rule_item *item)
{
        for (uint32_t a = s->atom_off[tok]; a < s->atom_off[tok + 1]; a++)
                for (uint32_t b = 0; b < item->n_atoms; b++)
                        if (s->atoms[a] == rs->item_atoms[item->first_atom + b])
                                return true;
        return false;
}

static bool negation_blocks(const struct rule_phrase *ph, const struct rule_item *item,
                            const struct token *k)
{
        return ph->unless_negated && (k->flags & TOKEN_NEGATED) && !item->allow_negated;
}

/* Items [idx, n) of ph after a match of item idx-1 at token pos; *ret_end: last token. */
static bool match_rest(const struct ruleset *rs, const struct scratch *s,
                       const struct rule_phrase *ph, uint32_t idx, size_t pos, size_t *ret_end)
{
        if (idx == ph->n_items) {
                *ret_end = pos;
                return true;
        }
        const struct rule_item *item = &rs->items[ph->first_item + idx];
        const struct tokens *t = &s->t;
        unsigned skipped = 0;
        for (size_t j = pos + 1; j < t->n; j++) {
                const struct token *k = &t->v[j];
                if (k->sentence != t->v[pos].sentence)
                        break;
                if (k->kind == TOKEN_PUNCT)
                        continue;
                if (token_has_item(rs, s, j, item) && !negation_blocks(ph, item, k) &&
                    match_rest(rs, s, ph, idx + 1, j, ret_end))
                        return true;
                if (++skipped > item->gap)
                        break;
        }
        return false;
}

static void hit_rule(struct scratch *s, uint32_t rule, uint32_t first, uint32_t last)
{
        if (s->hit[rule])
                return;
        s->hit[rule] = true;
        s->where[rule] = (struct hit){first, last};
        s->hits[s->n_hits++] = rule;
}

static void match_phrases(const struct ruleset *rs, struct scratch *s)
{
        const struct tokens *t = &s->t;
        for (size_t i = 0; i < t->n; i++) {
                for (uint32_t a = s->atom_off[i]; a < s->atom_off[i + 1]; a++) {
                        uint32_t atom = s->atoms[a];
                        for (uint32_t q = rs->start_index[atom]; q < rs->start_index[atom + 1];
                             q++) {
                                const struct rule_phrase *ph = &rs->phrases[rs->start_phrases[q]];
                                if (s->hit[ph->rule])
                                        continue;
                                if (negation_blocks(ph, &rs->items[ph->first_item], &t->v[i]))
                                        continue;
                                size_t end;
                                if (match_rest(rs, s, ph, 1, i, &end))
                                        hit_rule(s, ph->rule, (uint32_t)i, (uint32_t)end);
                        }
                }
        }
}

static bool regex_matches(const struct scratch *s, pcre2_code *re, const char *text)
{
        if (!text || !text[0])
                return false;
        return pcre2_match(re, (PCRE2_SPTR)text, strlen(text), 0, 0, s->md, NULL) >= 0;
}

static void match_other_rules(const struct ruleset *rs, struct scratch *s, const struct post *p)
{
        for (size_t r = 0; r < rs->n_rules; r++) {
                const struct rule *rule = &rs->rules[r];
                if (rule->kind == RULE_SIGNAL) {
                        if (s->signals & (1u << rule->signal))
                                hit_rule(s, (uint32_t)r, UINT32_MAX, UINT32_MAX);
                } else if (rule->kind == RULE_REGEX) {
                        const struct post *parts[2] = {p, p->repost};
                        bool m = false;
                        for (size_t k = 0; k < 2 && !m; k++) {
                                if (!parts[k])
                                        continue;
                                m = regex_matches(s, rule->regex, parts[k]->text);
                                for (size_t i = 0; i < parts[k]->n_attachments && !m; i++)
                                        m = regex_matches(s, rule->regex,
                                                          parts[k]->attachments[i].title);
                        }
                        if (m)
                                hit_rule(s, (uint32_t)r, UINT32_MAX, UINT32_MAX);
                }
        }
}

static int64_t video_start_time(const struct post *p)
{
        const struct post *parts[2] = {p, p->repost};
        for (size_t k = 0; k < 2; k++) {
                if (!parts[k])
                        continue;
                for (size_t i = 0; i < parts[k]->n_attachments; i++) {
                        const struct attachment *a = &parts[k]->attachments[i];
                        if (a->kind == ATTACHMENT_VIDEO && (a->live || a->upcoming) &&
                            a->live_start_time > 0)
                                return a->live_start_time;
                }
        }
        return 0;
}

struct scores {
        double score[CATEGORY_MAX];
        bool veto[CATEGORY_MAX];
        double reschedule;
        bool reschedule_veto;
};

static int classify_internal(const struct classifier *c, const struct post *p, const struct tz *tz,
                             struct classify_result *ret, struct scores *sc)
{
        const struct ruleset *rs = c->rs;
        struct scratch *s = c->s;
        int r;

        if (!tz)
                tz = c->tz;
        for (size_t i = 0; i < s->n_hits; i++)
                s->hit[s->hits[i]] = false;
        s->n_hits = 0;

        r = read_post(s, p);
        if (r < 0)
                return r;
        int64_t date = p->date > 0 ? p->date : (p->repost ? p->repost->date : 0);
        s->n_times = timeparse_tokens(&s->t, date, tz, s->times, MAX_TIMES);
        for (size_t i = 0; i < s->n_times; i++)
                if (s->times[i].at > date) {
                        s->signals |= 1u << SIGNAL_TIME_AHEAD;
                        if (s->times[i].at <= date + 48 * 3600)
                                s->signals |= 1u << SIGNAL_TIME_SOON;
                }

        r = index_atoms(rs, s);
        if (r < 0)
                return r;
        match_phrases(rs, s);
        match_other_rules(rs, s, p);

        *sc = (struct scores){0};
        for (size_t i = 0; i < s->n_hits; i++) {
                const struct rule *rule = &rs->rules[s->hits[i]];
                if (rule->category == RULE_CATEGORY_RESCHEDULE) {
                        sc->reschedule += rule->weight;
                        sc->reschedule_veto |= rule->veto;
                } else {
                        sc->score[rule->category] += rule->weight;
                        sc->veto[rule->category] |= rule->veto;
                }
        }

        struct classify_result res = {0};
        for (size_t k = 0; k < rs->n_categories; k++)
                if (!sc->veto[k] && sc->score[k] >= rs->thresholds[k] - 1e-9)
                        res.categories |= UINT64_C(1) << k;

        if (res.categories & (UINT64_C(1) << CATEGORY_LIVE)) {
                res.reschedule =
                        !sc->reschedule_veto && sc->reschedule >= rs->reschedule_threshold - 1e-9;
                int64_t v = video_start_time(p);
                if (v > 0) {
                        res.starts_at = v;
                        res.starts_at_utc_offset = tz_offset_at(tz, v);
                } else {
                        /* an announcement's first time to come; a postponement's last one (the
                         * new time follows the old) */
                        for (size_t i = 0; i < s->n_times; i++) {
                                const struct time_match *m =
                                        &s->times[res.reschedule ? s->n_times - 1 - i : i];
                                if (m->at >= date - 3600) {
                                        res.starts_at = m->at;
                                        res.starts_at_utc_offset = m->utc_offset;
                                        break;
                                }
                        }
                }
        }
        *ret = res;
        return 0;
}

int classifier_classify_tz(const struct classifier *c, const struct post *p, const struct tz *tz,
                           struct classify_result *ret)
{
        struct scores sc;
        return classify_internal(c, p, tz, ret, &sc);
}

int classifier_classify(const struct classifier *c, const struct post *p,
                        struct classify_result *ret)
{
        return classifier_classify_tz(c, p, NULL, ret);
}

void classify_result_starts_at(const struct classify_result *r, char *buf, size_t size)
{
        format_iso8601(r->starts_at, r->starts_at_utc_offset, buf, size);
}

static void print_tokens(const struct tokens *t, uint32_t first, uint32_t last, FILE *f)
{
        for (uint32_t i = first; i <= last && i < t->n; i++)
                fprintf(f, "%s%s", i > first ? " " : "", token_text(t, &t->v[i]));
}

int classifier_explain(const struct classifier *c, const struct post *p, FILE *f,
                       struct classify_result *ret)
{
        const struct ruleset *rs = c->rs;
        const struct scratch *s = c->s;
        struct scores sc;
        int r = classify_internal(c, p, NULL, ret, &sc);
        if (r < 0)
                return r;

        fprintf(f, "post %" PRId64 "_%" PRId64 ":\n  read:", p->owner_id, p->id);
        size_t shown = 0;
        for (size_t i = 0; i < s->t.n && shown < 400; i++) {
                fprintf(f, " %s", token_text(&s->t, &s->t.v[i]));
                shown += s->t.v[i].len + 1;
        }
        fprintf(f, "%s\n  signals:", shown >= 400 ? " ..." : "");
        for (unsigned i = 0; i < _SIGNAL_MAX; i++)
                if (s->signals & (1u << i))
                        fprintf(f, " %s", rule_signal_to_string(i));
        fprintf(f, "\n");
        for (size_t i = 0; i < s->n_times; i++) {
                char buf[40];
                timeparse_format_iso8601(s->times[i].at, s->times[i].utc_offset, buf, sizeof(buf));
                fprintf(f, "  time: %s at \"", buf);
                print_tokens(&s->t, s->times[i].token, s->times[i].token, f);
                fprintf(f, "\"\n");
        }
        for (int k = -1; k < (int)rs->n_categories; k++) {
                bool any = false;
                for (size_t i = 0; i < s->n_hits; i++)
                        any = any || rs->rules[s->hits[i]].category == k;
                if (!any)
                        continue;
                double score = k < 0 ? sc.reschedule : sc.score[k];
                double th = k < 0 ? rs->reschedule_threshold : rs->thresholds[k];
                bool veto = k < 0 ? sc.reschedule_veto : sc.veto[k];
                fprintf(f, "  %s: %.2f %s %.2f%s -> %s\n",
                        k < 0 ? "reschedule" : rs->category_names[k], score,
                        score >= th - 1e-9 ? ">=" : "<", th, veto ? ", vetoed" : "",
                        !veto && score >= th - 1e-9 ? "yes" : "no");
                for (size_t i = 0; i < s->n_hits; i++) {
                        const struct rule *rule = &rs->rules[s->hits[i]];
                        if (rule->category != k)
                                continue;
                        const struct hit *h = &s->where[s->hits[i]];
                        fprintf(f, "    %s%+.2f ", rule->veto ? "veto " : "", rule->weight);
                        if (h->first != UINT32_MAX) {
                                fprintf(f, "\"");
                                print_tokens(&s->t, h->first, h->last, f);
                                fprintf(f, "\" ");
                        }
                        /* long synonym lists: cut at a character boundary */
                        size_t len = strlen(rule->source);
                        if (len > 100) {
                                len = 100;
                                while (len > 0 && ((unsigned char)rule->source[len] & 0xc0) == 0x80)
                                        len--;
                        }
                        fprintf(f, "by %s %s \"%.*s%s\"",
                                rule->kind == RULE_SIGNAL  ? "signal"
                                : rule->kind == RULE_REGEX ? "regex"
                                                           : "phrase",
                                rule->origin, (int)len, rule->source,
                                len < strlen(rule->source) ? "..." : "");
                        fprintf(f, "\n");
                }
        }
        char buf[40];
        classify_result_starts_at(ret, buf, sizeof(buf));
        fprintf(f, "  starts_at: %s%s\n", buf[0] ? buf : "null",
                ret->reschedule ? " (reschedule)" : "");
        return 0;
}
