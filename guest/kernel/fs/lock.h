/* lock.h: advisory locks: fcntl record locks and flock. */
#ifndef GUEST_LOCK_H
#define GUEST_LOCK_H

#include "vfs.h"

long lock_fcntl(struct file *f, uint64_t cmd, uint64_t uarg);   /* F_GETLK, F_SETLK, F_SETLKW */
void lock_release_posix(struct file *f);   /* the current process closed a descriptor of f's file */
void lock_release_flock(struct file *f);   /* f's last reference is going */

#endif
