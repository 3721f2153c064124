/* landlock.h: the VMM's file access confined to its mount roots (Landlock), after setup. */
#ifndef VMM_LANDLOCK_H
#define VMM_LANDLOCK_H

struct hostfs;

/* Confine the calling thread and the threads it starts later; 0 (a missing Landlock is only logged). */
int landlock_confine(const struct hostfs *hf);

#endif
