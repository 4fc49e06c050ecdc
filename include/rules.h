/* rules.h — the classifier's rules, loaded from YAML and compiled for fast matching.
 *
 * The rule file (data/rules.yaml) is data: categories with a threshold and weighted rules. A rule
 * is a phrase (or a list of synonymous phrases, counted once), an attachment/time signal, or (from
 * a user's config) a PCRE2 regex. Phrase language, word by word:
 *   слово        any form of the word (Snowball stem): "прямая" matches "прямую", "прямой"
 *   =слово       exactly this form (tense matters: "=состоялся" but not "состоится")
 *   слов*        any word starting so ("отключ*": отключение, отключат, отключено)
 *   #            any number
 *   @class       any word of a class defined under "words:"
 *   a|b|=c       alternatives
 *   ~N           up to N other words may stand before the next word (phrase "gap:" sets a default)
 * A phrase matches inside one sentence. With unless_negated, a word right after "не"/"ни" does not
 * match unless the phrase itself says "не" there.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "normalize.h"

enum rule_kind {
        RULE_PHRASE,
        RULE_SIGNAL,
        RULE_REGEX,
};

/* Facts about a post that rules can test (signal: NAME). */
enum rule_signal {
        SIGNAL_VIDEO_LIVE,     /* live video going on now (live: 1, not finished/failed/upcoming) */
        SIGNAL_VIDEO_UPCOMING, /* announced live video (upcoming: 1 or live_start_time ahead) */
        SIGNAL_VIDEO_FINISHED, /* live video that has finished or failed */
        SIGNAL_VIDEO,          /* any other video */
        SIGNAL_POLL_OPEN,
        SIGNAL_POLL_CLOSED,
        SIGNAL_PHOTO,
        SIGNAL_REPOST,
        SIGNAL_TIME_AHEAD, /* the text names a date/time later than the post's date */
        SIGNAL_TIME_SOON,  /* ... within the next 48 hours */
        _SIGNAL_MAX,
};
const char *rule_signal_to_string(enum rule_signal s);

/* Work bounds shared with the config's classifier section (yaml_tree.h has the YAML file's: size,
 * values, depth, aliases). Folding and stemming a word costs about 0.5 us and 10 ns a byte:
 * RULES_MAX_WORDS and RULES_MAX_WORD_BYTES hold that near 10 ms, aliases and the config's phrases
 * included. "Word forms" are what phrase words stand for once word classes are expanded into every
 * phrase that names them. A word of a post tries every phrase that starts with one of its forms
 * (classify.c): RULES_MAX_STARTS bounds that per form and RULES_MAX_PREFIX_STARTS over the prefix
 * forms of one first letter (all a word's prefixes begin with its letter): a word tries at most 64
 * + 64 + 256 phrases. The shipped rules use 58 rules, 318 phrases, 1,162 words of 17,634 bytes,
 * 2,036 word forms; at most 12 phrases start with one form, 25 to 32 with prefixes of one letter
 * ("п"). */
#define RULES_MAX_RULES         10000        /* rules of a rule file and the config together */
#define RULES_MAX_PHRASES       10000        /* phrases (a rule may list several) */
#define RULES_MAX_WORDS         16384        /* words read, each alternative of a word counted */
#define RULES_MAX_WORD_BYTES    (256 * 1024) /* their bytes */
#define RULES_MAX_WORD_FORMS    65536        /* word forms of all phrases, classes expanded */
#define RULES_MAX_STARTS        64           /* phrases starting with one form */
#define RULES_MAX_PREFIX_STARTS 256          /* ... with prefixes of one first letter */
#define RULES_MAX_PHRASE_BYTES  1024         /* one phrase as written */
#define RULES_MAX_PATTERN_BYTES 1024         /* one regex as written */

#define RULE_CATEGORY_RESCHEDULE (-1) /* the rules of the "reschedule" flag, not a category */

