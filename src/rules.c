/* rules.c — loads the classifier's rules from YAML and compiles them for matching.
 *
 * Owns the rule file format (see rules.h for the phrase language), its error messages
 * (FILE:LINE:COL: message, 1-based), and the compiled form: phrase words become "atoms" (a stem,
 * an exact form, a prefix) in one hash table, and each atom lists the phrases that start with it,
 * so matching a post costs a few hash lookups a word. The file is read once, never per post.
 * Defends against hostile YAML: size, depth and alias caps, duplicate keys refused.
 * Loading runs on the daemon's loop (start, reload, check-config), so every step is bounded:
 * libyaml's nodes and bytes (the file's caps below), the words folded and stemmed (once each: a
 * word class is compiled when it is read, and phrases copy its forms), the forms phrases expand to
 * (deduplicated by a mark per atom, not by scanning), and the phrases one form starts (each is
 * tried at every post word that has the form). Measured in Release (bench/hostile.c and files
 * built at each cap): the worst file loads in about 15 ms, the shipped one in 1.4 ms.
 */
#define _GNU_SOURCE           1 /* vasprintf */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <limits.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>

#include "classify.h"
#include "rules.h"

#define RULES_MAX_FILE_SIZE (512u * 1024)
#define RULES_MAX_DEPTH     32
#define RULES_MAX_ALIASES   256
/* libyaml spends about 0.3 us a node (prescan and load): a file of one-letter scalars took 160 ms
 * a MiB, whatever the caps below refused afterwards */
#define RULES_MAX_NODES 16384
#define RULES_MAX_GAP   20
#define RULES_MAX_ITEMS 16
/* Work bounds (rules.h has the ones the config shares): duplicate keys are found by comparing
 * pairs, so they are capped; a word class is compiled once, when it is read, and its forms are
 * then copied into every phrase that names it (RULES_MAX_WORD_FORMS caps the copies). */
#define RULES_MAX_KEYS         1024 /* keys in one mapping: words, categories, a rule */
#define RULES_MAX_CLASS_WORDS  1024 /* words in one word class */
#define RULES_MAX_ALTERNATIVES 1024 /* forms one phrase word (or class) stands for */

struct atom_info {
        uint32_t off;    /* into atom_text: kind byte, then the text, NUL */
        uint32_t starts; /* phrases that start with the atom ('f': with a prefix of the letter) */
        uint32_t mark;   /* == ruleset.mark: already in the item or class being built */
};

struct word_class {
        char *name;
        uint32_t first_atom; /* into ruleset.class_atoms */
        uint32_t n_atoms;
};

struct atom_slot {
        uint64_t hash;
        uint32_t off; /* into atom_text: kind byte, then the text, NUL */
        uint32_t len; /* of the text */
        uint32_t id;  /* UINT32_MAX: empty */
};

static const char *const signal_names[_SIGNAL_MAX] = {
        [SIGNAL_VIDEO_LIVE] = "video_live",
        [SIGNAL_VIDEO_UPCOMING] = "video_upcoming",
        [SIGNAL_VIDEO_FINISHED] = "video_finished",
        [SIGNAL_VIDEO] = "video",
        [SIGNAL_POLL_OPEN] = "poll_open",
        [SIGNAL_POLL_CLOSED] = "poll_closed",
        [SIGNAL_PHOTO] = "photo",
        [SIGNAL_REPOST] = "repost",
        [SIGNAL_TIME_AHEAD] = "time_ahead",
        [SIGNAL_TIME_SOON] = "time_soon",
};

const char *rule_signal_to_string(enum rule_signal s)
{
        return s < _SIGNAL_MAX ? signal_names[s] : NULL;
}

static int signal_from_string(const char *s)
{
        for (size_t i = 0; i < _SIGNAL_MAX; i++)
                if (streq(signal_names[i], s))
                        return (int)i;
        return -ENOENT;
}

static _printf_(2, 3) int set_error(char **ret_error, const char *fmt, ...)
{
        if (!ret_error)
                return -EINVAL;
        char *m = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        free(*ret_error);
        *ret_error = m;
        return -EINVAL;
}

int ruleset_new(struct ruleset **ret)
{
        struct ruleset *rs = calloc(1, sizeof(*rs));
        if (!rs)
                return -ENOMEM;
        rs->number_atom = UINT32_MAX;
        rs->reschedule_threshold = 1.0;
        int r = normalizer_new(true, &rs->nz);
        if (r < 0) {
                free(rs);
                return r;
        }
        for (size_t i = 0; i < _CATEGORY_BUILTIN_MAX; i++) {
                r = ruleset_category(rs, category_builtin_names[i], true);
                if (r < 0) {
                        ruleset_free(rs);
                        return r;
                }
        }
        *ret = rs;
        return 0;
}

struct ruleset *ruleset_free(struct ruleset *rs)
{
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_categories; i++)
                free(rs->category_names[i]);
        free(rs->category_names);
        free(rs->thresholds);
        free(rs->miss_costs);
        for (size_t i = 0; i < rs->n_rules; i++) {
                free(rs->rules[i].source);
                free(rs->rules[i].origin);
                if (rs->rules[i].regex)
                        pcre2_code_free(rs->rules[i].regex);
        }
        free(rs->rules);
        free(rs->phrases);
        free(rs->items);
        free(rs->item_atoms);
        free(rs->slots);
        strbuf_done(&rs->atom_text);
        free(rs->start_index);
        free(rs->start_phrases);
        free(rs->atom_info);
        tokens_done(&rs->scratch);
        for (size_t i = 0; i < rs->n_classes; i++)
                free(rs->classes[i].name);
        free(rs->classes);
        free(rs->class_atoms);
        normalizer_free(rs->nz);
        free(rs);
        return NULL;
}

