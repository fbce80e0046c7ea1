// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The charter runtime programs. One object: the agent loads the maps once and
 * then either the LSM programs or the tracepoint/cgroup fallback. */
#include "common.h"
#include "exec.h"
#include "connect.h"
#include "open.h"
#include "lsm.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
