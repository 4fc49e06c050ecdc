/* normalize.c — turns untrusted post text into the tokens the classifier and time parser read.
 *
 * Owns: UTF-8 repair, NFC (utf8proc, only when combining marks are present: the fast path for
 * ordinary text is a single pass), case folding and ё -> е, the VK markup that is not prose
 * (links, [club1|mentions], @mentions, #CamelCaseHashtags), sentence breaks, negation marks and
 * Snowball stems. Never logs, never trusts a byte: any input yields tokens, never a crash, and
 * in time linear in its length (no step rescans the text: see strip_links).
 */
#include <libstemmer.h>
#include <limits.h>
#include <utf8proc.h>

#include "normalize.h"

/* Stemming is a third of a post's classification, and posts repeat their words: a
 * direct-mapped cache of words and their stems answers most of them without the stemmer. A
 * word lives in one slot, picked by its hash, until another word that hashes there replaces it;
 * a word or stem longer than a slot holds is stemmed every time. */
#define STEM_SLOTS      8192 /* a power of two */
#define STEM_SLOT_BYTES 46

/* Russian Snowball only strips endings: a stem is a prefix of its word, and a slot keeps its
 * length (a word whose stem is not a prefix is not kept). 48 bytes a slot, 384 KiB in all. */
struct stem_slot {
        uint8_t word_len; /* 0: empty */
        uint8_t stem_len;
        char word[STEM_SLOT_BYTES];
};

struct normalizer {
        struct sb_stemmer *stemmer; /* NULL: no stemming */
        struct stem_slot *stems;    /* STEM_SLOTS of them, allocated at the first stem */
        int32_t *cps;               /* code points of the text being read */
        size_t allocated_cps;
        struct strbuf scratch;
        struct strbuf word;
        bool word_lower_short; /* current word was written in lower case, <= 3 letters */
        size_t link_steps;     /* code points strip_links() has read, for tests */
};

void tokens_reset(struct tokens *t)
{
        t->text.len = 0;
        t->stems.len = 0;
        t->n = 0;
        t->sentence = 0;
        t->segment = 0;
}

void tokens_done(struct tokens *t)
{
        strbuf_done(&t->text);
        strbuf_done(&t->stems);
        free(t->v);
        *t = (struct tokens){0};
}

int normalizer_new(bool stem, struct normalizer **ret)
{
        struct normalizer *nz = calloc(1, sizeof(*nz));
        if (!nz)
                return -ENOMEM;
        if (stem) {
                nz->stemmer = sb_stemmer_new("russian", "UTF_8");
                if (!nz->stemmer) {
                        free(nz);
                        return -ENOMEM;
                }
        }
        *ret = nz;
        return 0;
}

struct normalizer *normalizer_free(struct normalizer *nz)
{
        if (!nz)
                return NULL;
        if (nz->stemmer)
                sb_stemmer_delete(nz->stemmer);
        free(nz->stems);
        free(nz->cps);
        strbuf_done(&nz->scratch);
        strbuf_done(&nz->word);
        free(nz);
        return NULL;
}

/* Appends s and its terminating NUL, so that a buffer holds many strings. */
static int strbuf_append_z(struct strbuf *sb, const char *s, size_t len, uint32_t *ret_off)
{
        if (sb->len > UINT32_MAX - len - 1)
                return -E2BIG;
        uint32_t off = (uint32_t)sb->len;
        int r = strbuf_append(sb, s, len);
        if (r < 0)
                return r;
        sb->len++; /* keep the NUL strbuf_append wrote; the next append grows past it */
        *ret_off = off;
        return 0;
}

static const char *stem_uncached(struct normalizer *nz, const char *word, size_t len,
                                 size_t *ret_len)
{
        const sb_symbol *s = sb_stemmer_stem(nz->stemmer, (const sb_symbol *)word, (int)len);
        if (!s) {
                *ret_len = len;
                return word;
        }
        *ret_len = (size_t)sb_stemmer_length(nz->stemmer);
        return (const char *)s;
}

