/* sweep.h — one pass over walls of the watch list: fetch, decide what is new, record and queue.
 *
 * A sweep polls targets the daemon resolved already (govwatch_resolve): the walls it is handed,
 * or every one for `once`. It never sends anything itself (the outbox does), and it reports back
 * what became of each wall it was asked to poll.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct govwatch;

#define SWEEP_MAX_DUE 300 /* walls one scheduled sweep polls at most (12 execute batches) */

enum sweep_wall_result {
        SWEEP_WALL_NOT_POLLED, /* its turn did not come: budget, a batch that kept failing, a stop
                                */
        SWEEP_WALL_READ,       /* its wall was read and its posts recorded */
        SWEEP_WALL_FAILED,     /* VK refused this wall (error_code, error_msg) */
};

struct sweep_wall {
        int64_t owner_id;
        const char *name; /* for humans; may be NULL */
        enum sweep_wall_result result;
        int error_code;
        const char *error_msg;
};

struct sweep_outcome {
        int result; /* 0, -EACCES (the token was refused) or what failed (a store error) */
        unsigned polled, new_posts, errors;
        const struct sweep_wall *walls; /* valid during the done callback only */
        size_t n_walls;
};

enum {
        /* the first sweep after a start: walls whose poll a stop interrupted go first */
        SWEEP_TAKE_INTERRUPTED = 1 << 0,
};

typedef void (*sweep_done_fn)(struct govwatch *gw, const struct sweep_outcome *o, void *userdata);

/* Polls owner_ids (n_ids of them; those not among gw->targets are ignored), or every target when
 * owner_ids is NULL (`once`). Walls that the daily budget has no room for are skipped with a
 * warning. done runs from the event loop when it is over. */
int sweep_start(struct govwatch *gw, const int64_t *owner_ids, size_t n_ids, unsigned flags,
                sweep_done_fn done, void *userdata);
bool sweep_running(const struct govwatch *gw);
/* Drops a sweep in progress without calling done: for shutdown. The source must be freed first
 * so that no request still points at a batch. */
void sweep_abort(struct govwatch *gw);
