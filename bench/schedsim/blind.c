/* blind.c — placeholder: the third held-out set is being written. */
#include "trace.h"

const struct family schedsim_blind_families[] = {{0}};
