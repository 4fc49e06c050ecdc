/* heldout.c — trace families the scheduler is evaluated on but was never tuned on. */
#include <stddef.h>

#include "trace.h"

const struct family schedsim_heldout_families[] = {
        {},
};
