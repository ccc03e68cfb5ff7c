#include "CProcess.h"

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
