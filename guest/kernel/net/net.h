/* net.h: what the rest of the kernel needs to know about sockets. */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include "kernel/fs/vfs.h"

int sock_is(struct file *f);                                             /* f is a socket */
long sock_rw_vec(struct file *f, uint64_t uiov, uint64_t cnt, int writing); /* readv/writev: one message */
int sock_never_restarted(uint64_t nr, uint64_t fd);                        /* an EINTR SA_RESTART must not restart */

#endif