const char *normalizer_stem(struct normalizer *nz, const char *word, size_t len, size_t *ret_len)
{
        if (!nz->stemmer || len > INT_MAX) {
                *ret_len = len;
                return word;
        }
        if (len == 0 || len > STEM_SLOT_BYTES)
                return stem_uncached(nz, word, len, ret_len);
        if (!nz->stems) {
                nz->stems = calloc(STEM_SLOTS, sizeof(*nz->stems));
                if (!nz->stems) /* no cache, same stems */
                        return stem_uncached(nz, word, len, ret_len);
        }

        uint32_t h = 2166136261u; /* FNV-1a 32 */
        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t)word[i]) * 16777619u;
        struct stem_slot *sl = &nz->stems[(h ^ (h >> 15)) & (STEM_SLOTS - 1)];
        if (sl->word_len == len && memcmp(sl->word, word, len) == 0) {
                *ret_len = sl->stem_len;
                return sl->word;
        }

        const char *stem = stem_uncached(nz, word, len, ret_len);
        if (*ret_len <= len && memcmp(stem, word, *ret_len) == 0) {
                sl->word_len = (uint8_t)len;
                memcpy(sl->word, word, len);
                sl->stem_len = (uint8_t)*ret_len;
        } else {
                sl->word_len = 0;
        }
        return stem;
}

void normalizer_drop_stems(struct normalizer *nz)
{
        free(nz->stems);
        nz->stems = NULL;
}

/* Lower case, ё as е. ASCII and the Russian alphabet, nearly every letter of a post, without
 * utf8proc's tables: А-Я to а-я, Ѐ-Џ (Ё among them) to ѐ-џ, as Unicode maps them. */
static int32_t fold(int32_t cp)
{
        if (cp < 0x80)
                cp = cp >= 'A' && cp <= 'Z' ? cp + 0x20 : cp;
        else if (cp >= 0x410 && cp <= 0x42f)
                cp += 0x20;
        else if (cp >= 0x400 && cp <= 0x40f)
                cp += 0x50;
        else if (cp < 0x430 || cp > 0x45f)
                cp = utf8proc_tolower(cp);
        if (cp == 0x451) /* ё */
                cp = 0x435;
        return cp;
}

static bool is_letter(int32_t cp)
{
        if (cp < 0x80)
                return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
        if (cp >= 0x400 && cp <= 0x4ff)
                return true;
        switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
                return true;
        default:
                return false;
        }
}

/* What a word may hold and reads without: combining marks, and the invisible characters that
 * text pasted from a word processor keeps inside words (soft hyphen, zero-width joiners, word
 * joiner, BOM). */
static bool is_mark(int32_t cp)
{
        if (cp == 0xad || cp == 0x200c || cp == 0x200d || cp == 0x2060 || cp == 0xfeff)
                return true;
        if (cp < 0x300 || (cp >= 0x400 && cp < 0x483)) /* the Cyrillic letters: no marks */
                return false;
        utf8proc_category_t c = utf8proc_category(cp);
        return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

static bool is_digit(int32_t cp)
{
        return cp >= '0' && cp <= '9';
}

static bool is_space(int32_t cp)
{
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xa0 ||
               (cp >= 0x2000 && cp <= 0x200b) || cp == 0x202f || cp == 0x3000;
}

/* Punctuation kept as tokens (for times, dates, sentence ends); 0 for everything else. */
static char punct_of(int32_t cp)
{
        switch (cp) {
        case ':':
        case '.':
        case ',':
        case ';':
        case '(':
        case ')':
        case '/':
        case '|':
        case '!':
        case '?':
        case '+':
                return (char)cp;
        case '-':
        case 0x2010:
        case 0x2011:
        case 0x2012:
        case 0x2013:
        case 0x2014:
        case 0x2015:
        case 0x2212:
                return '-';
        case 0x2116: /* № */
                return '#';
        case 0x2026: /* … */
                return '.';
        default:
                return 0;
        }
}

static int decode(struct normalizer *nz, const char *s, size_t len, size_t *ret_n, bool *ret_marks)
{
        size_t n = 0;
        bool marks = false;
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

        if (!greedy_realloc((void **)&nz->cps, &nz->allocated_cps, len + 1, sizeof(int32_t)))
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                int32_t cp;
                if (p[i] < 0x80) {
                        cp = p[i++];
                } else {
                        utf8proc_ssize_t k =
                                utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
                        if (k <= 0) {
                                cp = 0xfffd; /* invalid byte: replaced, one byte at a time */
                                k = 1;
                        }
                        i += (size_t)k;
                        if (cp >= 0x300 && cp < 0x370)
                                marks = true;
                }
                if (cp == 0)
                        cp = ' ';
                nz->cps[n++] = cp;
        }
        *ret_n = n;
        *ret_marks = marks;
        return 0;
}

