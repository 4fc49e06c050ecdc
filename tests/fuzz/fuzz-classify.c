/* fuzz-classify.c — a post as VK sends it, through normalisation, the classifier and the
 * start-time reader.
 *
 * The input is JSON: one post object (post_from_json) or a wall.get answer (wall_from_json, also
 * the legacy bare array). Each post is classified with the shipped rules (data/rules.yaml; the
 * model named by $GOVWATCH_FUZZ_MODEL, else none: the rules alone), in a time zone picked by the
 * post's owner_id from a few loaded once, and its start time formatted as the notification and
 * the reminder would. Checks: categories are among the classifier's, a start time is written as
 * ISO 8601 with a four-digit year (a wild one becomes a wild reminder).
 */
#include <jansson.h>
#include <stdio.h>

#include "classify.h"
#include "fuzz.h"
#include "post.h"
#include "timeparse.h"

static struct classifier *classifier;
static struct tz *zones[4];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char **argv[])
{
        static const char *const names[] = {"Europe/Moscow", "Asia/Yekaterinburg",
                                            "Europe/Kaliningrad", "Asia/Kamchatka"};
        _cleanup_free_ char *rules = fuzz_source_path("data/rules.yaml");
        _cleanup_free_ char *error = NULL;
        const char *model = getenv("GOVWATCH_FUZZ_MODEL");
        struct classify_options opts = {
                .rules_file = rules,
                .no_model = !model,
                .model_file = model,
        };
        int r = classifier_new(&opts, &classifier, &error);
        if (r < 0) {
                fprintf(stderr, "classifier_new: %s\n", error ? error : strerror(-r));
                abort();
        }
        for (size_t i = 0; i < ELEMENTSOF(zones); i++)
                if (tz_load(names[i], &zones[i]) < 0) {
                        fprintf(stderr, "tz_load(%s) failed\n", names[i]);
                        abort();
                }
        devnull = fopen("/dev/null", "we");
        if (!devnull)
                abort();
        return 0;
}

static void check_result(const struct classify_result *res)
{
        size_t n = classifier_n_categories(classifier);
        char buf[64];

        fuzz_assert(n >= 64 || (res->categories >> n) == 0, "category bits %#llx of %zu",
                    (unsigned long long)res->categories, n);
        classify_result_starts_at(res, buf, sizeof(buf));
        if (res->starts_at == 0)
                return;
        /* "2026-12-05T17:00:00+03:00" */
        fuzz_assert(strlen(buf) == 25 && buf[4] == '-' && buf[10] == 'T' && buf[0] >= '0' &&
                            buf[0] <= '9',
                    "starts_at %lld written as \"%s\"", (long long)res->starts_at, buf);
}

static void classify_one(const struct post *p, bool explain)
{
        const struct tz *tz = zones[(uint64_t)p->owner_id % ELEMENTSOF(zones)];
        struct classify_result res = {0};

        if (classifier_classify_tz(classifier, p, tz, &res) >= 0)
                check_result(&res);
        if (explain) {
                struct classify_result again = {0};
                /* --explain reads the post with the default zone */
                if (classifier_explain(classifier, p, devnull, &again) >= 0)
                        check_result(&again);
        }
        free(post_notification_text(p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_error_t jerr;
        json_t *root = json_loadb((const char *)data, size, 0, &jerr);
        if (!root)
                return 0;

        struct post *p = NULL;
        const char *reason = NULL;
        if (post_from_json(root, &p, &reason) >= 0) {
                classify_one(p, true);
                post_free(p);
        }

        struct wall *w = NULL;
        if (wall_from_json(root, &w, &reason) >= 0) {
                for (size_t i = 0; i < w->n_posts; i++)
                        classify_one(w->posts[i], false);
                wall_free(w);
        }
        json_decref(root);
        return 0;
}
