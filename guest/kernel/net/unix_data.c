/* unix_data.c: AF_UNIX data: user iovecs, messages in receive queues, send and receive with SCM_RIGHTS. */
#include "kernel/syscall.h"
#include "net.h"
#include "unix.h"

/* ---- user iovecs ---- */

int uio_init(struct uio *u, uint64_t uiov, uint64_t cnt)
{
	memset(u, 0, sizeof(*u));
	if (cnt > 1024)
		return -EINVAL;
	u->uiov = uiov;
	u->cnt = cnt;
	for (uint64_t i = 0; i < cnt; i++) {
		uint64_t v[2];
		if (copy_from_user(v, uiov + i * 16, 16))
			return -EFAULT;
		if ((int64_t)v[1] < 0 || u->resid + v[1] > 0x7ffff000)
			return -EINVAL;
		u->resid += v[1];
	}
	return 0;
}

void uio_single(struct uio *u, uint64_t buf, uint64_t len)
{
	memset(u, 0, sizeof(*u));
	if (len > 0x7ffff000)
		len = 0x7ffff000;
	u->base = buf;
	u->left = u->resid = len;
}

/* Move n bytes between kbuf and the iovecs at the cursor; to_user: into the program. */
static int uio_move(struct uio *u, void *kbuf, uint64_t n, int to_user)
{
	uint8_t *k = kbuf;
	while (n) {
		while (!u->left) {
			uint64_t v[2];
			if (u->i >= u->cnt || copy_from_user(v, u->uiov + u->i * 16, 16))
				return -EFAULT;
			u->i++;
			u->base = v[0];
			u->left = v[1];
		}
		uint64_t c = n < u->left ? n : u->left;
		if (to_user ? copy_to_user(u->base, k, c) : copy_from_user(k, u->base, c))
			return -EFAULT;
		u->base += c;
		u->left -= c;
		u->resid -= c;
		k += c;
		n -= c;
	}
	return 0;
}

/* ---- messages ---- */

uint32_t msg_charge(uint32_t len)
{
	return len + 256;   /* what a message costs its receiver's buffer, small ones included */
}

static struct umsg *closing, **closing_tail = &closing;   /* messages whose descriptors are still to close */
static int closing_busy;

/* Close the descriptors m carried and free it. */
static void msg_close_fds(struct umsg *m)
{
	for (uint32_t i = 0; i < m->nfds; i++) {
		if (m->fds[i]) {
			usock_inflight_del(m->fds[i]);
			file_put(m->fds[i]);
		}
	}
	kfree(m->fds, m->nfds * sizeof(struct file *));
	kfree(m, sizeof(*m));
}

/*
 * Closing a socket's descriptors in flight may close a socket whose queue
 * holds more, and so on down a chain as long as a program cares to build:
 * rather than recursing that deep on the kernel stack, a message freed
 * while another's descriptors are being closed waits in a queue that the
 * outermost call works through. (If a close sleeps, say on a host file, a
 * message another process frees meanwhile is closed by that call too, once
 * it wakes.)
 */
void msg_free(struct umsg *m)
{
	if (m->pg) {
		if (m->len <= PAGE_SIZE / 2) {
			kfree(m->pg[0], m->len ? m->len : 1);
		} else {
			for (uint32_t i = 0; i < m->npg; i++)
				if (m->pg[i])
					pmem_free(kva_to_pa(m->pg[i]));
		}
		kfree(m->pg, m->npg * sizeof(uint8_t *));
		m->pg = NULL;
	}
	if (!m->fds) {
		kfree(m, sizeof(*m));
		return;
	}
	m->next = NULL;
	*closing_tail = m;
	closing_tail = &m->next;
	if (closing_busy)
		return;
	closing_busy = 1;
	while (closing) {
		m = closing;
		closing = m->next;
		if (!closing)
			closing_tail = &closing;
		msg_close_fds(m);
	}
	closing_busy = 0;
}

