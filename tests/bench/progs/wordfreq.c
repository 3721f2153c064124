/* wordfreq.c: the gcc workload's source (compiled, not run, by make bench): a word-frequency counter
 * with its own hash table, about 200 lines of ordinary C: structs, a few headers, loops, qsort, stdio.
 * It does work if run: wordfreq [-n TOP] [-i] [FILE...] prints the TOP most frequent words of the files
 * (or of stdin), case-folded with -i. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORD 64

struct entry {
	struct entry *next;
	uint32_t hash;
	unsigned long count;
	char word[];
};

struct table {
	struct entry **buckets;
	size_t nbuckets;
	size_t nentries;
};

struct options {
	long top;
	int fold;
};

/* FNV-1a: cheap and good enough for words */
static uint32_t hash_word(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "wordfreq: out of memory\n");
		exit(1);
	}
	return p;
}

static void table_init(struct table *t, size_t nbuckets)
{
	t->buckets = xcalloc(nbuckets, sizeof *t->buckets);
	t->nbuckets = nbuckets;
	t->nentries = 0;
}

/* Double the buckets once the table is three-quarters full, rehashing every entry. */
static void table_grow(struct table *t)
{
	size_t n = t->nbuckets * 2;
	struct entry **b = xcalloc(n, sizeof *b);
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct entry *e = t->buckets[i];
		while (e) {
			struct entry *next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static void table_add(struct table *t, const char *word, size_t len)
{
	uint32_t h = hash_word(word, len);
	struct entry **slot = &t->buckets[h & (t->nbuckets - 1)];
	for (struct entry *e = *slot; e; e = e->next) {
		if (e->hash == h && strncmp(e->word, word, len) == 0 && e->word[len] == '\0') {
			e->count++;
			return;
		}
	}
	struct entry *e = xcalloc(1, sizeof *e + len + 1);
	memcpy(e->word, word, len);
	e->hash = h;
	e->count = 1;
	e->next = *slot;
	*slot = e;
	if (++t->nentries * 4 > t->nbuckets * 3)
		table_grow(t);
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct entry *e = t->buckets[i];
		while (e) {
			struct entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(t->buckets);
}

/* Read words (runs of letters, digits and apostrophes) from f into t. */
static void count_words(FILE *f, struct table *t, const struct options *o)
{
	char word[MAX_WORD];
	size_t len = 0;
	int c;
	while ((c = getc(f)) != EOF) {
		if (isalnum(c) || c == '\'') {
			if (len < sizeof word)
				word[len++] = (char)(o->fold ? tolower(c) : c);
			continue;
		}
		if (len)
			table_add(t, word, len);
		len = 0;
	}
	if (len)
		table_add(t, word, len);
}

/* Most frequent first; equal counts in alphabetical order, so the output is stable. */
static int by_count(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->word, y->word);
}

static void print_top(const struct table *t, long top)
{
	struct entry **all = xcalloc(t->nentries ? t->nentries : 1, sizeof *all);
	size_t n = 0;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct entry *e = t->buckets[i]; e; e = e->next)
			all[n++] = e;
	qsort(all, n, sizeof *all, by_count);
	for (size_t i = 0; i < n && (top < 0 || (long)i < top); i++)
		printf("%7lu %s\n", all[i]->count, all[i]->word);
	free(all);
}

static int parse_args(int argc, char **argv, struct options *o, int *first_file)
{
	o->top = 10;
	o->fold = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "-i") == 0) {
			o->fold = 1;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			o->top = strtol(argv[++i], &end, 10);
			if (errno || *end || o->top < -1) {
				fprintf(stderr, "wordfreq: -n wants a count (or -1 for all), not '%s'\n", argv[i]);
				return -1;
			}
		} else {
			fprintf(stderr, "usage: wordfreq [-n TOP] [-i] [FILE...]\n");
			return -1;
		}
	}
	*first_file = i;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct table t;
	int first, status = 0;
	if (parse_args(argc, argv, &o, &first) < 0)
		return 2;
	table_init(&t, 64);
	if (first == argc)
		count_words(stdin, &t, &o);
	for (int i = first; i < argc; i++) {
		FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
		if (!f) {
			fprintf(stderr, "wordfreq: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		count_words(f, &t, &o);
		if (f != stdin)
			fclose(f);
	}
	print_top(&t, o.top);
	table_free(&t);
	return status;
}
