/* rules.c — loads the classifier's rules from YAML and compiles them for matching.
 *
 * Owns the rule file format (see rules.h for the phrase language), its error messages (every
 * error of a file at once, in the file's order, one "FILE:LINE:COL: message" a line), and the
 * compiled form: phrase words become "atoms" (a stem, an exact form, a prefix) in one hash table,
 * and each atom lists the phrases that start with it, so matching a post costs a few hash lookups
 * a word. The file is read once, never per post. The YAML is read by yaml_tree.c, as the config
 * is: the same caps on size, values, depth and aliases, duplicate keys refused, the same readers.
 * Loading runs on the daemon's loop (start, reload, check-config), so every step is bounded:
 * the YAML tree's values and bytes (yaml_tree.h), the words folded and stemmed (once each: a
 * word class is compiled when it is read, and phrases copy its forms), the forms phrases expand to
 * (deduplicated by a mark per atom, not by scanning), and the phrases one form starts (each is
 * tried at every post word that has the form). Measured in Release (bench/hostile.c and files
 * built at each cap) under the file's former caps of 512 KiB and 16,384 values: the worst file
 * loaded in about 15 ms, the shipped one in 1.4 ms. The shared caps let a file hold up to 100,000
 * values (about 0.2 us each in the tree, yaml_tree.h): not measured again yet.
 */
#define _GNU_SOURCE           1 /* vasprintf */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <limits.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>

#include "classify.h"
#include "rules.h"
#include "yaml_tree.h"

#define RULES_MAX_GAP   20
#define RULES_MAX_ITEMS 16
/* Work bounds (rules.h has the ones the config shares, yaml_tree.h the YAML file's): a word class
 * is compiled once, when it is read, and its forms are then copied into every phrase that names
 * it (RULES_MAX_WORD_FORMS caps the copies). */
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

/* FNV-1a 64 of the kind and the text. It is sequential, so the hashes of a word's prefixes come
 * one from the other (ruleset_token_atoms). */
static uint64_t atom_hash_more(uint64_t h, const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
        return h;
}

static uint64_t atom_hash(char kind, const char *s, size_t len)
{
        uint64_t h = atom_hash_more(UINT64_C(1469598103934665603), &kind, 1);
        return atom_hash_more(h, s, len);
}

static uint32_t atom_find_hashed(const struct ruleset *rs, uint64_t h, char kind, const char *s,
                                 size_t len)
{
        if (rs->n_slots == 0)
                return UINT32_MAX;
        for (size_t i = h & (rs->n_slots - 1);; i = (i + 1) & (rs->n_slots - 1)) {
                const struct atom_slot *sl = &rs->slots[i];
                if (sl->id == UINT32_MAX)
                        return UINT32_MAX;
                if (sl->hash == h && sl->len == len && rs->atom_text.buf[sl->off] == kind &&
                    memcmp(rs->atom_text.buf + sl->off + 1, s, len) == 0)
                        return sl->id;
        }
}