/* A message of len bytes taken from u, carrying fds (references passed in on success). */
static int msg_new(struct uio *u, uint32_t len, struct file **fds, uint32_t nfds, struct umsg **out)
{
	struct umsg *m = kmalloc(sizeof(*m));
	if (!m)
		return -ENOBUFS;
	m->len = len;
	m->npg = len <= PAGE_SIZE / 2 ? 1 : (uint32_t)((len + PAGE_SIZE - 1) / PAGE_SIZE);
	m->pg = kmalloc(m->npg * sizeof(uint8_t *));
	if (!m->pg) {
		kfree(m, sizeof(*m));
		return -ENOBUFS;
	}
	int err = 0;
	if (len <= PAGE_SIZE / 2) {
		m->pg[0] = kmalloc(len ? len : 1);
		if (!m->pg[0])
			err = -ENOBUFS;
	} else {
		for (uint32_t i = 0; i < m->npg && !err; i++) {
			uint64_t pa = pmem_alloc();
			if (!pa)
				err = -ENOBUFS;
			else
				m->pg[i] = pa_to_kva(pa);
		}
	}
	for (uint32_t i = 0; i < m->npg && !err; i++) {
		uint32_t n = len - i * PAGE_SIZE < PAGE_SIZE ? len - i * PAGE_SIZE : PAGE_SIZE;
		err = uio_move(u, m->pg[i], n, 0);
	}
	if (!err && nfds) {
		m->fds = kmalloc(nfds * sizeof(struct file *));
		if (!m->fds)
			err = -ENOBUFS;
	}
	if (err) {
		msg_free(m);
		return err;
	}
	for (uint32_t i = 0; i < nfds; i++) {
		m->fds[i] = fds[i];
		usock_inflight_add(fds[i]);
	}
	m->nfds = nfds;
	m->cred = usock_mycred();
	*out = m;
	return 0;
}

static int msg_copy_out(struct umsg *m, uint32_t off, uint32_t n, struct uio *u)
{
	while (n) {
		uint32_t pi = m->len <= PAGE_SIZE / 2 ? 0 : off / PAGE_SIZE;
		uint32_t po = m->len <= PAGE_SIZE / 2 ? off : off % PAGE_SIZE;
		uint32_t c = (m->len <= PAGE_SIZE / 2 ? m->len : PAGE_SIZE) - po;
		if (c > n)
			c = n;
		int err = uio_move(u, m->pg[pi] + po, c, 1);
		if (err)
			return err;
		off += c;
		n -= c;
	}
	return 0;
}

static void q_push(struct usock *s, struct umsg *m)
{
	m->next = NULL;
	*s->qtail = m;
	s->qtail = &m->next;
	s->qbytes += msg_charge(m->len);
	if (m->nfds)
		usock_queued(s, m);
}

struct umsg *q_pop(struct usock *s)
{
	struct umsg *m = s->q;
	if (m) {
		s->q = m->next;
		if (!s->q)
			s->qtail = &s->q;
		s->qbytes -= msg_charge(m->len);
	}
	return m;
}

/* readv/writev on a socket: one message for the whole vector, as Linux does. */
long sock_rw_vec(struct file *f, uint64_t uiov, uint64_t cnt, int writing)
{
	struct uio u;
	int err = uio_init(&u, uiov, cnt);
	if (err)
		return err;
	if (writing)
		return usock_send(sock_of(f), f, &u, 0, NULL, NULL, 0);
	struct recv_ctl rc;
	memset(&rc, 0, sizeof(rc));
	return usock_recv(sock_of(f), f, &u, 0, &rc);
}


/* ---- data ---- */

static long send_pipe_error(int flags)
{
	if (!(flags & MSG_NOSIGNAL)) {
		struct ksiginfo si = { SI_USER, current->pid, 0, 0 };
		signal_post(current, SIGPIPE, &si);
	}
	return -EPIPE;
}

