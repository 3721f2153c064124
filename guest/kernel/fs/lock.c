/*
 * lock.c: advisory file locks, kept in the guest: fcntl record locks (owned
 * by a process, dropped when it closes any descriptor of the file or exits)
 * and flock locks (owned by an open file, dropped at its last close). A
 * file is known by (dev, ino), so two opens of one file see each other's
 * locks. Host files are locked only among this VM's processes.
 */
#include "kernel/proc/proc.h"
#include "kernel/syscall.h"
#include "lock.h"

#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8
#define OFF_MAX INT64_MAX

struct flock_k {
	int16_t type, whence;
	int64_t start, len;
	int32_t pid;
	int32_t pad;
};

struct rlock {
	struct rlock *next;
	uint64_t dev, ino;
	int pid;                      /* record locks: the owner */
	const struct file *file;      /* flock locks: the owner */
	int type;                     /* F_RDLCK or F_WRLCK */
	int64_t start, end;           /* inclusive; end OFF_MAX: to the end of the file, however long */
};

static struct rlock *records, *flocks;
static char lock_chan;            /* sleepers in F_SETLKW and blocking flock */

static void file_key(struct file *f, uint64_t *dev, uint64_t *ino)
{
	struct kstat st;
	vfs_stat(f->vn, &st);
	*dev = st.dev;
	*ino = st.ino;
}

static struct rlock *conflict(struct rlock *list, uint64_t dev, uint64_t ino, int pid, const struct file *file, int type,
			      int64_t start, int64_t end)
{
	for (struct rlock *l = list; l; l = l->next) {
		if (l->dev != dev || l->ino != ino || l->end < start || l->start > end)
			continue;
		if (file ? l->file == file : l->pid == pid)
			continue;
		if (type == F_WRLCK || l->type == F_WRLCK)
			return l;
	}
	return NULL;
}

/* Remove pid's record locks on [start, end] of the file, splitting any that reach beyond it. */
static int unlock_range(uint64_t dev, uint64_t ino, int pid, int64_t start, int64_t end)
{
	for (struct rlock **pp = &records; *pp;) {
		struct rlock *l = *pp;
		if (l->dev != dev || l->ino != ino || l->pid != pid || l->end < start || l->start > end) {
			pp = &l->next;
			continue;
		}
		if (l->start < start && l->end > end) {       /* a hole in the middle: two pieces */
			struct rlock *tail = kmalloc(sizeof(*tail));
			if (!tail)
				return -ENOLCK;
			*tail = *l;
			tail->start = end + 1;
			l->end = start - 1;
			tail->next = l->next;
			l->next = tail;
			pp = &tail->next;
		} else if (l->start < start) {
			l->end = start - 1;
			pp = &l->next;
		} else if (l->end > end) {
			l->start = end + 1;
			pp = &l->next;
		} else {
			*pp = l->next;
			kfree(l, sizeof(*l));
		}
	}
	return 0;
}

static void locks_changed(void)
{
	sched_wakeup(&lock_chan);
}

void lock_release_posix(struct file *f)
{
	if (!records)
		return;
	uint64_t dev, ino;
	file_key(f, &dev, &ino);
	unlock_range(dev, ino, current->pid, 0, OFF_MAX);
	locks_changed();
}

void lock_release_flock(struct file *f)
{
	int any = 0;
	for (struct rlock **pp = &flocks; *pp;) {
		struct rlock *l = *pp;
		if (l->file == f) {
			*pp = l->next;
			kfree(l, sizeof(*l));
			any = 1;
		} else {
			pp = &l->next;
		}
	}
	if (any)
		locks_changed();
}

