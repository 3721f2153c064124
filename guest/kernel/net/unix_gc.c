/*
 * unix_gc.c: the collector of SCM_RIGHTS cycles. A socket whose file sits in
 * a message in its own receive queue (or two sockets each queued in the
 * other's) keeps itself alive after every descriptor a program held is
 * closed: nobody can receive those messages any more, and nothing else
 * frees them. The collector finds such sockets and frees their queues, as
 * Linux's unix_gc does:
 *
 *   1. Candidates: sockets in flight whose file is referenced by messages
 *      only (file references == in-flight references).
 *   2. For every message queued on a candidate, each candidate it carries
 *      loses one count: what is left counts references from messages queued
 *      on sockets that are not candidates, i.e. reachable from outside.
 *   3. A candidate with a count left is alive, and so is everything queued
 *      on it, transitively.
 *   4. The other candidates are garbage: their queued messages are taken off
 *      and freed, which drops the last references to their files and closes
 *      them as any last close does.
 *
 * It runs when a unix socket's last file is closed while sockets are in
 * flight (a cycle closed by its last close is found at the next one, as on
 * Linux), and before a send that carries descriptors once many sockets are in
 * flight; in both cases only while a cycle may exist (maybe_cyclic, as
 * Linux's unix_graph_state), so that long chains of sockets in flight, which
 * cannot be garbage, cost nothing at each close. A cycle is closed by queuing
 * a socket on one that is itself in flight (the edge that closes it ends at a
 * socket the cycle carries), so usock_queued sets the flag then; a
 * collection clears it once no cycle is left among the sockets in flight. One CPU and no sleeping while it marks make it free of races; the
 * frees at the end run after the marks are cleared, since they may close
 * sockets (and so run this again, which the guard turns into nothing).
 */
#include "kernel/syscall.h"
#include "net.h"
#include "unix.h"

#define GC_FLIGHT_TRIGGER 4096   /* sockets in flight before a send with descriptors collects first */

enum { GC_NONE, GC_CANDIDATE, GC_ALIVE };

static struct usock *inflight_list;
static uint32_t inflight_sockets;   /* on the list */
static int gc_running;
static int maybe_cyclic;            /* a cycle may exist among the sockets in flight */

void usock_inflight_add(struct file *f)
{
	struct usock *s = sock_of(f);
	if (!s || s->inflight++)
		return;
	s->inflight_next = inflight_list;
	s->inflight_pprev = &inflight_list;
	if (inflight_list)
		inflight_list->inflight_pprev = &s->inflight_next;
	inflight_list = s;
	inflight_sockets++;
}

void usock_inflight_del(struct file *f)
{
	struct usock *s = sock_of(f);
	if (!s || --s->inflight)
		return;
	*s->inflight_pprev = s->inflight_next;
	if (s->inflight_next)
		s->inflight_next->inflight_pprev = s->inflight_pprev;
	s->inflight_next = NULL;
	s->inflight_pprev = NULL;
	inflight_sockets--;
}

/*
 * m, carrying descriptors, was queued on r. A socket in flight queued on one
 * in flight may close a cycle; so may anything queued on an embryo (a
 * connection not accepted yet), which its listener carries.
 */
void usock_queued(struct usock *r, struct umsg *m)
{
	if (maybe_cyclic || !(r->inflight || !r->file))
		return;
	for (uint32_t i = 0; i < m->nfds; i++)
		if (m->fds[i] && sock_of(m->fds[i]))
			maybe_cyclic = 1;
}

/* The socket a message's descriptor i refers to, if it is a candidate (or already marked alive). */
static struct usock *marked_child(struct umsg *m, uint32_t i)
{
	struct usock *c = m->fds[i] ? sock_of(m->fds[i]) : NULL;
	return c && c->gc_state != GC_NONE ? c : NULL;
}

/* Call fn for every marked socket carried by a message queued on s (on a listener: on its embryos too). */
static void for_children(struct usock *s, void (*fn)(struct usock *c))
{
	struct usock *e = s;
	for (;;) {
		for (struct umsg *m = e->q; m; m = m->next)
			for (uint32_t i = 0; i < m->nfds; i++) {
				struct usock *c = marked_child(m, i);
				if (c)
					fn(c);
			}
		e = e == s ? s->embryo : e->next_embryo;
		if (!e || s->state != US_LISTENING)
			return;
	}
}

