#include "CProcess.h"

#if defined(TRAINSET_REQUIRES_X86_64_V3) && defined(__x86_64__)
#include <unistd.h>

// The Swift code of this build was compiled for x86-64-v3 because the build machine has it
// (Package.swift). Copied to an older CPU it would die of SIGILL somewhere inside a kernel;
// this runs before main, in code compiled for the baseline, and says what to do instead.
__attribute__((constructor)) static void cprocess_require_x86_64_v3(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v3")) return;
    static const char message[] =
        "error: this trainset build needs a CPU with AVX2, FMA and BMI2 (x86-64-v3), which this one lacks; "
        "rebuild it here, or build with TRAINSET_TARGET_CPU=baseline (docs/building.md)\n";
    (void)!write(2, message, sizeof message - 1);
    _exit(1);
}
#endif

#if defined(__linux__)
#include <sys/prctl.h>

int cprocess_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, signal); }
#else
#include <errno.h>

int cprocess_set_parent_death_signal(int signal) {
    (void)signal;
    errno = ENOSYS;
    return -1;
}
#endif