int ruleset_category(struct ruleset *rs, const char *name, bool create)
{
        for (size_t i = 0; i < rs->n_categories; i++)
                if (streq(rs->category_names[i], name))
                        return (int)i;
        if (!create)
                return -ENOENT;
        if (rs->n_categories >= CATEGORY_MAX)
                return -E2BIG;
        char **names = realloc(rs->category_names, (rs->n_categories + 1) * sizeof(char *));
        if (!names)
                return -ENOMEM;
        rs->category_names = names;
        double *th = realloc(rs->thresholds, (rs->n_categories + 1) * sizeof(double));
        if (!th)
                return -ENOMEM;
        rs->thresholds = th;
        double *mc = realloc(rs->miss_costs, (rs->n_categories + 1) * sizeof(double));
        if (!mc)
                return -ENOMEM;
        rs->miss_costs = mc;
        names[rs->n_categories] = strdup(name);
        if (!names[rs->n_categories])
                return -ENOMEM;
        th[rs->n_categories] = 1.0;
        mc[rs->n_categories] = 1.0;
        return (int)rs->n_categories++;
}

/* ---- atoms ---- */

static uint64_t atom_hash(char kind, const char *s, size_t len)
{
        uint64_t h = UINT64_C(1469598103934665603);
        h = (h ^ (unsigned char)kind) * UINT64_C(1099511628211);
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
        return h;
}

static uint32_t atom_find(const struct ruleset *rs, char kind, const char *s, size_t len)
{
        if (rs->n_slots == 0)
                return UINT32_MAX;
        uint64_t h = atom_hash(kind, s, len);
        for (size_t i = h & (rs->n_slots - 1);; i = (i + 1) & (rs->n_slots - 1)) {
                const struct atom_slot *sl = &rs->slots[i];
                if (sl->id == UINT32_MAX)
                        return UINT32_MAX;
                if (sl->hash == h && sl->len == len && rs->atom_text.buf[sl->off] == kind &&
                    memcmp(rs->atom_text.buf + sl->off + 1, s, len) == 0)
                        return sl->id;
        }
}