/* fds: references the message takes over on success (the caller drops them on failure). */
long usock_send(struct usock *s, struct file *f, struct uio *u, int flags, struct usock *to,
		struct file **fds, uint32_t nfds)
{
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	uint64_t total = u->resid;
	int64_t deadline = usock_deadline(s->sndtimeo);
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (nfds)
		usock_gc_maybe();
	if (s->type == SOCK_DGRAM) {
		struct usock *t = to ? to : s->peer;
		if (!t)
			return -ENOTCONN;
		if (s->snd_shut)
			return send_pipe_error(flags);
		if (total > s->sndbuf - 32)
			return -EMSGSIZE;
		usock_get(t);
		long ret;
		for (;;) {
			if (t->dead || t->rcv_shut) {
				ret = -ECONNREFUSED;
				if (t == s->peer) {   /* the default destination went away: disconnect, as Linux */
					s->peer = NULL;
					usock_put(t);
				}
				goto out;
			}
			if (!t->q || t->qbytes + msg_charge((uint32_t)total) <= t->rcvbuf)
				break;
			if (nonblock) {
				ret = -EAGAIN;
				goto out;
			}
			ret = usock_wait(t, deadline);
			if (ret)
				goto out;
		}
		struct umsg *m;
		ret = msg_new(u, (uint32_t)total, fds, nfds, &m);
		if (ret)
			goto out;
		m->from = s->addr;
		m->fromlen = s->addrlen;
		q_push(t, m);
		usock_changed(t);
		ret = (long)total;
out:
		usock_put(t);
		return ret;
	}

	if (to)
		return s->state == US_CONNECTED ? -EISCONN : -EOPNOTSUPP;
	if (s->state != US_CONNECTED)
		return -ENOTCONN;
	if (s->type == SOCK_SEQPACKET && total > s->sndbuf - 32)
		return -EMSGSIZE;
	if (s->type == SOCK_STREAM && total == 0 && nfds == 0)
		return 0;   /* nothing to queue: an empty message would read as end of file */
	uint64_t done = 0;
	int first = 1;
	while (first || done < total) {
		struct usock *p = s->peer;
		if (s->snd_shut || !p || p->dead)
			return done ? (long)done : send_pipe_error(flags);
		uint32_t want = s->type == SOCK_SEQPACKET ? (uint32_t)total : 1;
		if (p->q && p->qbytes + msg_charge(want) > p->rcvbuf) {
			if (nonblock)
				return done ? (long)done : -EAGAIN;
			usock_get(p);
			int err = usock_wait(p, deadline);
			usock_put(p);
			if (err)
				return done ? (long)done : err;
			continue;
		}
		uint64_t n = total - done;
		if (s->type == SOCK_STREAM) {
			uint64_t room = p->qbytes + 256 < p->rcvbuf ? p->rcvbuf - p->qbytes - 256 : 1;
			if (n > room)
				n = room;
			if (n > 65536)
				n = 65536;
		}
		struct umsg *m;
		int err = msg_new(u, (uint32_t)n, first ? fds : NULL, first ? nfds : 0, &m);
		if (err)
			return done ? (long)done : err;
		q_push(p, m);
		usock_changed(p);
		done += n;
		first = 0;
	}
	return (long)done;
}

/* Install the descriptors of m into the program's table and write SCM_RIGHTS (and credentials) into control. */
static void put_control(struct usock *s, struct umsg *m, int flags, int peek, struct recv_ctl *rc)
{
	uint64_t at = 0;
	if (m->nfds) {
		uint32_t fit = rc->controllen >= 16 + 4 ? (uint32_t)((rc->controllen - 16) / 4) : 0;
		if (fit > m->nfds)
			fit = m->nfds;
		if (fit < m->nfds)
			rc->msg_flags |= MSG_CTRUNC;
		int32_t fdv[UNIX_MAX_FDS];
		uint32_t got = 0;
		for (uint32_t i = 0; i < m->nfds; i++) {
			struct file *fl = m->fds[i];
			if (!peek) {
				m->fds[i] = NULL;
				usock_inflight_del(fl);
			} else {
				file_get(fl);
			}
			if (i >= fit) {
				file_put(fl);
				continue;
			}
			int fd = fd_install(fl, 0, (flags & MSG_CMSG_CLOEXEC) != 0);   /* drops fl on failure */
			if (fd < 0) {
				rc->msg_flags |= MSG_CTRUNC;
				continue;
			}
			fdv[got++] = fd;
		}
		if (got) {
			uint64_t hdr[2] = { 16 + 4ull * got, 1 /* SOL_SOCKET */ | (1ull /* SCM_RIGHTS */ << 32) };
			if (copy_to_user(rc->control, hdr, 16) || copy_to_user(rc->control + 16, fdv, 4ull * got))
				rc->msg_flags |= MSG_CTRUNC;
			at = ALIGN_UP(16 + 4ull * got, 8);
			if (at > rc->controllen)
				at = rc->controllen;
		}
	}
	if (s->passcred) {
		if (rc->controllen >= at + 28) {
			uint64_t hdr[2] = { 28, 1 | (2ull /* SCM_CREDENTIALS */ << 32) };
			if (!copy_to_user(rc->control + at, hdr, 16) && !copy_to_user(rc->control + at + 16, &m->cred, 12))
				at += 32;
			if (at > rc->controllen)
				at = rc->controllen;
		} else if (rc->control || rc->controllen) {
			rc->msg_flags |= MSG_CTRUNC;
		}
	}
	rc->ctl_written = at;
}