/* Composes decomposed letters (е + U+0308 -> ё, и + U+0306 -> й) so they fold like typed ones. */
static int compose(struct normalizer *nz, size_t *n)
{
        nz->scratch.len = 0;
        for (size_t i = 0; i < *n; i++) {
                utf8proc_uint8_t b[4];
                utf8proc_ssize_t k = utf8proc_encode_char(nz->cps[i], b);
                int r = strbuf_append(&nz->scratch, (const char *)b, (size_t)k);
                if (r < 0)
                        return r;
        }
        utf8proc_uint8_t *out = NULL;
        utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)nz->scratch.buf,
                                          (utf8proc_ssize_t)nz->scratch.len, &out,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (k < 0)
                return 0; /* keep the decomposed text: still valid, just less folded */
        bool marks;
        int r = decode(nz, (const char *)out, (size_t)k, n, &marks);
        free(out);
        return r;
}

static struct token *token_push(struct tokens *t, enum token_kind kind, const char *s, size_t len,
                                uint8_t flags)
{
        if (!greedy_realloc((void **)&t->v, &t->allocated, t->n + 1, sizeof(struct token)))
                return NULL;
        struct token *k = &t->v[t->n];
        *k = (struct token){.kind = (uint8_t)kind,
                            .flags = flags,
                            .len = (uint32_t)len,
                            .sentence = t->sentence,
                            .segment = t->segment};
        if (strbuf_append_z(&t->text, s, len, &k->off) < 0)
                return NULL;
        k->stem_off = 0;
        k->stem_len = 0;
        t->n++;
        return k;
}

static bool prev_is_negation(const struct tokens *t)
{
        if (t->n == 0)
                return false;
        const struct token *p = &t->v[t->n - 1];
        if (p->kind != TOKEN_WORD || p->sentence != t->sentence)
                return false;
        return token_is(t, p, "не") || token_is(t, p, "ни");
}

static int emit_word(struct normalizer *nz, struct tokens *t, uint8_t flags)
{
        if (nz->word.len == 0)
                return 0;
        if (prev_is_negation(t))
                flags |= TOKEN_NEGATED;
        struct token *k = token_push(t, TOKEN_WORD, nz->word.buf, nz->word.len, flags);
        if (!k)
                return -ENOMEM;
        size_t stem_len;
        const char *stem = normalizer_stem(nz, nz->word.buf, nz->word.len, &stem_len);
        int r = strbuf_append_z(&t->stems, stem, stem_len, &k->stem_off);
        if (r < 0)
                return r;
        k->stem_len = (uint32_t)stem_len;
        nz->word.len = 0;
        return 0;
}

/* A letter at a time, so encoded in place rather than through strbuf_append(). */
static int word_add(struct normalizer *nz, int32_t cp)
{
        struct strbuf *w = &nz->word;
        if (w->len + 5 > w->allocated &&
            !greedy_realloc((void **)&w->buf, &w->allocated, w->len + 5, 1))
                return -ENOMEM;
        w->len += (size_t)utf8proc_encode_char(fold(cp), (utf8proc_uint8_t *)w->buf + w->len);
        w->buf[w->len] = '\0';
        return 0;
}

