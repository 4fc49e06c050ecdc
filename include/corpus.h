/* corpus.h — labelled posts: the shipped corpus (data/corpus/posts.jsonl) and an admin's examples.
 *
 * One JSON object a line: a VK post object as wall.get returns it (only "text" is required; "id",
 * "owner_id", "date", "attachments", "copy_history" are read when present) plus "labels": the
 * categories it belongs to ([] for none). "source" (where a real text was found) and "origin"
 * ("real" or "synthetic") are kept for reports. Every error is "FILE:LINE: message".
 * Pure but for reading the file; no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "post.h"

/* The fixed split of the shipped corpus, by a hash of the text (corpus_split_of): the test split
 * is never used for training, rules or thresholds; the dev split chooses thresholds. */
enum corpus_split {
        SPLIT_TRAIN,
        SPLIT_DEV,
        SPLIT_TEST,
        _SPLIT_MAX,
};
extern const char *const corpus_split_names[_SPLIT_MAX];

struct example {
        struct post *post;
        uint64_t labels; /* bit i: category i of the names given to corpus_read */
        enum corpus_split split;
        bool synthetic;
        char *source; /* NULL when none */
        unsigned line;
};

struct corpus {
        struct example *v;
        size_t n, allocated;
        uint64_t key; /* model_key() over every file read, in order */
};

/* FNV-1a 64 of the text, mod 100: 0-19 test, 20-34 dev, the rest train. */
enum corpus_split corpus_split_of(const char *text);

/* Appends the examples of path to c. Labels must be among names[0..n_names). With
 * split_by_hash false every example is a training one (an admin's own examples). -EINVAL with
 * "FILE:LINE: message" in *ret_error on the first bad line (nothing of that file is kept);
 * another negative errno with "FILE: reason" when the file can't be read. */
int corpus_read(struct corpus *c, const char *path, char *const *names, size_t n_names,
                bool split_by_hash, char **ret_error);
void corpus_done(struct corpus *c);
