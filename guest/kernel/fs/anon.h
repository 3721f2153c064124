/* anon.h: files with no name in any tree (eventfd, timerfd, signalfd, epoll): one vnode each, made here. */
#ifndef GUEST_ANON_H
#define GUEST_ANON_H

#include "vfs.h"

/*
 * A new file on a fresh vnode with ops and priv, installed as the lowest
 * free fd; flags: O_NONBLOCK and O_CLOEXEC are honoured. On failure the
 * vnode is released (so ops->release frees priv) and -errno returned.
 */
int anon_fd_new(const struct vnode_ops *ops, void *priv, uint32_t flags, const char *name);
void *anon_priv(struct file *f, const struct vnode_ops *ops);  /* f's object if f is one of ops', else NULL */

#endif
