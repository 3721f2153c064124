/* landlock.h: the VMM's file access confined to its mount roots (Landlock), after setup. */
#ifndef VMM_LANDLOCK_H
#define VMM_LANDLOCK_H

struct hostfs;
struct net_policy;

/*
 * Confine the calling thread and the threads it starts later to the mounts
 * of hf (none when hf is NULL: no file access at all), and TCP connects to
 * what the --net policy np allows where Landlock can say it (NULL: none). 0 when confined, or
 * when the kernel has no Landlock and allow_missing is set (after a warning);
 * -1 after a message naming what failed and what to do.
 */
int landlock_confine(const struct hostfs *hf, const struct net_policy *np, int allow_missing);

#endif
