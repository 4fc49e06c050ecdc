/* families.c — trace families the scheduler was designed and tuned on. */
#include <stddef.h>

#include "trace.h"

const struct family schedsim_tuning_families[] = {
        {},
};