static bool ascii_word_char(int32_t cp)
{
        return cp < 0x80 &&
               (is_digit(cp) || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') || cp == '_');
}

static bool is_upper(int32_t cp)
{
        return utf8proc_isupper(cp);
}

static bool is_lower(int32_t cp)
{
        return utf8proc_islower(cp);
}

/* #ПрямойЭфир -> прямой эфир, #МЧСКубани -> мчс кубани, #Бюджет2027 -> бюджет 2027. */
static int emit_hashtag(struct normalizer *nz, struct tokens *t, const int32_t *cps, size_t n)
{
        int r;
        for (size_t i = 0; i < n; i++) {
                int32_t cp = cps[i];
                bool split = false;
                if (i > 0) {
                        int32_t prev = cps[i - 1];
                        if (is_upper(cp) && is_lower(prev))
                                split = true;
                        else if (is_upper(cp) && is_upper(prev) && i + 1 < n &&
                                 is_lower(cps[i + 1]))
                                split = true;
                        else if (is_digit(cp) != is_digit(prev))
                                split = true;
                }
                if (cp == '_' || split) {
                        if (i > 0 && is_digit(cps[i - 1])) {
                                if (!token_push(t, TOKEN_NUMBER, nz->word.buf, nz->word.len,
                                                TOKEN_HASHTAG))
                                        return -ENOMEM;
                                nz->word.len = 0;
                        } else if ((r = emit_word(nz, t, TOKEN_HASHTAG)) < 0)
                                return r;
                        if (cp == '_')
                                continue;
                }
                if ((r = word_add(nz, cp)) < 0)
                        return r;
        }
        if (n > 0 && is_digit(cps[n - 1])) {
                if (!token_push(t, TOKEN_NUMBER, nz->word.buf, nz->word.len, TOKEN_HASHTAG))
                        return -ENOMEM;
                nz->word.len = 0;
                return 0;
        }
        return emit_word(nz, t, TOKEN_HASHTAG);
}

/* Words that end with a dot without ending the sentence: "ул. Ленина", "Ст. Ильская". */
static bool is_abbreviation(const char *w)
{
        static const char *const list[] = {
                "ул",  "ст", "г",   "х",     "п",   "пос", "пгт",  "д", "тел", "каб", "пер",
                "мкр", "им", "пр",  "просп", "обл", "кв",  "корп", "ч", "мин", "руб", "тыс",
                "млн", "др", "стр", "ауд",   "оф",  "эт",  "с",    "р", "пл",  "б",   "наб",
        };
        for (size_t i = 0; i < ELEMENTSOF(list); i++)
                if (streq(list[i], w))
                        return true;
        return false;
}

static void sentence_break(struct tokens *t)
{
        if (t->n > 0 && t->v[t->n - 1].sentence == t->sentence)
                t->sentence++;
}

/* Decodes s into nz->cps, composed when it holds combining marks; *ret_n code points. */
static int decode_composed(struct normalizer *nz, const char *s, size_t len, size_t *ret_n)
{
        bool marks;
        int r = decode(nz, s, len, ret_n, &marks);
        if (r < 0)
                return r;
        if (marks)
                return compose(nz, ret_n);
        return 0;
}

/* A run of letters (and the marks among them, dropped) from *i: one word; *i is left after it. */
static int read_word(struct normalizer *nz, struct tokens *t, const int32_t *cps, size_t n,
                     size_t *i, uint8_t flags)
{
        size_t start = *i, j = *i;
        bool lower = true;
        int r;

        nz->word.len = 0;
        for (; j < n && (is_letter(cps[j]) || is_mark(cps[j])); j++) {
                if (is_mark(cps[j]))
                        continue; /* stress accents, variation selectors */
                if (is_upper(cps[j]))
                        lower = false;
                if ((r = word_add(nz, cps[j])) < 0)
                        return r;
        }
        *i = j;
        nz->word_lower_short = lower && j - start <= 3;
        return emit_word(nz, t, flags);
}

/* A run of digits from *i: one number, of its first 32 digits; *i is left after it. */
static int read_number(struct tokens *t, const int32_t *cps, size_t n, size_t *i, uint8_t flags)
{
        char digits[32];
        size_t k = 0, j = *i;

        for (; j < n && is_digit(cps[j]); j++)
                if (k < sizeof(digits))
                        digits[k++] = (char)cps[j];
        *i = j;
        if (!token_push(t, TOKEN_NUMBER, digits, k, flags))
                return -ENOMEM;
        return 0;
}

/* A hashtag, its '#' at *i: its words (see emit_hashtag); *i is left after it. */
static int read_hashtag(struct normalizer *nz, struct tokens *t, const int32_t *cps, size_t n,
                        size_t *i)
{
        size_t end = *i + 1;
        int32_t tag[128];
        size_t k = 0;

        while (end < n &&
               (is_letter(cps[end]) || is_digit(cps[end]) || cps[end] == '_' || is_mark(cps[end])))
                end++;
        nz->word.len = 0;
        /* marks inside a hashtag are rare; drop them by copying letters only */
        for (size_t j = *i + 1; j < end && k < ELEMENTSOF(tag); j++)
                if (!is_mark(cps[j]))
                        tag[k++] = cps[j];
        *i = end;
        return emit_hashtag(nz, t, tag, k);
}

/* [club123|Name], [id1|Name]: where the name starts when a mention opens at i, else 0. */
static size_t mention_name(const int32_t *cps, size_t n, size_t i)
{
        size_t j = i + 1;
        while (j < n && j - i < 64 && ascii_word_char(cps[j]))
                j++;
        if (j > i + 1 && j < n && cps[j] == '|')
                return j + 1;
        return 0;
}

/* Whether the '.' at i, just pushed, ends the sentence: not between digits (12.05), not after
 * an abbreviation or a short lower-case word (ул. Ленина). */
static bool dot_ends_sentence(const struct normalizer *nz, const struct tokens *t,
                              const int32_t *cps, size_t n, size_t i)
{
        bool between_digits = i > 0 && i + 1 < n && is_digit(cps[i - 1]) && is_digit(cps[i + 1]);
        const struct token *prev = t->n >= 2 ? &t->v[t->n - 2] : NULL;
        bool abbreviation = prev && prev->kind == TOKEN_WORD && prev->sentence == t->sentence &&
                            (nz->word_lower_short || is_abbreviation(t->text.buf + prev->off));
        return !between_digits && !abbreviation;
}

/* The punctuation pc, read from cps[i]: a token, and maybe the end of a sentence. */
static int read_punct(struct normalizer *nz, struct tokens *t, const int32_t *cps, size_t n,
                      size_t i, char pc, uint8_t flags)
{
        if (!token_push(t, TOKEN_PUNCT, &pc, 1, flags))
                return -ENOMEM;
        if (pc == '!' || pc == '?' || (pc == '.' && cps[i] == 0x2026))
                sentence_break(t);
        else if (pc == '.' && dot_ends_sentence(nz, t, cps, n, i))
                sentence_break(t);
        return 0;
}

static int tokenize(struct normalizer *nz, const char *s, size_t len, struct tokens *t)
{
        size_t n;
        int r;

        if (len >= UINT32_MAX / 2)
                return -E2BIG;
        sentence_break(t);
        if (t->n > 0 || t->segment > 0)
                t->segment++;
        r = decode_composed(nz, s, len, &n);
        if (r < 0)
                return r;

        const int32_t *cps = nz->cps;
        unsigned open_mentions = 0;
        bool space = true;
        nz->word.len = 0;

        for (size_t i = 0; i < n;) {
                int32_t cp = cps[i];
                uint8_t flags = space ? TOKEN_SPACE_BEFORE : 0; /* for a token read here */
                size_t name;

                if (is_letter(cp)) {
                        if ((r = read_word(nz, t, cps, n, &i, flags)) < 0)
                                return r;
                        space = false;
                        continue;
                }
                if (is_digit(cp)) {
                        if ((r = read_number(t, cps, n, &i, flags)) < 0)
                                return r;
                        space = false;
                        continue;
                }
                if (cp == '#' && i + 1 < n && (is_letter(cps[i + 1]) || is_digit(cps[i + 1]))) {
                        if ((r = read_hashtag(nz, t, cps, n, &i)) < 0)
                                return r;
                        space = true;
                        continue;
                }
                if (cp == '[' && (name = mention_name(cps, n, i)) > 0) {
                        /* keep the name, drop the address */
                        open_mentions++;
                        i = name;
                        space = true;
                        continue;
                }
                if (cp == ']' && open_mentions > 0) {
                        open_mentions--;
                        i++;
                        space = true;
                        continue;
                }
                if (cp == '@' && i + 1 < n && ascii_word_char(cps[i + 1])) {
                        i++;
                        while (i < n && (ascii_word_char(cps[i]) || cps[i] == '.'))
                                i++;
                        space = true;
                        continue;
                }
                if (cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029) {
                        sentence_break(t);
                        i++;
                        space = true;
                        continue;
                }
                char pc = punct_of(cp);
                if (pc) {
                        if ((r = read_punct(nz, t, cps, n, i, pc, flags)) < 0)
                                return r;
                        i++;
                        space = false;
                        continue;
                }
                i++;
                space = true; /* emoji, U+2800, quotes, symbols: separators */
        }
        return 0;
}

/* A link runs to the first of these (or to the end of the text). */
static bool ends_link(int32_t cp)
{
        return is_space(cp) || cp == ')' || cp == ']' || cp == 0xbb /* » */ || cp == '"';
}

/* A link starts at the beginning of the text or right after one of these. */
static bool opens_link(int32_t cp)
{
        return is_space(cp) || cp == '(' || cp == 0xab /* « */ || cp == ':';
}

/* Links are cut out before tokenising: "https://vk.com/x" would otherwise read as words.
 *
 * A "word" is a run of characters up to a space, ')', ']', '»' or '"'. A link starts where a link
 * may start (see opens_link) and always runs to the end of its word; the first start in a word
 * whose rest of the word is a link wins, and that rest becomes one space. The rest is a link
 * when it (a) holds "://" anywhere, (b) is "www." and more, or (c) holds a '/' and, before the
 * first '/', only ASCII and a dot followed by a letter or digit, after the start: vk.com/club1.
 *
 * Hostile text is full of starts ("((((((/", "::::/"), so each start must not rescan its word:
 * this is one pass, left to right, with O(1) state per word, reading each code point once (and
 * at most four ahead of it):
 * (a) if any start's rest holds "://", so does the first start's: one flag, "://" seen since the
 *     word's first start;
 * (b) is settled at the start itself, four characters ahead;
 * (c) the starts still waiting for their first '/' share it; of them only the earliest after the
 *     last non-ASCII character can pass (a later one has a subset of its dots), so one candidate
 *     and "a dot seen after it" settle (c) when the '/' comes.
 * The text is copied out as it is read and cut back to the winning start at the end of the word.
 * nz->link_steps counts the code points read, so that a test can prove the bound. */
static int strip_links(struct normalizer *nz, const char *s, size_t len, struct strbuf *out)
{
        size_t n;
        bool marks;
        int r = decode(nz, s, len, &n, &marks);
        if (r < 0)
                return r;
        const int32_t *cps = nz->cps;
        /* state of the current word; *_out: where a start's text begins in out */
        bool in_word = false, has_first = false, scheme = false;
        bool has_candidate = false, candidate_dot = false; /* for (c) */
        size_t first_out = 0, candidate_out = 0, link_out = SIZE_MAX;

        out->len = 0;
        for (size_t i = 0; i <= n; i++) {
                nz->link_steps++;
                if (i == n || ends_link(cps[i])) {
                        size_t cut = scheme ? first_out : link_out;
                        if (in_word && cut != SIZE_MAX) {
                                out->len = cut;
                                if ((r = strbuf_append(out, " ", 1)) < 0)
                                        return r;
                        }
                        in_word = has_first = scheme = has_candidate = false;
                        link_out = SIZE_MAX;
                        if (i == n)
                                break;
                } else {
                        int32_t cp = cps[i];
                        /* what cp means to the (c) candidate, a start before it */
                        if (has_candidate && cp == '.' && i + 1 < n) {
                                nz->link_steps++;
                                if (ascii_word_char(cps[i + 1]))
                                        candidate_dot = true;
                        }
                        if (has_candidate && cp >= 0x80) {
                                has_candidate = false;
                        } else if (has_candidate && cp == '/') {
                                if (candidate_dot && candidate_out < link_out)
                                        link_out = candidate_out;
                                has_candidate = false;
                        }
                        if (i == 0 || opens_link(cps[i - 1])) { /* a start */
                                if (!has_first) {
                                        has_first = true;
                                        first_out = out->len;
                                }
                                if ((cp | 0x20) == 'w' && i + 4 < n) {
                                        nz->link_steps += 4;
                                        if ((cps[i + 1] | 0x20) == 'w' &&
                                            (cps[i + 2] | 0x20) == 'w' && cps[i + 3] == '.' &&
                                            !ends_link(cps[i + 4]) && out->len < link_out)
                                                link_out = out->len;
                                }
                                if (!has_candidate && cp < 0x80 && cp != '/') {
                                        has_candidate = true;
                                        candidate_dot = false;
                                        candidate_out = out->len;
                                }
                        }
                        if (has_first && cp == ':' && i + 2 < n) {
                                nz->link_steps += 2;
                                if (cps[i + 1] == '/' && cps[i + 2] == '/')
                                        scheme = true;
                        }
                        in_word = true;
                }
                utf8proc_uint8_t b[4];
                utf8proc_ssize_t k = utf8proc_encode_char(cps[i], b);
                if ((r = strbuf_append(out, (const char *)b, (size_t)k)) < 0)
                        return r;
        }
        if (!out->buf)
                return strbuf_append(out, "", 0);
        return 0;
}

size_t normalizer_link_steps(const struct normalizer *nz)
{
        return nz->link_steps;
}

static bool may_contain_link(const char *s, size_t len)
{
        /* cheap pre-check: links need "://", "www." or "/" after a dot */
        for (size_t i = 0; i + 1 < len; i++)
                if (s[i] == '/' || (s[i] == 'w' && i + 3 < len && s[i + 1] == 'w'))
                        return true;
        return false;
}

int normalizer_add(struct normalizer *nz, const char *s, size_t len, struct tokens *t)
{
        if (!may_contain_link(s, len))
                return tokenize(nz, s, len, t);
        struct strbuf clean = {0};
        int r = strip_links(nz, s, len, &clean);
        if (r >= 0)
                r = tokenize(nz, clean.buf, clean.len, t);
        strbuf_done(&clean);
        return r;
}

int normalize_word(const char *s, size_t len, char **ret)
{
        struct strbuf out = {0};
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
        utf8proc_uint8_t *composed = NULL;
        utf8proc_ssize_t k = utf8proc_map(p, (utf8proc_ssize_t)len, &composed,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (k < 0)
                return -EINVAL;
        for (utf8proc_ssize_t i = 0; i < k;) {
                int32_t cp;
                utf8proc_ssize_t m = utf8proc_iterate(composed + i, k - i, &cp);
                if (m <= 0)
                        break;
                i += m;
                if (is_mark(cp))
                        continue;
                utf8proc_uint8_t b[4];
                utf8proc_ssize_t e = utf8proc_encode_char(fold(cp), b);
                if (strbuf_append(&out, (const char *)b, (size_t)e) < 0) {
                        free(composed);
                        strbuf_done(&out);
                        return -ENOMEM;
                }
        }
        free(composed);
        if (!out.buf && strbuf_append(&out, "", 0) < 0)
                return -ENOMEM;
        *ret = out.buf;
        return 0;
}

int normalize_string(struct normalizer *nz, const char *s, size_t len, char **ret)
{
        struct tokens t = {0};
        struct strbuf out = {0};
        int r = normalizer_add(nz, s, len, &t);
        for (size_t i = 0; r >= 0 && i < t.n; i++) {
                if (i > 0)
                        r = strbuf_append(&out, " ", 1);
                if (r >= 0)
                        r = strbuf_puts(&out, token_text(&t, &t.v[i]));
        }
        if (r >= 0 && !out.buf)
                r = strbuf_append(&out, "", 0);
        tokens_done(&t);
        if (r < 0) {
                strbuf_done(&out);
                return r;
        }
        *ret = out.buf;
        return 0;
}
