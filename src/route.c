/* route.c — which sinks get a post, from the watch entries that name its community. */
#include <stdbool.h>

#include "route.h"
#include "util.h"

static bool entry_wants(const struct watch_conf *w, uint64_t categories)
{
        if (categories == 0)
                return w->uncategorized;
        if (w->all_categories)
                return true;
        return (w->categories & categories) != 0;
}

int route_post(const struct config *conf, const struct route_target *t, uint64_t categories,
               const char ***ret_sinks, const char **ret_topic)
{
        const char **sinks;
        const char *topic = NULL;
        size_t n = 0;

        sinks = calloc(conf->n_sinks + 1, sizeof(char *));
        if (!sinks)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_watch; i++) {
                const struct watch_conf *w = &conf->watch[t->watch[i]];
                if (!entry_wants(w, categories))
                        continue;
                if (!topic)
                        topic = w->topic;
                for (size_t j = 0; j < w->n_sinks; j++) {
                        const char *name = conf->sinks[w->sinks[j]].name;
                        bool dup = false;
                        for (size_t k = 0; k < n && !dup; k++)
                                dup = streq(sinks[k], name);
                        if (!dup)
                                sinks[n++] = name;
                }
        }
        *ret_sinks = sinks;
        *ret_topic = topic;
        return (int)n;
}

bool quiet_hours_contains(int start_min, int end_min, int minute_of_day)
{
        if (start_min < 0 || end_min < 0 || start_min == end_min)
                return false;
        if (start_min < end_min)
                return minute_of_day >= start_min && minute_of_day < end_min;
        return minute_of_day >= start_min || minute_of_day < end_min;
}

int64_t quiet_hours_remaining(int start_min, int end_min, int64_t second_of_day)
{
        int minute = (int)(second_of_day / 60);
        if (!quiet_hours_contains(start_min, end_min, minute))
                return 0;
        int64_t end = (int64_t)end_min * 60;
        if (end <= second_of_day)
                end += 24 * 3600;
        return end - second_of_day;
}

bool quiet_hours_bypass(const struct sink_conf *sink, char *const *categories)
{
        if (sink->quiet_emergency)
                return false; /* the admin asked that even emergencies wait */
        for (char *const *c = categories; c && *c; c++)
                if (streq(*c, "emergency"))
                        return true;
        return false;
}