static int atoms_grow(struct ruleset *rs)
{
        size_t n = rs->n_slots ? rs->n_slots * 2 : 256;
        struct atom_slot *slots = malloc(n * sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                slots[i].id = UINT32_MAX;
        for (size_t i = 0; i < rs->n_slots; i++) {
                if (rs->slots[i].id == UINT32_MAX)
                        continue;
                size_t j = rs->slots[i].hash & (n - 1);
                while (slots[j].id != UINT32_MAX)
                        j = (j + 1) & (n - 1);
                slots[j] = rs->slots[i];
        }
        free(rs->slots);
        rs->slots = slots;
        rs->n_slots = n;
        return 0;
}

static int atom_get(struct ruleset *rs, char kind, const char *s, size_t len, uint32_t *ret)
{
        uint32_t id = atom_find(rs, kind, s, len);
        if (id != UINT32_MAX) {
                *ret = id;
                return 0;
        }
        if ((rs->n_atoms + 1) * 2 > rs->n_slots) {
                int r = atoms_grow(rs);
                if (r < 0)
                        return r;
        }
        if (rs->atom_text.len > UINT32_MAX - len - 2)
                return -E2BIG;
        if (!greedy_realloc((void **)&rs->atom_info, &rs->allocated_atom_info, rs->n_atoms + 1,
                            sizeof(struct atom_info)))
                return -ENOMEM;
        uint32_t off = (uint32_t)rs->atom_text.len;
        int r = strbuf_append(&rs->atom_text, &kind, 1);
        if (r >= 0)
                r = strbuf_append(&rs->atom_text, s, len);
        if (r < 0)
                return r;
        rs->atom_text.len++; /* keep the NUL */
        rs->atom_info[rs->n_atoms] = (struct atom_info){.off = off};
        uint64_t h = atom_hash(kind, s, len);
        size_t i = h & (rs->n_slots - 1);
        while (rs->slots[i].id != UINT32_MAX)
                i = (i + 1) & (rs->n_slots - 1);
        rs->slots[i] = (struct atom_slot){
                .hash = h, .off = off, .len = (uint32_t)len, .id = (uint32_t)rs->n_atoms};
        if (kind == 'p')
                rs->prefix_lengths |= UINT64_C(1) << len;
        *ret = (uint32_t)rs->n_atoms++;
        return 0;
}

int ruleset_token_atoms(const struct ruleset *rs, const struct tokens *t, const struct token *k,
                        uint32_t **atoms, size_t *n, size_t *allocated)
{
        uint32_t found[24];
        size_t nf = 0;

        if (k->kind == TOKEN_NUMBER) {
                if (rs->number_atom != UINT32_MAX)
                        found[nf++] = rs->number_atom;
        } else if (k->kind == TOKEN_WORD) {
                const char *text = token_text(t, k);
                uint32_t id = atom_find(rs, 's', token_stem(t, k), k->stem_len);
                if (id != UINT32_MAX)
                        found[nf++] = id;
                id = atom_find(rs, 'e', text, k->len);
                if (id != UINT32_MAX)
                        found[nf++] = id;
                uint64_t lengths = rs->prefix_lengths;
                if (k->len < 63)
                        lengths &= (UINT64_C(1) << (k->len + 1)) - 1;
                while (lengths && nf < ELEMENTSOF(found)) {
                        unsigned l = (unsigned)__builtin_ctzll(lengths);
                        lengths &= lengths - 1;
                        if (l < k->len && ((unsigned char)text[l] & 0xc0) == 0x80)
                                continue; /* not a character boundary */
                        id = atom_find(rs, 'p', text, l);
                        if (id != UINT32_MAX)
                                found[nf++] = id;
                }
        }
        if (nf == 0)
                return 0;
        if (!greedy_realloc((void **)atoms, allocated, *n + nf, sizeof(uint32_t)))
                return -ENOMEM;
        memcpy(*atoms + *n, found, nf * sizeof(uint32_t));
        *n += nf;
        return 0;
}

/* ---- rules and phrases ---- */

static int rule_push(struct ruleset *rs, enum rule_kind kind, int category, double weight,
                     bool veto, const char *source, const char *origin)
{
        if (!greedy_realloc((void **)&rs->rules, &rs->allocated_rules, rs->n_rules + 1,
                            sizeof(struct rule)))
                return -ENOMEM;
        struct rule *r = &rs->rules[rs->n_rules];
        *r = (struct rule){.kind = kind, .category = category, .weight = weight, .veto = veto};
        r->source = strdup(source);
        r->origin = strdup(origin);
        if (!r->source || !r->origin) {
                free(r->source);
                free(r->origin);
                return -ENOMEM;
        }
        return (int)rs->n_rules++;
}

static int class_compare(const void *a, const void *b)
{
        return strcmp(((const struct word_class *)a)->name, ((const struct word_class *)b)->name);
}

static const struct word_class *class_find(const struct ruleset *rs, const char *name)
{
        struct word_class key = {.name = (char *)name};
        if (rs->n_classes == 0)
                return NULL;
        return bsearch(&key, rs->classes, rs->n_classes, sizeof(key), class_compare);
}

/* Starts a new item or class: the forms added from now on are deduplicated against each other. */
static void forms_begin(struct ruleset *rs)
{
        if (++rs->mark == 0) {
                for (size_t i = 0; i < rs->n_atoms; i++)
                        rs->atom_info[i].mark = 0;
                rs->mark = 1;
        }
}

/* Adds a form to the item being built, or with to_class to the word class being read, once. */
static int form_add(struct ruleset *rs, bool to_class, uint32_t id, const char *origin,
                    char **ret_error)
{
        if (rs->atom_info[id].mark == rs->mark)
                return 0;
        if (to_class) {
                struct word_class *c = &rs->classes[rs->n_classes - 1];
                if (c->n_atoms >= RULES_MAX_ALTERNATIVES)
                        return set_error(ret_error,
                                         "%s: word class @%s stands for more than %d forms", origin,
                                         c->name, RULES_MAX_ALTERNATIVES);
                if (!greedy_realloc((void **)&rs->class_atoms, &rs->allocated_class_atoms,
                                    rs->n_class_atoms + 1, sizeof(uint32_t)))
                        return -ENOMEM;
                rs->class_atoms[rs->n_class_atoms++] = id;
                c->n_atoms++;
        } else {
                struct rule_item *it = &rs->items[rs->n_items - 1];
                if (it->n_atoms >= RULES_MAX_ALTERNATIVES)
                        return set_error(ret_error,
                                         "%s: a word stands for more than %d forms (alternatives "
                                         "and word classes together)",
                                         origin, RULES_MAX_ALTERNATIVES);
                if (rs->n_item_atoms >= RULES_MAX_WORD_FORMS)
                        return set_error(ret_error,
                                         "%s: the rules expand to more than %d word forms (each "
                                         "word's alternatives, word classes counted in every "
                                         "phrase that names them)",
                                         origin, RULES_MAX_WORD_FORMS);
                if (!greedy_realloc((void **)&rs->item_atoms, &rs->allocated_item_atoms,
                                    rs->n_item_atoms + 1, sizeof(uint32_t)))
                        return -ENOMEM;
                rs->item_atoms[rs->n_item_atoms++] = id;
                it->n_atoms++;
        }
        rs->atom_info[id].mark = rs->mark;
        return 0;
}

/* One alternative of a phrase word: "слово", "=слово", "слов*", "#". */
static int compile_alternative(struct ruleset *rs, const char *alt, const char *origin,
                               char **ret_error, uint32_t *ret_id)
{
        char kind = 's';
        size_t len = strlen(alt);
        uint32_t id;
        int r;

        /* folding and stemming are most of the time a rules file takes to load: about 0.5 us
         * a word and 10 ns a byte; aliases make a file's words count more than once */
        if (rs->n_words >= RULES_MAX_WORDS)
                return set_error(ret_error,
                                 "%s: more than %d words in the rules and the config's "
                                 "phrases (each alternative and word class word counted)",
                                 origin, RULES_MAX_WORDS);
        if (rs->n_word_bytes + len > RULES_MAX_WORD_BYTES)
                return set_error(ret_error,
                                 "%s: the words of the rules and the config's phrases "
                                 "add up to more than %d bytes",
                                 origin, RULES_MAX_WORD_BYTES);
        rs->n_words++;
        rs->n_word_bytes += len;

        if (streq(alt, "#")) {
                if (rs->number_atom == UINT32_MAX) {
                        r = atom_get(rs, 'n', "#", 1, &rs->number_atom);
                        if (r < 0)
                                return r;
                }
                *ret_id = rs->number_atom;
                return 0;
        }
        if (alt[0] == '=') {
                if (alt[len - 1] == '*')
                        return set_error(ret_error,
                                         "%s: \"%s\": a word is either exact (=) or a prefix (*)",
                                         origin, alt);
                kind = 'e';
                alt++;
                len--;
        } else if (len > 0 && alt[len - 1] == '*') {
                kind = 'p';
                len--;
        }
        if (len == 0)
                return set_error(ret_error, "%s: empty word in phrase", origin);

        /* folded as a post's words are; one reused token list, and the stem the tokenizer made
         * (normalize_string() would allocate and stem again: most of the compile time) */
        struct tokens *t = &rs->scratch;
        tokens_reset(t);
        r = normalizer_add(rs->nz, alt, len, t);
        if (r < 0)
                return r;
        if (t->n != 1 || t->v[0].len == 0)
                return set_error(ret_error,
                                 "%s: \"%.*s\" is not one word (write the words apart, "
                                 "without punctuation)",
                                 origin, (int)len, alt);
        const struct token *k = &t->v[0];
        const char *folded = token_text(t, k);
        size_t flen = k->len;
        if (kind == 's') {
                size_t slen = k->stem_len;
                const char *stem = k->kind == TOKEN_WORD
                                           ? token_stem(t, k)
                                           : normalizer_stem(rs->nz, folded, flen, &slen);
                r = atom_get(rs, 's', stem, slen, &id);
        } else {
                if (kind == 'p' && flen >= 63)
                        return set_error(ret_error, "%s: prefix \"%s\" is too long", origin,
                                         folded);
                r = atom_get(rs, kind, folded, flen, &id);
        }
        if (r < 0)
                return r;
        *ret_id = id;
        return 0;
}

/* The alternatives of one word ("a|=b|c*|@class") into the item being built, or with to_class
 * into the word class being read; a class's forms were compiled when it was read. */
static int compile_alternatives(struct ruleset *rs, char *word, bool to_class, const char *origin,
                                char **ret_error)
{
        char *save = NULL;
        for (char *alt = strtok_r(word, "|", &save); alt; alt = strtok_r(NULL, "|", &save)) {
                uint32_t id = UINT32_MAX;
                int r;
                if (alt[0] == '@') {
                        if (to_class)
                                return set_error(ret_error, "%s: a word class cannot use @%s",
                                                 origin, alt + 1);
                        const struct word_class *c = class_find(rs, alt + 1);
                        if (!c)
                                return set_error(ret_error, "%s: unknown word class @%s", origin,
                                                 alt + 1);
                        for (uint32_t i = 0; i < c->n_atoms; i++) {
                                r = form_add(rs, false, rs->class_atoms[c->first_atom + i], origin,
                                             ret_error);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                r = compile_alternative(rs, alt, origin, ret_error, &id);
                if (r >= 0)
                        r = form_add(rs, to_class, id, origin, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* How a post's word must look to match the atom, for messages. */
static void atom_describe(const struct ruleset *rs, uint32_t id, char *buf, size_t size)
{
        const char *kind = rs->atom_text.buf + rs->atom_info[id].off, *text = kind + 1;
        switch (*kind) {
        case 'e':
                snprintf(buf, size, "\"=%s\"", text);
                break;
        case 'p':
                snprintf(buf, size, "\"%s*\"", text);
                break;
        case 'n':
                snprintf(buf, size, "a number (#)");
                break;
        case 'f':
                snprintf(buf, size, "a prefix beginning with \"%s\"", text);
                break;
        default:
                snprintf(buf, size, "any form of \"%s\"", text);
                break;
        }
}

/* Checks that one more phrase may start with the forms of item first, and counts it. */
static int starts_add(struct ruleset *rs, const struct rule_item *first, const char *origin,
                      char **ret_error)
{
        /* A post's word tries every phrase that starts with one of its forms (classify.c). Its
         * prefix forms all begin with its first letter, and a long word has many (24 letters,
         * 24 prefixes): the phrases starting with prefixes are counted per first letter too
         * (atoms of kind 'f', which no word is looked up as), so a word tries at most
         * RULES_MAX_STARTS * 2 + RULES_MAX_PREFIX_STARTS phrases. */
        uint32_t letters[RULES_MAX_ALTERNATIVES], over = UINT32_MAX, cap = 0;
        size_t n_letters = 0;
        forms_begin(rs);
        for (uint32_t a = 0; a < first->n_atoms && over == UINT32_MAX; a++) {
                uint32_t id = rs->item_atoms[first->first_atom + a];
                if (rs->atom_info[id].starts >= RULES_MAX_STARTS) {
                        over = id, cap = RULES_MAX_STARTS;
                        break;
                }
                const char *kind = rs->atom_text.buf + rs->atom_info[id].off;
                if (*kind != 'p')
                        continue;
                char letter[5];
                size_t len = 1;
                while (len < 4 && ((unsigned char)kind[1 + len] & 0xC0) == 0x80)
                        len++;
                memcpy(letter, kind + 1, len);
                uint32_t lid;
                int r = atom_get(rs, 'f', letter, len, &lid); /* moves atom_text */
                if (r < 0)
                        return r;
                if (rs->atom_info[lid].mark == rs->mark)
                        continue;
                rs->atom_info[lid].mark = rs->mark;
                if (rs->atom_info[lid].starts >= RULES_MAX_PREFIX_STARTS)
                        over = lid, cap = RULES_MAX_PREFIX_STARTS;
                letters[n_letters++] = lid;
        }
        if (over != UINT32_MAX) {
                char word[128];
                atom_describe(rs, over, word, sizeof(word));
                return set_error(ret_error,
                                 "%s: more than %u phrases start with %s (one phrase can list "
                                 "alternatives: a|b)",
                                 origin, cap, word);
        }
        for (uint32_t a = 0; a < first->n_atoms; a++)
                rs->atom_info[rs->item_atoms[first->first_atom + a]].starts++;
        for (size_t i = 0; i < n_letters; i++)
                rs->atom_info[letters[i]].starts++;
        return 0;
}

static bool is_negation_word(const char *w)
{
        return streq(w, "не") || streq(w, "=не") || streq(w, "ни") || streq(w, "=ни");
}

static int compile_phrase(struct ruleset *rs, unsigned rule, const char *text, unsigned gap,
                          bool unless_negated, const char *origin, char **ret_error)
{
        if (strlen(text) > RULES_MAX_PHRASE_BYTES)
                return set_error(ret_error, "%s: phrase longer than %d bytes", origin,
                                 RULES_MAX_PHRASE_BYTES);
        if (rs->n_phrases >= RULES_MAX_PHRASES)
                return set_error(ret_error, "%s: more than %d phrases in the rules", origin,
                                 RULES_MAX_PHRASES);
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        size_t first_item = rs->n_items, n_items = 0;
        unsigned pending_gap = gap;
        bool prev_negation = false, have_gap = false;
        char *save = NULL;
        int r;

        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                if (w[0] == '~') {
                        char *end;
                        errno = 0;
                        unsigned long g = strtoul(w + 1, &end, 10);
                        if (w[1] == '\0' || *end || errno || g > RULES_MAX_GAP)
                                return set_error(ret_error, "%s: bad gap \"%s\" (~0 .. ~%d)",
                                                 origin, w, RULES_MAX_GAP);
                        pending_gap = (unsigned)g;
                        have_gap = true;
                        continue;
                }
                if (n_items >= RULES_MAX_ITEMS)
                        return set_error(ret_error, "%s: phrase longer than %d words", origin,
                                         RULES_MAX_ITEMS);
                if (!greedy_realloc((void **)&rs->items, &rs->allocated_items, rs->n_items + 1,
                                    sizeof(struct rule_item)))
                        return -ENOMEM;
                bool negation = is_negation_word(w);
                rs->items[rs->n_items++] = (struct rule_item){
                        .first_atom = (uint32_t)rs->n_item_atoms,
                        .gap = (uint16_t)(n_items == 0 ? 0 : pending_gap),
                        .allow_negated = prev_negation,
                };
                n_items++;
                forms_begin(rs);
                r = compile_alternatives(rs, w, false, origin, ret_error);
                if (r < 0)
                        return r;
                prev_negation = negation;
                if (have_gap) {
                        have_gap = false;
                        pending_gap = gap;
                }
        }
        if (n_items == 0)
                return set_error(ret_error, "%s: empty phrase", origin);
        r = starts_add(rs, &rs->items[first_item], origin, ret_error);
        if (r < 0)
                return r;
        if (!greedy_realloc((void **)&rs->phrases, &rs->allocated_phrases, rs->n_phrases + 1,
                            sizeof(struct rule_phrase)))
                return -ENOMEM;
        rs->phrases[rs->n_phrases++] = (struct rule_phrase){.first_item = (uint32_t)first_item,
                                                            .n_items = (uint32_t)n_items,
                                                            .rule = rule,
                                                            .unless_negated = unless_negated};
        return 0;
}

int ruleset_add_phrase(struct ruleset *rs, int category, const char *phrase, double weight,
                       bool veto, bool unless_negated, const char *origin, char **ret_error)
{
        if (rs->n_rules >= RULES_MAX_RULES)
                return set_error(ret_error, "%s: more than %d rules", origin, RULES_MAX_RULES);
        if (strlen(phrase) > RULES_MAX_PHRASE_BYTES)
                return set_error(ret_error, "%s: phrase longer than %d bytes", origin,
                                 RULES_MAX_PHRASE_BYTES);
        int rule = rule_push(rs, RULE_PHRASE, category, weight, veto, phrase, origin);
        if (rule < 0)
                return rule;
        return compile_phrase(rs, (unsigned)rule, phrase, 0, unless_negated, origin, ret_error);
}

int ruleset_add_regex(struct ruleset *rs, int category, const char *pattern, double weight,
                      const char *origin, char **ret_error)
{
        int errcode;
        PCRE2_SIZE erroffset;
        if (rs->n_rules >= RULES_MAX_RULES)
                return set_error(ret_error, "%s: more than %d rules", origin, RULES_MAX_RULES);
        if (strlen(pattern) > RULES_MAX_PATTERN_BYTES)
                return set_error(ret_error, "%s: regex longer than %d bytes", origin,
                                 RULES_MAX_PATTERN_BYTES);
        /* PCRE2_AUTO_CALLOUT: classify.c counts every item tried against one budget a post
         * (CLASSIFY_REGEX_STEPS), since PCRE2's own match limit restarts at each position */
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS |
                                               PCRE2_MATCH_INVALID_UTF | PCRE2_AUTO_CALLOUT,
                                       &errcode, &erroffset, NULL);
        if (!re) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(errcode, msg, sizeof(msg));
                return set_error(ret_error, "%s: regex \"%s\" at offset %zu: %s", origin, pattern,
                                 (size_t)erroffset, (const char *)msg);
        }
        (void)pcre2_jit_compile(re,
                                PCRE2_JIT_COMPLETE); /* optional: falls back to the interpreter */
        int rule = rule_push(rs, RULE_REGEX, category, weight, false, pattern, origin);
        if (rule < 0) {
                pcre2_code_free(re);
                return rule;
        }
        rs->rules[rule].regex = re;
        rs->has_regex = true;
        return 0;
}

static int atom_compare(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

int ruleset_finish(struct ruleset *rs)
{
        for (size_t i = 0; i < rs->n_items; i++)
                qsort(rs->item_atoms + rs->items[i].first_atom, rs->items[i].n_atoms,
                      sizeof(uint32_t), atom_compare);
        free(rs->start_index);
        free(rs->start_phrases);
        rs->start_phrases = NULL;
        rs->start_index = calloc(rs->n_atoms + 1, sizeof(uint32_t));
        if (!rs->start_index)
                return -ENOMEM;
        size_t total = 0;
        for (size_t p = 0; p < rs->n_phrases; p++) {
                const struct rule_item *it = &rs->items[rs->phrases[p].first_item];
                for (size_t a = 0; a < it->n_atoms; a++)
                        rs->start_index[rs->item_atoms[it->first_atom + a] + 1]++;
                total += it->n_atoms;
        }
        for (size_t a = 0; a < rs->n_atoms; a++)
                rs->start_index[a + 1] += rs->start_index[a];
        rs->start_phrases = malloc((total + 1) * sizeof(uint32_t));
        _cleanup_free_ uint32_t *fill = calloc(rs->n_atoms + 1, sizeof(uint32_t));
        if (!rs->start_phrases || !fill)
                return -ENOMEM;
        for (size_t p = 0; p < rs->n_phrases; p++) {
                const struct rule_item *it = &rs->items[rs->phrases[p].first_item];
                for (size_t a = 0; a < it->n_atoms; a++) {
                        uint32_t atom = rs->item_atoms[it->first_atom + a];
                        rs->start_phrases[rs->start_index[atom] + fill[atom]++] = (uint32_t)p;
                }
        }
        return 0;
}

/* ---- YAML ---- */

struct loader {
        struct ruleset *rs;
        yaml_document_t doc;
        const char *file;
        char **error;
        size_t visits;
};

static int node_error(struct loader *l, const yaml_node_t *n, const char *fmt, ...) _printf_(3, 4);
static int node_error(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
        char *m = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        set_error(l->error, "%s:%zu:%zu: %s", l->file, n->start_mark.line + 1,
                  n->start_mark.column + 1, m ? m : "error");
        free(m);
        return -EINVAL;
}

static void node_origin(struct loader *l, const yaml_node_t *n, char *buf, size_t size)
{
        snprintf(buf, size, "%s:%zu:%zu", l->file, n->start_mark.line + 1,
                 n->start_mark.column + 1);
}

static yaml_node_t *node_get(struct loader *l, int id)
{
        l->visits++;
        return yaml_document_get_node(&l->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int parse_number(struct loader *l, const yaml_node_t *n, double *ret)
{
        const char *s = scalar(n);
        char *end;
        if (!s)
                return node_error(l, n, "expected a number");
        errno = 0;
        double d = strtod(s, &end);
        if (s[0] == '\0' || *end || errno || !isfinite(d) || fabs(d) > 1e6)
                return node_error(l, n, "expected a number, got \"%s\"", s);
        *ret = d;
        return 0;
}

static int parse_bool(struct loader *l, const yaml_node_t *n, bool *ret)
{
        const char *s = scalar(n);
        if (s && (streq(s, "true") || streq(s, "yes") || streq(s, "on"))) {
                *ret = true;
                return 0;
        }
        if (s && (streq(s, "false") || streq(s, "no") || streq(s, "off"))) {
                *ret = false;
                return 0;
        }
        return node_error(l, n, "expected true or false");
}

static int check_mapping(struct loader *l, const yaml_node_t *n, const char *what,
                         const char *const *allowed)
{
        if (!n || n->type != YAML_MAPPING_NODE)
                return node_error(l, n, "%s must be a mapping", what);
        /* the duplicate check below compares pairs of keys */
        if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > RULES_MAX_KEYS)
                return node_error(l, n, "more than %d keys in %s", RULES_MAX_KEYS, what);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node_get(l, p->key);
                const char *key = scalar(k);
                if (!key)
                        return node_error(l, k, "keys must be plain strings");
                for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
                        if (streq_ptr(scalar(node_get(l, q->key)), key))
                                return node_error(l, k, "duplicate key \"%s\"", key);
                if (!allowed)
                        continue;
                bool ok = false;
                for (size_t i = 0; allowed[i]; i++)
                        ok = ok || streq(allowed[i], key);
                if (!ok)
                        return node_error(l, k, "unknown key \"%s\" in %s", key, what);
        }
        return 0;
}

static yaml_node_t *mapping_get(struct loader *l, const yaml_node_t *n, const char *key)
{
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
                if (streq_ptr(scalar(node_get(l, p->key)), key))
                        return node_get(l, p->value);
        return NULL;
}

static int load_rule(struct loader *l, int category, const yaml_node_t *n, bool unless_negated)
{
        static const char *const keys[] = {"phrase", "phrases", "signal",         "weight", "veto",
                                           "sure",   "gap",     "unless_negated", "note",   NULL};
        struct ruleset *rs = l->rs;
        char origin[512];
        int r;

        r = check_mapping(l, n, "a rule", keys);
        if (r < 0)
                return r;
        node_origin(l, n, origin, sizeof(origin));

        double weight = 1.0, gap = 0;
        bool veto = false, sure = false;
        yaml_node_t *v;
        if ((v = mapping_get(l, n, "weight")) && (r = parse_number(l, v, &weight)) < 0)
                return r;
        if ((v = mapping_get(l, n, "veto")) && (r = parse_bool(l, v, &veto)) < 0)
                return r;
        if ((v = mapping_get(l, n, "sure")) && (r = parse_bool(l, v, &sure)) < 0)
                return r;
        if (sure && (veto || weight <= 0))
                return node_error(l, n,
                                  "a sure rule assigns its category: it needs a positive "
                                  "weight and no veto");
        if ((v = mapping_get(l, n, "unless_negated")) &&
            (r = parse_bool(l, v, &unless_negated)) < 0)
                return r;
        if ((v = mapping_get(l, n, "gap"))) {
                if ((r = parse_number(l, v, &gap)) < 0)
                        return r;
                if (gap < 0 || gap > RULES_MAX_GAP || gap != (unsigned)gap)
                        return node_error(l, v, "gap must be a whole number 0..%d", RULES_MAX_GAP);
        }

        yaml_node_t *phrase = mapping_get(l, n, "phrase"), *phrases = mapping_get(l, n, "phrases"),
                    *signal = mapping_get(l, n, "signal");
        if (!!phrase + !!phrases + !!signal != 1)
                return node_error(l, n, "a rule needs exactly one of phrase, phrases, signal");
        if (rs->n_rules >= RULES_MAX_RULES)
                return node_error(l, n, "more than %d rules", RULES_MAX_RULES);

        if (signal) {
                const char *s = scalar(signal);
                int sig = s ? signal_from_string(s) : -ENOENT;
                if (sig < 0)
                        return node_error(l, signal, "unknown signal \"%s\"", strempty(s));
                r = rule_push(rs, RULE_SIGNAL, category, weight, veto, s, origin);
                if (r < 0)
                        return r;
                rs->rules[r].signal = (enum rule_signal)sig;
                rs->rules[r].sure = sure;
                return 0;
        }

        struct strbuf source = {0};
        const yaml_node_t *list[256];
        size_t n_list = 0;
        if (phrase) {
                list[n_list++] = phrase;
        } else {
                if (phrases->type != YAML_SEQUENCE_NODE)
                        return node_error(l, phrases, "phrases must be a list of strings");
                for (yaml_node_item_t *i = phrases->data.sequence.items.start;
                     i < phrases->data.sequence.items.top; i++) {
                        if (n_list >= ELEMENTSOF(list))
                                return node_error(l, phrases, "more than %zu phrases in a rule",
                                                  ELEMENTSOF(list));
                        list[n_list++] = node_get(l, *i);
                }
                if (n_list == 0)
                        return node_error(l, phrases, "empty list of phrases");
        }
        for (size_t i = 0; i < n_list; i++) {
                const char *s = scalar(list[i]);
                if (!s) {
                        strbuf_done(&source);
                        return node_error(l, list[i], "a phrase must be a string");
                }
                if ((i > 0 && strbuf_puts(&source, " | ") < 0) || strbuf_puts(&source, s) < 0) {
                        strbuf_done(&source);
                        return -ENOMEM;
                }
        }
        int rule = rule_push(rs, RULE_PHRASE, category, weight, veto, source.buf, origin);
        strbuf_done(&source);
        if (rule < 0)
                return rule;
        rs->rules[rule].sure = sure;
        for (size_t i = 0; i < n_list; i++) {
                char where[512];
                node_origin(l, list[i], where, sizeof(where));
                r = compile_phrase(rs, (unsigned)rule, scalar(list[i]), (unsigned)gap,
                                   unless_negated, where, l->error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_rule_block(struct loader *l, int category, const yaml_node_t *n, const char *what)
{
        static const char *const keys[] = {"threshold",   "miss_cost", "unless_negated",
                                           "description", "rules",     NULL};
        int r = check_mapping(l, n, what, keys);
        if (r < 0)
                return r;
        yaml_node_t *v;
        bool unless_negated = false;
        if ((v = mapping_get(l, n, "threshold"))) {
                double th;
                if ((r = parse_number(l, v, &th)) < 0)
                        return r;
                if (th <= 0)
                        return node_error(l, v, "threshold must be above 0");
                if (category == RULE_CATEGORY_RESCHEDULE)
                        l->rs->reschedule_threshold = th;
                else
                        l->rs->thresholds[category] = th;
        }
        if ((v = mapping_get(l, n, "miss_cost"))) {
                double cost;
                if ((r = parse_number(l, v, &cost)) < 0)
                        return r;
                if (category == RULE_CATEGORY_RESCHEDULE)
                        return node_error(l, v, "miss_cost is for categories, not reschedule");
                if (!(cost >= 0.1 && cost <= 10))
                        return node_error(l, v, "miss_cost must be between 0.1 and 10");
                l->rs->miss_costs[category] = cost;
        }
        if ((v = mapping_get(l, n, "unless_negated")) &&
            (r = parse_bool(l, v, &unless_negated)) < 0)
                return r;
        v = mapping_get(l, n, "rules");
        if (!v)
                return 0;
        if (v->type != YAML_SEQUENCE_NODE)
                return node_error(l, v, "rules must be a list");
        for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
             i++) {
                if (l->visits > 1000000)
                        return node_error(l, v, "too many nodes (aliases?)");
                r = load_rule(l, category, node_get(l, *i), unless_negated);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Reads "words:": each class's words are normalised, stemmed and deduplicated here, once, and
 * phrases copy the forms. */
static int load_words(struct loader *l, const yaml_node_t *n)
{
        struct ruleset *rs = l->rs;
        int r = check_mapping(l, n, "words", NULL);
        if (r < 0)
                return r;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = node_get(l, p->key), *v = node_get(l, p->value);
                _cleanup_(strbuf_done) struct strbuf def = {0};
                if (scalar(v)) {
                        r = strbuf_puts(&def, scalar(v));
                } else if (v->type == YAML_SEQUENCE_NODE) {
                        r = 0;
                        for (yaml_node_item_t *i = v->data.sequence.items.start;
                             r >= 0 && i < v->data.sequence.items.top; i++) {
                                const char *w = scalar(node_get(l, *i));
                                if (!w)
                                        return node_error(l, v, "a word class lists words");
                                r = strbuf_puts(&def, w);
                                if (r >= 0)
                                        r = strbuf_puts(&def, " ");
                        }
                } else {
                        return node_error(l, v, "a word class is a string or a list of words");
                }
                if (r < 0)
                        return r;
                size_t n_words = 0;
                for (const char *w = strempty(def.buf); *w; n_words++) {
                        w += strspn(w, " \t\n");
                        if (!*w)
                                break;
                        w += strcspn(w, " \t\n");
                }
                if (n_words == 0)
                        return node_error(l, v, "empty word class");
                if (n_words > RULES_MAX_CLASS_WORDS)
                        return node_error(l, v, "word class with more than %d words",
                                          RULES_MAX_CLASS_WORDS);

                if (!greedy_realloc((void **)&rs->classes, &rs->allocated_classes,
                                    rs->n_classes + 1, sizeof(struct word_class)))
                        return -ENOMEM;
                char *name = strdup(scalar(k));
                if (!name)
                        return -ENOMEM;
                rs->classes[rs->n_classes++] = (struct word_class){
                        .name = name, .first_atom = (uint32_t)rs->n_class_atoms};

                char origin[512];
                node_origin(l, v, origin, sizeof(origin));
                forms_begin(rs);
                char *save = NULL;
                for (char *w = strtok_r(def.buf, " \t\n", &save); w;
                     w = strtok_r(NULL, " \t\n", &save)) {
                        r = compile_alternatives(rs, w, true, origin, l->error);
                        if (r < 0)
                                return r;
                }
        }
        qsort(rs->classes, rs->n_classes, sizeof(struct word_class), class_compare);
        return 0;
}

/* libyaml 0.2.5 has no depth limit and expands aliases: scan events first and refuse files that
 * nest too deeply or use many aliases, before building a document. */
static int prescan(const char *file, const char *buf, size_t len, char **ret_error)
{
        yaml_parser_t parser;
        yaml_event_t ev;
        unsigned depth = 0, aliases = 0, nodes = 0;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        for (;;) {
                if (!yaml_parser_parse(&parser, &ev)) {
                        r = set_error(ret_error, "%s:%zu:%zu: %s", file,
                                      parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                      parser.problem ? parser.problem : "syntax error");
                        break;
                }
                yaml_event_type_t type = ev.type;
                yaml_mark_t mark = ev.start_mark;
                yaml_event_delete(&ev);
                if ((type == YAML_SCALAR_EVENT || type == YAML_SEQUENCE_START_EVENT ||
                     type == YAML_MAPPING_START_EVENT || type == YAML_ALIAS_EVENT) &&
                    ++nodes > RULES_MAX_NODES) {
                        r = set_error(ret_error,
                                      "%s:%zu:%zu: more than %d YAML nodes (values, lists, "
                                      "mappings)",
                                      file, mark.line + 1, mark.column + 1, RULES_MAX_NODES);
                        break;
                }
                if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
                        if (++depth > RULES_MAX_DEPTH) {
                                r = set_error(ret_error, "%s:%zu:%zu: nested too deeply", file,
                                              mark.line + 1, mark.column + 1);
                                break;
                        }
                } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
                        depth--;
                } else if (type == YAML_ALIAS_EVENT) {
                        if (++aliases > RULES_MAX_ALIASES) {
                                r = set_error(ret_error, "%s:%zu:%zu: too many aliases", file,
                                              mark.line + 1, mark.column + 1);
                                break;
                        }
                } else if (type == YAML_STREAM_END_EVENT) {
                        break;
                }
        }
        yaml_parser_delete(&parser);
        return r;
}

int ruleset_load_string(struct ruleset *rs, const char *file, const char *buf, size_t len,
                        char **ret_error)
{
        static const char *const top_keys[] = {"version", "words", "categories", "reschedule",
                                               NULL};
        struct loader l = {.rs = rs, .file = file, .error = ret_error};
        yaml_parser_t parser;
        int r;

        if (len > RULES_MAX_FILE_SIZE)
                return set_error(ret_error, "%s:1:1: larger than %u bytes", file,
                                 RULES_MAX_FILE_SIZE);
        r = prescan(file, buf, len, ret_error);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        if (!yaml_parser_load(&parser, &l.doc)) {
                r = set_error(ret_error, "%s:%zu:%zu: %s", file, parser.problem_mark.line + 1,
                              parser.problem_mark.column + 1,
                              parser.problem ? parser.problem : "syntax error");
                yaml_parser_delete(&parser);
                return r;
        }
        yaml_parser_delete(&parser);

        yaml_node_t *root = yaml_document_get_root_node(&l.doc);
        if (!root) {
                r = set_error(ret_error, "%s:1:1: empty rules file", file);
                goto finish;
        }
        r = check_mapping(&l, root, "the rules file", top_keys);
        if (r < 0)
                goto finish;
        yaml_node_t *v = mapping_get(&l, root, "version");
        if (v && !streq_ptr(scalar(v), "1")) {
                r = node_error(&l, v, "unsupported rules version (this govwatch reads 1)");
                goto finish;
        }
        if ((v = mapping_get(&l, root, "words")) && (r = load_words(&l, v)) < 0)
                goto finish;
        if ((v = mapping_get(&l, root, "categories"))) {
                r = check_mapping(&l, v, "categories", NULL);
                if (r < 0)
                        goto finish;
                for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
                     p < v->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = node_get(&l, p->key);
                        int c = ruleset_category(rs, scalar(k), true);
                        if (c < 0) {
                                r = node_error(&l, k, "more than %d categories", CATEGORY_MAX);
                                goto finish;
                        }
                        r = load_rule_block(&l, c, node_get(&l, p->value), "a category");
                        if (r < 0)
                                goto finish;
                }
        }
        if ((v = mapping_get(&l, root, "reschedule")) &&
            (r = load_rule_block(&l, RULE_CATEGORY_RESCHEDULE, v, "reschedule")) < 0)
                goto finish;
        r = 0;
finish:
        yaml_document_delete(&l.doc);
        return r;
}

int ruleset_load_file(struct ruleset *rs, const char *path, char **ret_error)
{
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r = read_full_file(path, RULES_MAX_FILE_SIZE, false, &buf, &size);
        if (r == -EFBIG)
                return set_error(ret_error, "%s:1:1: larger than %u bytes", path,
                                 RULES_MAX_FILE_SIZE);
        if (r < 0) {
                set_error(ret_error, "%s: %s", path, strerror(-r));
                return r;
        }
        return ruleset_load_string(rs, path, buf, size, ret_error);
}
