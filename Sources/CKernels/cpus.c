// The CPUs this process may run on (CKernels.h).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // sched_getaffinity, CPU_COUNT
#endif
#include <sched.h>
#include <unistd.h>

#include "CKernels.h"

int l2lk_available_cpus(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}
