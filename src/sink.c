/* sink.c — the registry of sink types and the generic create/free. */
#include "sink.h"
#include "render.h"

#define SINK_CONCURRENCY_DEFAULT 4

/* One line a sink type, in the order messages and the man page list them: TYPE here is
 * sink_TYPE_ops, defined in sinks/TYPE.c. */
#define SINK_TYPES(X)                                                                              \
        X(apprise)                                                                                 \
        X(console)                                                                                 \
        X(desktop)                                                                                 \
        X(email)                                                                                   \
        X(exec)                                                                                    \
        X(feed)                                                                                    \
        X(ntfy)                                                                                    \
        X(telegram)                                                                                \
        X(webhook)

#define SINK_OPS_DECLARE(type) extern const struct sink_ops sink_##type##_ops;
#define SINK_OPS_ENTRY(type)   &sink_##type##_ops,
SINK_TYPES(SINK_OPS_DECLARE)

const struct sink_ops *const sink_registry[] = {SINK_TYPES(SINK_OPS_ENTRY) NULL};

const char *sink_result_name(enum sink_result r)
{
        switch (r) {
        case SINK_ACCEPTED:
                return "accepted";
        case SINK_HELD:
                return "held";
        case SINK_TRY_LATER:
                return "try later";
        case SINK_REJECTED:
                return "rejected";
        }
        return "unknown";
}

const struct sink_ops *sink_ops_find(const char *type)
{
        for (const struct sink_ops *const *ops = sink_registry; type && *ops; ops++)
                if (streq((*ops)->type, type))
                        return *ops;
        return NULL;
}

int sink_render_templates(const struct sink_conf *conf, const struct notification *n,
                          const char *default_title, const char *default_body,
                          size_t body_max_bytes, char **ret_title, char **ret_body)
{
        _cleanup_free_ char *title = NULL, *body = NULL;
        int r = render_template(conf && conf->template_title ? conf->template_title : default_title,
                                n, 0, &title);
        if (r >= 0)
                r = render_template(conf && conf->template_body ? conf->template_body
                                                                : default_body,
                                    n, body_max_bytes, &body);
        if (r < 0)
                return r;
        *ret_title = TAKE_PTR(title);
        *ret_body = TAKE_PTR(body);
        return 0;
}

int sink_render(const struct sink_conf *conf, const struct notification *n, char **ret_title,
                char **ret_body)
{
        const struct sink_ops *ops = sink_ops_find(conf->type);
        if (!ops)
                return -EOPNOTSUPP;
        return ops->render(conf, n, ret_title, ret_body);
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

unsigned sink_concurrency(const struct sink_conf *conf, const struct sink_ops *ops)
{
        if (conf && conf->concurrency)
                return conf->concurrency;
        return ops && ops->concurrency ? ops->concurrency : SINK_CONCURRENCY_DEFAULT;
}

struct sink *sink_free(struct sink *s)
{
        if (s)
                s->ops->free(s);
        return NULL;
}
