#ifndef CPROCESS_H
#define CPROCESS_H

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when its parent
/// exits. prctl is variadic, which Swift cannot call. Returns 0, or -1 with errno set (and
/// always -1 where the call does not exist).
int cprocess_set_parent_death_signal(int signal);

#endif
