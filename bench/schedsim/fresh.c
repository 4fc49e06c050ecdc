/* fresh.c — placeholder: the second held-out set is being written. */
#include "trace.h"

const struct family schedsim_fresh_families[] = {{0}};