/* The range a struct flock names, as [start, end]. */
static int flock_range(struct file *f, const struct flock_k *fl, int64_t *start, int64_t *end)
{
	int64_t base;
	switch (fl->whence) {
	case 0: base = 0; break;
	case 1: base = (int64_t)f->pos; break;
	case 2: {
		struct kstat st;
		vfs_stat(f->vn, &st);
		base = (int64_t)st.size;
		break;
	}
	default: return -EINVAL;
	}
	int64_t s = base + fl->start;
	if (fl->len > 0) {
		*start = s;
		*end = fl->len - 1 > OFF_MAX - s ? OFF_MAX : s + fl->len - 1;
	} else if (fl->len < 0) {
		*start = s + fl->len;
		*end = s - 1;
	} else {
		*start = s;
		*end = OFF_MAX;
	}
	return *start < 0 ? -EINVAL : 0;
}

long lock_fcntl(struct file *f, uint64_t cmd, uint64_t uarg)
{
	struct flock_k fl;
	int64_t start, end;
	uint64_t dev, ino;
	if (copy_from_user(&fl, uarg, sizeof(fl)))
		return -EFAULT;
	if (fl.type != F_RDLCK && fl.type != F_WRLCK && fl.type != F_UNLCK)
		return -EINVAL;
	int err = flock_range(f, &fl, &start, &end);
	if (err)
		return err;
	file_key(f, &dev, &ino);
	int pid = current->pid;
	if (cmd == F_GETLK) {
		if (fl.type == F_UNLCK)
			return -EINVAL;
		struct rlock *l = conflict(records, dev, ino, pid, NULL, fl.type, start, end);
		if (!l) {
			fl.type = F_UNLCK;
		} else {
			fl.type = (int16_t)l->type;
			fl.whence = 0;
			fl.start = l->start;
			fl.len = l->end == OFF_MAX ? 0 : l->end - l->start + 1;
			fl.pid = l->pid;
		}
		return copy_to_user(uarg, &fl, sizeof(fl)) ? -EFAULT : 0;
	}
	if (fl.type == F_UNLCK) {
		err = unlock_range(dev, ino, pid, start, end);
		locks_changed();
		return err;
	}
	uint32_t acc = f->flags & O_ACCMODE;
	if ((fl.type == F_RDLCK && acc == O_WRONLY) || (fl.type == F_WRLCK && acc == O_RDONLY))
		return -EBADF;
	while (conflict(records, dev, ino, pid, NULL, fl.type, start, end)) {
		if (cmd == F_SETLK)
			return -EAGAIN;
		sched_sleep(&lock_chan);
		if (signal_pending())
			return -EINTR;
	}
	struct rlock *l = kmalloc(sizeof(*l));
	if (!l)
		return -ENOLCK;
	err = unlock_range(dev, ino, pid, start, end);
	if (err) {
		kfree(l, sizeof(*l));
		return err;
	}
	*l = (struct rlock){ records, dev, ino, pid, NULL, fl.type, start, end };
	records = l;
	locks_changed();   /* a lock made weaker (write to read) may let a waiter in */
	return 0;
}

SYS(flock)
{
	UNUSED_ARGS();
	struct file *f = fd_get((int)a0);
	if (!f)
		return -EBADF;
	int op = (int)(a1 & ~(uint64_t)LOCK_NB);
	if (op != LOCK_SH && op != LOCK_EX && op != LOCK_UN)
		return -EINVAL;
	lock_release_flock(f);   /* a conversion is an unlock and a new lock, as on Linux */
	if (op == LOCK_UN)
		return 0;
	uint64_t dev, ino;
	file_key(f, &dev, &ino);
	int type = op == LOCK_EX ? F_WRLCK : F_RDLCK;
	while (conflict(flocks, dev, ino, 0, f, type, 0, OFF_MAX)) {
		if (a1 & LOCK_NB)
			return -EAGAIN;
		sched_sleep(&lock_chan);
		if (signal_pending())
			return -EINTR;
	}
	struct rlock *l = kmalloc(sizeof(*l));
	if (!l)
		return -ENOLCK;
	*l = (struct rlock){ flocks, dev, ino, 0, f, type, 0, OFF_MAX };
	flocks = l;
	return 0;
}
