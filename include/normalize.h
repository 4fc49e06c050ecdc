/* normalize.h — Russian text as the classifier reads it: repaired, folded, tokenised, stemmed.
 *
 * Pure: no I/O, no logging. A normalizer owns a Snowball stemmer and scratch buffers, so it is
 * not thread-safe: one per thread (the daemon has one thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum token_kind {
        TOKEN_WORD = 1, /* letters (Cyrillic, Latin, ...), folded, ё -> е */
        TOKEN_NUMBER,   /* ASCII digits */
        TOKEN_PUNCT,    /* one of : . , ; - – — ( ) / | ! ? № + … (dashes are all "-") */
};

enum {
        TOKEN_NEGATED = 1 << 0,      /* a word right after "не" or "ни" */
        TOKEN_HASHTAG = 1 << 1,      /* came from a #hashtag */
        TOKEN_SPACE_BEFORE = 1 << 2, /* whitespace (or a dropped character) precedes it */
};

struct token {
        uint32_t off; /* into tokens.text */
        uint32_t len;
        uint32_t stem_off; /* into tokens.stems; words only */
        uint32_t stem_len;
        uint32_t sentence; /* grows at . ! ? line breaks and between segments */
        uint16_t segment;  /* which normalizer_add() call produced it */
        uint8_t kind;
        uint8_t flags;
};

struct tokens {
        struct strbuf text;  /* token texts, each NUL-terminated */
        struct strbuf stems; /* stems, each NUL-terminated */
        struct token *v;
        size_t n;
        size_t allocated;
        uint32_t sentence;
        uint16_t segment;
};

/* Empties the list and keeps its memory for the next post. */
void tokens_reset(struct tokens *t);
void tokens_done(struct tokens *t);

static inline const char *token_text(const struct tokens *t, const struct token *k)
{
        return t->text.buf + k->off;
}
static inline const char *token_stem(const struct tokens *t, const struct token *k)
{
        return t->stems.buf + k->stem_off;
}
static inline bool token_is(const struct tokens *t, const struct token *k, const char *s)
{
        size_t n = strlen(s); /* a literal's is known at compile time, and most words differ */
        return k->len == n && memcmp(token_text(t, k), s, n) == 0;
}
static inline bool token_is_punct(const struct tokens *t, const struct token *k, char c)
{
        return k->kind == TOKEN_PUNCT && t->text.buf[k->off] == c;
}

struct normalizer;

/* stem=false skips stemming (the time parser needs no stems). */
int normalizer_new(bool stem, struct normalizer **ret);
struct normalizer *normalizer_free(struct normalizer *nz);
static inline void normalizer_freep(struct normalizer **nz)
{
        *nz = normalizer_free(*nz);
}

/* Appends the tokens of one piece of text (a post's text, a video title, ...) as a new segment.
 * Any bytes are accepted: invalid UTF-8 is replaced, never trusted. Links are dropped, mentions
 * [club1|Name] keep their name, #ХэшТеги are split into words, emoji and U+2800 spacers are
 * separators. */
int normalizer_add(struct normalizer *nz, const char *s, size_t len, struct tokens *t);

/* For tests: how many code points the link stripping has read so far, in all calls. It is
 * linear in the text (at most 5 per code point): a hostile text cannot make it rescan. */
size_t normalizer_link_steps(const struct normalizer *nz);

/* Stem of one folded word; the result lives until the next call. */
const char *normalizer_stem(struct normalizer *nz, const char *word, size_t len, size_t *ret_len);

/* Frees the cache of recent words' stems, for a normalizer done with its bulk of words (the
 * rules' phrases); the next normalizer_stem() makes a new one. */
void normalizer_drop_stems(struct normalizer *nz);

/* Folds one word (or phrase) the way tokens are folded: lower case, NFC, ё -> е. */
int normalize_word(const char *s, size_t len, char **ret);

/* The tokens of s joined by single spaces: what the classifier "reads". For tests and --explain. */
int normalize_string(struct normalizer *nz, const char *s, size_t len, char **ret);
