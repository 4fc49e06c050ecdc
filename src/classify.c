/* classify.c — PLACEHOLDER classifier (being replaced by the real one of the classifier issue).
 *
 * Keeps the interface of classify.h so the pipeline runs end to end: a few lower-case
 * substrings per category. It must never be mistaken for the real thing.
 */
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "util.h"

const char *const category_builtin_names[_CATEGORY_BUILTIN_MAX] = {
        [CATEGORY_LIVE] = "live",         [CATEGORY_SERVICE] = "service",
        [CATEGORY_SCHEDULE] = "schedule", [CATEGORY_OUTAGE] = "outage",
        [CATEGORY_EMERGENCY] = "emergency", [CATEGORY_CIVIC] = "civic",
};

struct classifier {
        int unused;
};

int category_builtin_from_name(const char *name)
{
        for (size_t i = 0; i < _CATEGORY_BUILTIN_MAX; i++)
                if (streq(category_builtin_names[i], name))
                        return (int)i;
        return -ENOENT;
}

int classifier_new(const struct classify_options *opts, struct classifier **ret, char **ret_error)
{
        struct classifier *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

struct classifier *classifier_free(struct classifier *c)
{
        free(c);
        return NULL;
}

size_t classifier_n_categories(const struct classifier *c)
{
        return _CATEGORY_BUILTIN_MAX;
}

const char *classifier_category_name(const struct classifier *c, unsigned idx)
{
        return idx < _CATEGORY_BUILTIN_MAX ? category_builtin_names[idx] : NULL;
}

int classifier_category_index(const struct classifier *c, const char *name)
{
        return category_builtin_from_name(name);
}

static const char *const placeholder_words[_CATEGORY_BUILTIN_MAX][4] = {
        [CATEGORY_LIVE] = {"прямой эфир", "прямом эфире", "прямая линия", NULL},
        [CATEGORY_SERVICE] = {"госуслуг", "мфц", "записаться", NULL},
        [CATEGORY_SCHEDULE] = {"расписани", "маршрут", "режим работы", NULL},
        [CATEGORY_OUTAGE] = {"отключени", "водоснабжени", "электроэнерги", NULL},
        [CATEGORY_EMERGENCY] = {"штормовое", "чрезвычайн", "мчс", NULL},
        [CATEGORY_CIVIC] = {"опрос", "голосовани", "конкурс", NULL},
};

int classifier_classify(const struct classifier *c, const struct post *p,
                        struct classify_result *ret)
{
        _cleanup_free_ char *text = post_effective_text(p);
        if (!text)
                return -ENOMEM;
        *ret = (struct classify_result){0};
        for (size_t i = 0; i < _CATEGORY_BUILTIN_MAX; i++)
                for (size_t j = 0; placeholder_words[i][j]; j++)
                        if (strstr(text, placeholder_words[i][j]))
                                ret->categories |= UINT64_C(1) << i;
        return 0;
}

int classifier_explain(const struct classifier *c, const struct post *p, FILE *f,
                       struct classify_result *ret)
{
        return classifier_classify(c, p, ret);
}

int classifier_default_rules_path(char **ret)
{
        return -ENOENT;
}