/* One pass: wait for the first message (unless have > 0), then take what there is. */
static long recv_once(struct usock *s, struct file *f, struct uio *u, int flags, struct recv_ctl *rc, uint64_t have,
		      int64_t deadline)
{
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	int peek = (flags & MSG_PEEK) != 0;
	while (!s->q) {
		if (s->err && !have) {
			int e = s->err;
			s->err = 0;
			return -e;
		}
		if (s->rcv_shut)
			return 0;
		if (s->type != SOCK_DGRAM && s->state != US_CONNECTED)
			return have ? 0 : s->type == SOCK_STREAM ? -EINVAL : -ENOTCONN;
		if (nonblock)
			return have ? 0 : -EAGAIN;
		int err = usock_wait(s, deadline);
		if (err)
			return have ? 0 : err;
	}
	uint64_t total = u->resid, done = 0;

	if (s->type != SOCK_STREAM) {
		struct umsg *m = s->q;
		uint32_t n = m->len < total ? m->len : (uint32_t)total;
		int err = msg_copy_out(m, 0, n, u);
		if (err)
			return err;
		if (n < m->len)
			rc->msg_flags |= MSG_TRUNC;
		rc->from = m->from;
		rc->fromlen = m->fromlen;
		put_control(s, m, flags, peek, rc);
		uint32_t len = m->len;
		if (!peek) {
			q_pop(s);
			msg_free(m);
			usock_changed(s);
		}
		return (flags & MSG_TRUNC) ? (long)len : (long)n;
	}

	/* A stream: bytes from as many messages as fit, up to one that carries descriptors. */
	struct umsg *m = s->q;
	while (m && done < total) {
		if (m->nfds && (done || have))
			break;
		uint32_t avail = m->len - m->off;
		uint32_t n = avail < total - done ? avail : (uint32_t)(total - done);
		int err = msg_copy_out(m, m->off, n, u);
		if (err)
			return done ? (long)done : err;
		done += n;
		int had_fds = m->nfds != 0;
		if (had_fds)
			put_control(s, m, flags, peek, rc);
		if (peek) {
			if (m->off + n < m->len)
				break;
			m = m->next;
		} else {
			m->off += n;
			if (m->off == m->len) {
				q_pop(s);
				msg_free(m);
			}
			m = s->q;
		}
		if (had_fds)
			break;
	}
	if (!peek)
		usock_changed(s);
	return (long)done;
}

long usock_recv(struct usock *s, struct file *f, struct uio *u, int flags, struct recv_ctl *rc)
{
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->state == US_LISTENING)
		return -EINVAL;
	int64_t deadline = usock_deadline(s->rcvtimeo);
	long done = recv_once(s, f, u, flags, rc, 0, deadline);
	/* MSG_WAITALL on a stream: wait for the rest as for the first byte. */
	while (done > 0 && (flags & MSG_WAITALL) && !(flags & MSG_PEEK) && s->type == SOCK_STREAM && u->resid) {
		long more = recv_once(s, f, u, flags, rc, (uint64_t)done, deadline);
		if (more <= 0)
			break;
		done += more;
	}
	return done;
}
