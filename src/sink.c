/* sink.c — the registry of sink types and the generic create/free. */
#include "sink.h"

static const struct sink_ops *const sink_registry[] = {
        &sink_console_ops, &sink_desktop_ops, &sink_email_ops, &sink_exec_ops, &sink_webhook_ops,
};

const char *const sink_type_names[] = {
        "console", "desktop", "email", "exec", "webhook", NULL,
};

const char *sink_result_name(enum sink_result r)
{
        switch (r) {
        case SINK_ACCEPTED:
                return "accepted";
        case SINK_TRY_LATER:
                return "try later";
        case SINK_REJECTED:
                return "rejected";
        }
        return "unknown";
}

const struct sink_ops *sink_ops_find(const char *type)
{
        for (size_t i = 0; i < ELEMENTSOF(sink_registry); i++)
                if (streq(sink_registry[i]->type, type))
                        return sink_registry[i];
        return NULL;
}

int sink_create(const struct sink_conf *conf, const struct sink_context *ctx, struct sink **ret)
{
        const struct sink_ops *ops = sink_ops_find(conf->type);
        struct sink *s;
        int r;

        if (!ops)
                return -EOPNOTSUPP;
        r = ops->create(conf, ctx, &s);
        if (r < 0)
                return r;
        s->ops = ops;
        s->conf = conf;
        s->name = conf->name;
        *ret = s;
        return 0;
}

struct sink *sink_free(struct sink *s)
{
        if (s)
                s->ops->free(s);
        return NULL;
}
