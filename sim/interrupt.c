/* interrupt.c -- see interrupt.h. */
#define _POSIX_C_SOURCE 200809L
#include "interrupt.h"

#include <signal.h>
#include <stddef.h>

/* SIG_BLOCK or SIG_UNBLOCK SIGINT and SIGTERM for the calling thread. */
static void intr_mask(int how)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(how, &stop, NULL);
}

void intr_block(void) { intr_mask(SIG_BLOCK); }

void intr_unblock(void) { intr_mask(SIG_UNBLOCK); }

int intr_requested(void *ctx)
{
    (void)ctx;
    sigset_t pending;
    if (sigpending(&pending) != 0) return 0;
    return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM);
}