static uint32_t atom_find(const struct ruleset *rs, char kind, const char *s, size_t len)
{
        return atom_find_hashed(rs, atom_hash(kind, s, len), kind, s, len);
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
                uint64_t h = atom_hash('p', text, 0); /* of text's first `hashed` bytes */
                size_t hashed = 0;
                while (lengths && nf < ELEMENTSOF(found)) {
                        unsigned l = (unsigned)__builtin_ctzll(lengths);
                        lengths &= lengths - 1;
                        if (l < k->len && ((unsigned char)text[l] & 0xc0) == 0x80)
                                continue; /* not a character boundary */
                        h = atom_hash_more(h, text + hashed, l - hashed);
                        hashed = l;
                        id = atom_find_hashed(rs, h, 'p', text, l);
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
        normalizer_drop_stems(rs->nz); /* the phrases are read: its cache would only hold memory */
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

/* The file comes as yaml_tree.c's tree, with its caps applied and duplicate keys refused. Every
 * function below reports what is wrong and returns -EINVAL, and its caller goes on with the next
 * rule, class or category, so that one load lists every error; another negative errno (memory)
 * ends the load. */

#define RULES_MAX_RULE_PHRASES 256 /* phrases listed in one rule */

struct loader {
        struct ruleset *rs;
        const char *file;
        struct yaml_report report;
        bool stop; /* a cap of the whole ruleset was hit: every later rule would be refused too */
};

struct rule_options {
        double weight;
        double gap;
        bool veto, sure, unless_negated;
};

static int node_error(struct loader *l, const struct node *n, const char *fmt, ...) _printf_(3, 4);
static int node_error(struct loader *l, const struct node *n, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        yaml_report_errorv(&l->report, mark_of(n), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Whether one function's result joins the load's: -EINVAL was reported, and the load goes on. */
static int keep_going(int r, int *bad)
{
        if (r == -EINVAL)
                *bad = r;
        return r < 0 && r != -EINVAL ? r : 0;
}

static void node_origin(struct loader *l, const struct node *n, char *buf, size_t size)
{
        snprintf(buf, size, "%s:%u:%u", l->file, n->mark.line, n->mark.column);
}

static const char *scalar(const struct node *n)
{
        return n && n->kind == NODE_SCALAR ? n->scalar : NULL;
}

/* A cap of the whole ruleset: once reached, each later phrase or rule would be refused with the
 * same message, so loading stops at the first. */
static bool ruleset_full(const struct ruleset *rs)
{
        return rs->n_rules >= RULES_MAX_RULES || rs->n_phrases >= RULES_MAX_PHRASES ||
               rs->n_words >= RULES_MAX_WORDS || rs->n_item_atoms >= RULES_MAX_WORD_FORMS;
}

/* compile_phrase() and compile_alternatives() say "ORIGIN: message", as ruleset_add_phrase() does
 * for the config's phrases; in the file the origin is n's mark, where the error list puts it. */
static int compile_error(struct loader *l, const struct node *n, const char *origin, int r,
                         char *error)
{
        _cleanup_free_ char *e = error;
        if (r >= 0 || r != -EINVAL)
                return r;
        if (!e) {
                l->report.oom = true;
                return -ENOMEM;
        }
        const char *msg = startswith(e, origin);
        msg = msg && startswith(msg, ": ") ? msg + 2 : e;
        if (ruleset_full(l->rs))
                l->stop = true;
        return node_error(l, n, "%s", msg);
}

static int read_number(struct loader *l, const struct node *n, double *ret)
{
        const char *s = scalar(n);
        double d;
        if (!s)
                return node_error(l, n, "expected a number");
        if (parse_double(s, &d) < 0 || fabs(d) > 1e6)
                return node_error(l, n, "expected a number, got \"%s\"", s);
        *ret = d;
        return 0;
}

static int read_bool(struct loader *l, const struct node *n, bool *ret)
{
        const char *s = scalar(n);
        if (!s || parse_bool(s, ret) < 0)
                return node_error(l, n, "expected true or false");
        return 0;
}

/* Reports the keys of n not in allowed (NULL: any key is). -EINVAL when n is not a mapping, else
 * the number of unknown keys. */
static int check_mapping(struct loader *l, const struct node *n, const char *what,
                         const char *const *allowed)
{
        int unknown = 0;
        if (!n || n->kind != NODE_MAPPING)
                return node_error(l, n, "%s must be a mapping", what);
        for (size_t i = 0; allowed && i + 1 < n->n_items; i += 2) {
                const struct node *k = n->items[i];
                bool ok = k->ignored; /* the tree reported it */
                for (size_t j = 0; allowed[j] && !ok; j++)
                        ok = streq(allowed[j], k->scalar);
                if (!ok) {
                        node_error(l, k, "unknown key \"%s\" in %s", k->scalar, what);
                        unknown++;
                }
        }
        return unknown;
}

static int read_rule_options(struct loader *l, const struct node *n, struct rule_options *o)
{
        const struct node *v;
        int bad = 0;

        if ((v = map_get(n, "weight", NULL)))
                keep_going(read_number(l, v, &o->weight), &bad);
        if ((v = map_get(n, "veto", NULL)))
                keep_going(read_bool(l, v, &o->veto), &bad);
        if ((v = map_get(n, "sure", NULL)))
                keep_going(read_bool(l, v, &o->sure), &bad);
        if (o->sure && (o->veto || o->weight <= 0))
                bad = node_error(l, n,
                                 "a sure rule assigns its category: it needs a positive "
                                 "weight and no veto");
        if ((v = map_get(n, "unless_negated", NULL)))
                keep_going(read_bool(l, v, &o->unless_negated), &bad);
        if ((v = map_get(n, "gap", NULL))) {
                double gap = 0;
                if (read_number(l, v, &gap) < 0)
                        bad = -EINVAL;
                else if (gap < 0 || gap > RULES_MAX_GAP || gap != (unsigned)gap)
                        bad = node_error(l, v, "gap must be a whole number 0..%d", RULES_MAX_GAP);
                else
                        o->gap = gap;
        }
        return bad;
}

static int load_signal_rule(struct loader *l, int category, const struct node *signal,
                            const struct rule_options *o, const char *origin)
{
        struct ruleset *rs = l->rs;
        const char *s = scalar(signal);
        int sig = s ? signal_from_string(s) : -ENOENT;
        if (sig < 0)
                return node_error(l, signal, "unknown signal \"%s\"", strempty(s));
        int r = rule_push(rs, RULE_SIGNAL, category, o->weight, o->veto, s, origin);
        if (r < 0)
                return r;
        rs->rules[r].signal = (enum rule_signal)sig;
        rs->rules[r].sure = o->sure;
        return 0;
}

/* The list of a rule's "phrases:". */
static int rule_phrase_list(struct loader *l, const struct node *phrases,
                            const struct node *const **ret, size_t *ret_n)
{
        if (phrases->kind != NODE_SEQUENCE)
                return node_error(l, phrases, "phrases must be a list of strings");
        if (phrases->n_items > RULES_MAX_RULE_PHRASES)
                return node_error(l, phrases, "more than %d phrases in a rule",
                                  RULES_MAX_RULE_PHRASES);
        if (phrases->n_items == 0)
                return node_error(l, phrases, "empty list of phrases");
        *ret = (const struct node *const *)phrases->items;
        *ret_n = phrases->n_items;
        return 0;
}

/* The rule's source for --explain: its phrases as written, "a | b". */
static int rule_source(struct loader *l, const struct node *const *list, size_t n_list,
                       struct strbuf *ret, int *bad)
{
        size_t n = 0;
        for (size_t i = 0; i < n_list; i++) {
                const char *s = scalar(list[i]);
                if (!s) {
                        *bad = node_error(l, list[i], "a phrase must be a string");
                        continue;
                }
                if ((n++ > 0 && strbuf_puts(ret, " | ") < 0) || strbuf_puts(ret, s) < 0)
                        return -ENOMEM;
        }
        return (int)n;
}

static int load_phrase_rule(struct loader *l, int category, const struct node *phrase,
                            const struct node *phrases, const struct rule_options *o,
                            const char *origin)
{
        struct ruleset *rs = l->rs;
        _cleanup_(strbuf_done) struct strbuf source = {0};
        const struct node *const *list = &phrase;
        size_t n_list = 1;
        int bad = 0, r;

        if (!phrase && (r = rule_phrase_list(l, phrases, &list, &n_list)) < 0)
                return r;
        r = rule_source(l, list, n_list, &source, &bad);
        if (r <= 0)
                return r < 0 ? r : bad;
        int rule = rule_push(rs, RULE_PHRASE, category, o->weight, o->veto, source.buf, origin);
        if (rule < 0)
                return rule;
        rs->rules[rule].sure = o->sure;
        for (size_t i = 0; i < n_list && !l->stop; i++) {
                char where[512], *error = NULL;
                if (!scalar(list[i]))
                        continue;
                node_origin(l, list[i], where, sizeof(where));
                r = compile_phrase(rs, (unsigned)rule, list[i]->scalar, (unsigned)o->gap,
                                   o->unless_negated, where, &error);
                r = keep_going(compile_error(l, list[i], where, r, error), &bad);
                if (r < 0)
                        return r;
        }
        return bad;
}

static int load_rule(struct loader *l, int category, const struct node *n, bool unless_negated)
{
        static const char *const keys[] = {"phrase", "phrases", "signal",         "weight", "veto",
                                           "sure",   "gap",     "unless_negated", "note",   NULL};
        struct rule_options o = {.weight = 1.0, .unless_negated = unless_negated};
        char origin[512];
        int bad = 0, r;

        r = check_mapping(l, n, "a rule", keys);
        if (r < 0)
                return r;
        if (r > 0)
                bad = -EINVAL;
        node_origin(l, n, origin, sizeof(origin));
        keep_going(read_rule_options(l, n, &o), &bad);

        const struct node *phrase = map_get(n, "phrase", NULL),
                          *phrases = map_get(n, "phrases", NULL),
                          *signal = map_get(n, "signal", NULL);
        if (!!phrase + !!phrases + !!signal != 1)
                return node_error(l, n, "a rule needs exactly one of phrase, phrases, signal");
        if (l->rs->n_rules >= RULES_MAX_RULES) {
                l->stop = true;
                return node_error(l, n, "more than %d rules", RULES_MAX_RULES);
        }
        if (signal)
                r = load_signal_rule(l, category, signal, &o, origin);
        else
                r = load_phrase_rule(l, category, phrase, phrases, &o, origin);
        return r < 0 ? r : bad;
}

/* A category's (or reschedule's) threshold and miss_cost. */
static int load_block_numbers(struct loader *l, int category, const struct node *n)
{
        const struct node *v;
        int bad = 0;
        double th = 0, cost = 0; /* set before use; GCC -O3 cannot tell */

        if ((v = map_get(n, "threshold", NULL))) {
                if (read_number(l, v, &th) < 0)
                        bad = -EINVAL;
                else if (th <= 0)
                        bad = node_error(l, v, "threshold must be above 0");
                else if (category == RULE_CATEGORY_RESCHEDULE)
                        l->rs->reschedule_threshold = th;
                else
                        l->rs->thresholds[category] = th;
        }
        if ((v = map_get(n, "miss_cost", NULL))) {
                if (read_number(l, v, &cost) < 0)
                        bad = -EINVAL;
                else if (category == RULE_CATEGORY_RESCHEDULE)
                        bad = node_error(l, v, "miss_cost is for categories, not reschedule");
                else if (!(cost >= 0.1 && cost <= 10))
                        bad = node_error(l, v, "miss_cost must be between 0.1 and 10");
                else
                        l->rs->miss_costs[category] = cost;
        }
        return bad;
}

static int load_rule_block(struct loader *l, int category, const struct node *n, const char *what)
{
        static const char *const keys[] = {"threshold",   "miss_cost", "unless_negated",
                                           "description", "rules",     NULL};
        const struct node *v;
        bool unless_negated = false;
        int bad = 0;

        int r = check_mapping(l, n, what, keys);
        if (r < 0)
                return r;
        if (r > 0)
                bad = -EINVAL;
        keep_going(load_block_numbers(l, category, n), &bad);
        if ((v = map_get(n, "unless_negated", NULL)))
                keep_going(read_bool(l, v, &unless_negated), &bad);
        v = map_get(n, "rules", NULL);
        if (!v)
                return bad;
        if (v->kind != NODE_SEQUENCE)
                return node_error(l, v, "rules must be a list");
        for (size_t i = 0; i < v->n_items && !l->stop; i++) {
                r = keep_going(load_rule(l, category, v->items[i], unless_negated), &bad);
                if (r < 0)
                        return r;
        }
        return bad;
}

/* A word class's definition, a string or a list of words, as one string of words. */
static int class_words(struct loader *l, const struct node *v, struct strbuf *ret)
{
        if (scalar(v))
                return strbuf_puts(ret, v->scalar);
        if (v->kind != NODE_SEQUENCE)
                return node_error(l, v, "a word class is a string or a list of words");
        for (size_t i = 0; i < v->n_items; i++) {
                const char *w = scalar(v->items[i]);
                if (!w)
                        return node_error(l, v, "a word class lists words");
                int r = strbuf_puts(ret, w);
                if (r >= 0)
                        r = strbuf_puts(ret, " ");
                if (r < 0)
                        return r;
        }
        return 0;
}

static size_t count_words(const char *s)
{
        size_t n = 0;
        for (;; n++) {
                s += strspn(s, " \t\n");
                if (!*s)
                        return n;
                s += strcspn(s, " \t\n");
        }
}

/* One class of "words:". It is named even when its words are wrong, so that the phrases using it
 * are not refused as well. */
static int load_word_class(struct loader *l, const struct node *k, const struct node *v)
{
        struct ruleset *rs = l->rs;
        _cleanup_(strbuf_done) struct strbuf def = {0};
        char origin[512];

        int r = class_words(l, v, &def);
        if (r < 0 && r != -EINVAL)
                return r;
        size_t n_words = r < 0 ? 0 : count_words(strempty(def.buf));
        if (r >= 0 && n_words == 0)
                r = node_error(l, v, "empty word class");
        else if (n_words > RULES_MAX_CLASS_WORDS)
                r = node_error(l, v, "word class with more than %d words", RULES_MAX_CLASS_WORDS);

        if (!greedy_realloc((void **)&rs->classes, &rs->allocated_classes, rs->n_classes + 1,
                            sizeof(struct word_class)))
                return -ENOMEM;
        char *name = strdup(k->scalar);
        if (!name)
                return -ENOMEM;
        rs->classes[rs->n_classes++] =
                (struct word_class){.name = name, .first_atom = (uint32_t)rs->n_class_atoms};
        if (r < 0)
                return r;

        node_origin(l, v, origin, sizeof(origin));
        forms_begin(rs);
        char *save = NULL;
        for (char *w = strtok_r(def.buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                char *error = NULL;
                r = compile_alternatives(rs, w, true, origin, &error);
                r = compile_error(l, v, origin, r, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Reads "words:": each class's words are normalised, stemmed and deduplicated here, once, and
 * phrases copy the forms. */
static int load_words(struct loader *l, const struct node *n)
{
        struct ruleset *rs = l->rs;
        int bad = 0;

        int r = check_mapping(l, n, "words", NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i + 1 < n->n_items && !l->stop; i += 2) {
                if (n->items[i]->ignored)
                        continue;
                r = keep_going(load_word_class(l, n->items[i], n->items[i + 1]), &bad);
                if (r < 0)
                        return r;
        }
        qsort(rs->classes, rs->n_classes, sizeof(struct word_class), class_compare);
        return bad;
}

static int load_categories(struct loader *l, const struct node *n)
{
        int bad = 0;

        int r = check_mapping(l, n, "categories", NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i + 1 < n->n_items && !l->stop; i += 2) {
                const struct node *k = n->items[i];
                if (k->ignored)
                        continue;
                int c = ruleset_category(l->rs, k->scalar, true);
                if (c == -ENOMEM)
                        return c;
                if (c < 0)
                        return node_error(l, k, "more than %d categories", CATEGORY_MAX);
                r = keep_going(load_rule_block(l, c, n->items[i + 1], "a category"), &bad);
                if (r < 0)
                        return r;
        }
        return bad;
}

static int load_root(struct loader *l, const struct node *root)
{
        static const char *const top_keys[] = {"version", "words", "categories", "reschedule",
                                               NULL};
        const struct node *v;
        int bad = 0, r;

        if (!root)
                return node_error(l, NULL, "empty rules file");
        r = check_mapping(l, root, "the rules file", top_keys);
        if (r < 0)
                return r;
        v = map_get(root, "version", NULL);
        /* a later format would be misread: what else is wrong in it is not worth a list */
        if (v && !streq_ptr(scalar(v), "1"))
                return node_error(l, v, "unsupported rules version (this govwatch reads 1)");
        if ((v = map_get(root, "words", NULL)) && (r = keep_going(load_words(l, v), &bad)) < 0)
                return r;
        if ((v = map_get(root, "categories", NULL)) &&
            (r = keep_going(load_categories(l, v), &bad)) < 0)
                return r;
        if ((v = map_get(root, "reschedule", NULL)) && !l->stop &&
            (r = keep_going(load_rule_block(l, RULE_CATEGORY_RESCHEDULE, v, "reschedule"), &bad)) <
                    0)
                return r;
        return bad;
}

int ruleset_load_string(struct ruleset *rs, const char *file, const char *buf, size_t len,
                        char **ret_error)
{
        struct config_errors errors = {0};
        struct loader l = {.rs = rs, .file = file, .report = {.errors = &errors}};
        _cleanup_(node_freep) struct node *root = NULL;
        int r;

        if (len > YAML_TREE_MAX_SIZE)
                r = node_error(&l, NULL, "larger than %d bytes", YAML_TREE_MAX_SIZE);
        else {
                r = yaml_tree_build(&l.report, buf, len, "the rules file", &root);
                if (r >= 0)
                        r = load_root(&l, root);
        }
        /* every error, sorted by position, one "FILE:LINE:COL: message" a line */
        int k = yaml_report_finish(&l.report);
        if (k < 0 && ret_error) {
                free(*ret_error);
                *ret_error = NULL;
                if (config_errors_join(&errors, file, ret_error) < 0)
                        k = -ENOMEM;
        }
        config_errors_done(&errors);
        if (r < 0 && r != -EINVAL)
                return r;
        return k < 0 ? k : r;
}

int ruleset_load_file(struct ruleset *rs, const char *path, char **ret_error)
{
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r = read_full_file(path, YAML_TREE_MAX_SIZE, false, &buf, &size);
        if (r == -EFBIG)
                return set_error(ret_error, "%s:1:1: larger than %d bytes", path,
                                 YAML_TREE_MAX_SIZE);
        if (r < 0) {
                set_error(ret_error, "%s: %s", path, strerror(-r));
                return r;
        }
        return ruleset_load_string(rs, path, buf, size, ret_error);
}