static void drop_count(struct usock *c)
{
	c->gc_refs--;
}

static void add_count(struct usock *c)
{
	c->gc_refs++;
}

static struct usock *work;   /* candidates found alive whose children are still to mark */

static void mark_alive(struct usock *c)
{
	if (c->gc_state == GC_ALIVE)
		return;
	c->gc_state = GC_ALIVE;
	c->gc_work = work;
	work = c;
}

static void drop_count_ready(struct usock *c)
{
	if (--c->gc_refs == 0)
		mark_alive(c);
}

/*
 * Whether the sockets in flight, with an edge from each to those queued on
 * it, hold a cycle: Kahn's topological sort, taking off the sockets nothing
 * in flight carries until none is left (no cycle) or the rest all carry
 * each other.
 */
static int any_cycle(void)
{
	uint32_t n = 0, taken = 0;
	for (struct usock *s = inflight_list; s; s = s->inflight_next, n++) {
		s->gc_state = GC_CANDIDATE;
		s->gc_refs = 0;
	}
	for (struct usock *s = inflight_list; s; s = s->inflight_next)
		for_children(s, add_count);
	work = NULL;
	for (struct usock *s = inflight_list; s; s = s->inflight_next)
		if (s->gc_refs == 0)
			mark_alive(s);
	while (work) {
		struct usock *s = work;
		work = s->gc_work;
		taken++;
		for_children(s, drop_count_ready);
	}
	for (struct usock *s = inflight_list; s; s = s->inflight_next)
		s->gc_state = GC_NONE;
	return taken != n;
}

/* Only messages reference s's file: it is a candidate. */
static int only_in_flight(struct usock *s)
{
	return s->file && s->vn && s->vn->refs == 1 && s->file->refs == (int)s->inflight;
}

/* Take every message off s (and its embryos) onto *hit. */
static void take_queue(struct usock *s, struct umsg ***hit)
{
	struct usock *e = s;
	while (e) {
		struct umsg *m;
		int took = 0;
		while ((m = q_pop(e))) {
			**hit = m;
			*hit = &m->next;
			m->next = NULL;
			took = 1;
		}
		if (took)
			usock_changed(e);   /* a writer blocked on the full queue looks again */
		e = e == s ? (s->state == US_LISTENING ? s->embryo : NULL) : e->next_embryo;
	}
}

void usock_gc(void)
{
	if (gc_running || !inflight_list || !maybe_cyclic)
		return;
	gc_running = 1;
	for (struct usock *s = inflight_list; s; s = s->inflight_next) {
		if (only_in_flight(s)) {
			s->gc_state = GC_CANDIDATE;
			s->gc_refs = s->inflight;
		}
	}
	for (struct usock *s = inflight_list; s; s = s->inflight_next)
		if (s->gc_state == GC_CANDIDATE)
			for_children(s, drop_count);
	work = NULL;
	for (struct usock *s = inflight_list; s; s = s->inflight_next)
		if (s->gc_state == GC_CANDIDATE && s->gc_refs > 0)
			mark_alive(s);
	while (work) {
		struct usock *s = work;
		work = s->gc_work;
		for_children(s, mark_alive);
	}
	struct umsg *hit = NULL, **hit_tail = &hit;
	for (struct usock *s = inflight_list; s; s = s->inflight_next) {
		if (s->gc_state == GC_CANDIDATE)
			take_queue(s, &hit_tail);
		s->gc_state = GC_NONE;
	}
	/* Freeing closes the garbage sockets' files; their own queues are empty by now. */
	while (hit) {
		struct umsg *m = hit;
		hit = m->next;
		msg_free(m);
	}
	maybe_cyclic = any_cycle();
	gc_running = 0;
}

void usock_gc_maybe(void)
{
	if (inflight_sockets > GC_FLIGHT_TRIGGER)
		usock_gc();
}