struct rule {
        enum rule_kind kind;
        int category; /* index, or RULE_CATEGORY_RESCHEDULE */
        double weight;
        bool veto;        /* a match clears the category whatever the score */
        bool sure;        /* a match assigns the category whatever the model says (no veto
                           * permitting): what LABELS.md defines, and an admin's own phrases */
        bool from_config; /* an admin's phrase, regex or exclusion */
        enum rule_signal signal;
        void *regex;  /* pcre2_code * */
        char *source; /* the phrase(s), signal name or regex as written: for --explain */
        char *origin; /* "FILE:LINE:COL" or "config" */
};

struct rule_item {
        uint32_t first_atom; /* into ruleset.item_atoms: n_atoms distinct ids, ascending once
                              * ruleset_finish() has run (a token's atoms can be searched) */
        uint32_t n_atoms;
        uint16_t gap;       /* words allowed before this item */
        bool allow_negated; /* the phrase says "не" right before it */
};

struct rule_phrase {
        uint32_t first_item; /* into ruleset.items */
        uint32_t n_items;
        uint32_t rule;
        bool unless_negated;
};

struct ruleset {
        char **category_names; /* n_categories, built-ins first */
        double *thresholds;
        double *miss_costs; /* per category: a missed post weighs as many needless ones */
        size_t n_categories;
        double reschedule_threshold;

        struct rule *rules;
        size_t n_rules, allocated_rules;
        struct rule_phrase *phrases;
        size_t n_phrases, allocated_phrases;
        struct rule_item *items;
        size_t n_items, allocated_items;
        uint32_t *item_atoms;
        size_t n_item_atoms, allocated_item_atoms;

        /* atoms: (kind, text) -> id, open addressing */
        struct atom_slot *slots;
        size_t n_slots, n_atoms;
        struct strbuf atom_text;
        uint64_t prefix_lengths; /* bit L: some prefix atom is L bytes long (L < 64) */
        uint32_t number_atom;    /* UINT32_MAX when no rule uses "#" */

        /* atom -> phrases that start with it (built by ruleset_finish) */
        uint32_t *start_index; /* n_atoms + 1 */
        uint32_t *start_phrases;

        /* per atom while compiling: phrases starting with it, and a mark that it is in the
         * item or class being built (deduplication in O(1)) */
        struct atom_info *atom_info;
        size_t allocated_atom_info;
        uint32_t mark;

        /* word classes (@name): each word compiled once, when the class is read */
        struct word_class *classes; /* sorted by name after "words:" is read */
        size_t n_classes, allocated_classes;
        uint32_t *class_atoms;
        size_t n_class_atoms, allocated_class_atoms;

        size_t n_words, n_word_bytes; /* phrase and class words read (RULES_MAX_WORDS) */
        struct normalizer *nz;
        struct tokens scratch; /* a phrase word, folded and stemmed */
        bool has_regex;
};

int ruleset_new(struct ruleset **ret);
struct ruleset *ruleset_free(struct ruleset *rs);

/* Loads a rule file. Errors: -EINVAL with every error found in *ret_error, in the file's order,
 * one "FILE:LINE:COL: message" a line (no newline after the last). */
int ruleset_load_file(struct ruleset *rs, const char *path, char **ret_error);
int ruleset_load_string(struct ruleset *rs, const char *name, const char *buf, size_t len,
                        char **ret_error);

/* Category index by name; creates it when create is true (max 64). */
int ruleset_category(struct ruleset *rs, const char *name, bool create);

/* Adds one rule from elsewhere (the user's config). ret_error as above, origin used as prefix. */
int ruleset_add_phrase(struct ruleset *rs, int category, const char *phrase, double weight,
                       bool veto, bool unless_negated, const char *origin, char **ret_error);
int ruleset_add_regex(struct ruleset *rs, int category, const char *pattern, double weight,
                      const char *origin, char **ret_error);

/* Builds the lookup index; call once after the last add. */
int ruleset_finish(struct ruleset *rs);

/* Appends the ids of the atoms token k matches to *atoms (a growing array). */
int ruleset_token_atoms(const struct ruleset *rs, const struct tokens *t, const struct token *k,
                        uint32_t **atoms, size_t *n, size_t *allocated);
