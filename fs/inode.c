/* SPDX-License-Identifier: MIT */
/*
 * The inode table of the mount: inode number <-> path, with the kernel's lookup counts.
 *
 * An inode stands for a path *and* what it shows: its number is FNV-1a 64 of the path, a NUL,
 * and the node's identity (store_node.identity), so an asset whose bytes could have changed
 * (a version deleted and published again) comes back under a new number, and the kernel never
 * serves old cached pages for new content. Folders have identity 0, so their numbers are
 * stable for as long as their path is. Numbers 0 and 1 are never computed (1 is FUSE_ROOT_ID,
 * "/", which is always in the table); a collision with an entry for another (path, identity)
 * probes upwards, and the table, not the hash, is the truth from then on. A rename through the
 * mount (fs/names.c) gives an inode a new path and keeps its number, as the kernel's dentry
 * keeps its inode.
 *
 * Entries live while the kernel holds lookups on them (lookup, readdirplus) and go when
 * forget brings the count to zero, so the table's size follows the kernel's inode cache.
 * Two chained hash indexes point at each entry: by inode number (every op) and by the
 * unprobed hash of (path, identity) (lookup). One mutex protects everything; it is never held
 * across a call into the store or the kernel.
 *
 * A synthesized file changes in place (its number stays), so its opens tell the kernel
 * whether its cached pages may be kept (fs_inode_synth_open()): only when the bytes rendered
 * now are those rendered at the open before, and no handle still holds older bytes, whose reads
 * could put them back into the cache. The first open after a change drops the pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/internal.h"

struct entry {
	fuse_ino_t ino;
	uint64_t key; /* fnv(path, identity): the unprobed number */
	fuse_ino_t parent;
	char *path; /* owned */
	struct fs_attr attr;
	uint64_t nlookup; /* kernel lookups; the root ignores it */
	/* synthesized files: what the kernel's cached pages may hold (fs_inode_synth_open()) */
	uint64_t synth_hash;    /* of the bytes of the latest open */
	uint32_t synth_cur;     /* open handles with those bytes */
	uint32_t synth_stale;   /* open handles with older bytes */
	bool synth_known;       /* synth_hash is set */
	bool synth_inval;       /* pages of older bytes may be cached: the next open drops them */
	struct entry *next_ino; /* chain of by_ino */
	struct entry *next_key; /* chain of by_key */
};

struct fs_inode_table {
	pthread_mutex_t lock;
	struct entry **by_ino; /* protected by lock; n_buckets chains */
	struct entry **by_key; /* protected by lock; n_buckets chains */
	size_t n_buckets;      /* protected by lock; a power of two */
	size_t n_entries;      /* protected by lock; the root included */
};

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t ino_key(const char *path, uint64_t identity)
{
	unsigned char id[8];
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 8; i++)
		id[i] = (unsigned char)(identity >> (8 * i));
	h = fnv_bytes(h, path, strlen(path) + 1); /* the NUL separates path from identity */
	h = fnv_bytes(h, id, sizeof(id));
	return h;
}

/* Spread a number over the buckets (inode numbers from probing are consecutive). */
static size_t bucket(const struct fs_inode_table *t, uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v & (t->n_buckets - 1);
}

static struct entry *find_ino(const struct fs_inode_table *t, fuse_ino_t ino)
{
	for (struct entry *x = t->by_ino[bucket(t, ino)]; x; x = x->next_ino)
		if (x->ino == ino)
			return x;
	return NULL;
}

static struct entry *find_key(const struct fs_inode_table *t, uint64_t key, const char *path,
			      uint64_t identity)
{
	for (struct entry *x = t->by_key[bucket(t, key)]; x; x = x->next_key)
		if (x->key == key && x->attr.identity == identity && strcmp(x->path, path) == 0)
			return x;
	return NULL;
}

/* The first free number from @key upwards, skipping 0 and FUSE_ROOT_ID. */
static fuse_ino_t free_ino(const struct fs_inode_table *t, uint64_t key)
{
	fuse_ino_t ino = key;

	for (;;) {
		if (ino > FUSE_ROOT_ID && !find_ino(t, ino))
			return ino;
		ino++;
	}
}

static void link_entry(struct fs_inode_table *t, struct entry *x)
{
	size_t bi = bucket(t, x->ino), bk = bucket(t, x->key);

	x->next_ino = t->by_ino[bi];
	t->by_ino[bi] = x;
	x->next_key = t->by_key[bk];
	t->by_key[bk] = x;
}

static void unlink_entry(struct fs_inode_table *t, struct entry *x)
{
	struct entry **p;

	for (p = &t->by_ino[bucket(t, x->ino)]; *p != x; p = &(*p)->next_ino)
		;
	*p = x->next_ino;
	for (p = &t->by_key[bucket(t, x->key)]; *p != x; p = &(*p)->next_key)
		;
	*p = x->next_key;
}

/* Double the buckets when the table is fuller than one entry per bucket. */
static int grow(struct fs_inode_table *t)
{
	size_t old_n = t->n_buckets, n = old_n * 2;
	struct entry **old = t->by_ino;
	struct entry **by_ino = calloc(n, sizeof(*by_ino));
	struct entry **by_key = calloc(n, sizeof(*by_key));

	if (!by_ino || !by_key) {
		free(by_ino);
		free(by_key);
		return -ENOMEM;
	}
	free(t->by_key);
	t->by_ino = by_ino;
	t->by_key = by_key;
	t->n_buckets = n;
	for (size_t i = 0; i < old_n; i++) {
		struct entry *x = old[i];

		while (x) {
			struct entry *next = x->next_ino;

			link_entry(t, x);
			x = next;
		}
	}
	free(old);
	return 0;
}

struct fs_inode_table *fs_inode_table_new(void)
{
	struct fs_inode_table *t = calloc(1, sizeof(*t));
	struct entry *root = calloc(1, sizeof(*root));

	if (!t || !root)
		goto fail;
	t->n_buckets = 1024;
	t->by_ino = calloc(t->n_buckets, sizeof(*t->by_ino));
	t->by_key = calloc(t->n_buckets, sizeof(*t->by_key));
	root->path = strdup("/");
	if (!t->by_ino || !t->by_key || !root->path)
		goto fail;
	root->ino = FUSE_ROOT_ID;
	root->parent = FUSE_ROOT_ID;
	root->key = ino_key("/", 0);
	root->attr.kind = STORE_NODE_ROOT;
	root->nlookup = 1;
	link_entry(t, root);
	t->n_entries = 1;
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		goto fail;
	return t;
fail:
	if (root)
		free(root->path);
	free(root);
	if (t) {
		free(t->by_ino);
		free(t->by_key);
	}
	free(t);
	return NULL;
}

void fs_inode_table_free(struct fs_inode_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct entry *x = t->by_ino[i];

		while (x) {
			struct entry *next = x->next_ino;

			free(x->path);
			free(x);
			x = next;
		}
	}
	free(t->by_ino);
	free(t->by_key);
	(void)pthread_mutex_destroy(&t->lock);
	free(t);
}

int fs_inode_ref(struct fs_inode_table *t, const char *path, fuse_ino_t parent,
		 const struct fs_attr *a, fuse_ino_t *ret)
{
	uint64_t key = ino_key(path, a->identity);
	struct entry *x;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	x = find_key(t, key, path, a->identity);
	if (!x) {
		if (t->n_entries >= t->n_buckets)
			(void)grow(t); /* a fuller table is slower, not wrong */
		x = calloc(1, sizeof(*x));
		if (x)
			x->path = strdup(path);
		if (!x || !x->path) {
			free(x);
			r = -ENOMEM;
			goto out;
		}
		x->key = key;
		x->ino = free_ino(t, key);
		link_entry(t, x);
		t->n_entries++;
	}
	x->parent = parent;
	x->attr = *a;
	x->nlookup++;
	*ret = x->ino;
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

int fs_inode_get(struct fs_inode_table *t, fuse_ino_t ino, struct fs_inode_info *ret)
{
	struct entry *x;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	x = find_ino(t, ino);
	if (!x) {
		r = -ESTALE;
		goto out;
	}
	ret->path = strdup(x->path);
	if (!ret->path) {
		r = -ENOMEM;
		goto out;
	}
	ret->parent = x->parent;
	ret->attr = x->attr;
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

void fs_inode_forget(struct fs_inode_table *t, fuse_ino_t ino, uint64_t nlookup)
{
	struct entry *x;

	if (ino == FUSE_ROOT_ID)
		return;
	pthread_mutex_lock(&t->lock);
	x = find_ino(t, ino);
	if (x) {
		x->nlookup = x->nlookup > nlookup ? x->nlookup - nlookup : 0;
		if (x->nlookup == 0) {
			unlink_entry(t, x);
			t->n_entries--;
			free(x->path);
			free(x);
		}
	}
	pthread_mutex_unlock(&t->lock);
}

/* Give @x the path @path (owned: taken over) and the key that goes with it. Under the lock. */
static void repath(struct fs_inode_table *t, struct entry *x, char *path)
{
	struct entry **p;

	for (p = &t->by_key[bucket(t, x->key)]; *p != x; p = &(*p)->next_key)
		;
	*p = x->next_key;
	free(x->path);
	x->path = path;
	x->key = ino_key(path, x->attr.identity);
	x->next_key = t->by_key[bucket(t, x->key)];
	t->by_key[bucket(t, x->key)] = x;
}

/* @path lies below @dir. */
static bool below(const char *path, const char *dir, size_t dir_len)
{
	return strncmp(path, dir, dir_len) == 0 && path[dir_len] == '/';
}

int fs_inode_move(struct fs_inode_table *t, const char *from, uint64_t identity, const char *to,
		  fuse_ino_t new_parent, bool tree)
{
	size_t from_len = strlen(from), n = 0;
	struct entry **moved = NULL;
	char **paths = NULL;
	struct entry *self;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	self = find_key(t, ino_key(from, identity), from, identity);
	if (tree) {
		moved = calloc(t->n_entries, sizeof(*moved));
		paths = calloc(t->n_entries, sizeof(*paths));
		if (!moved || !paths) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < t->n_buckets; i++)
			for (struct entry *x = t->by_ino[i]; x; x = x->next_ino)
				if (x->ino != FUSE_ROOT_ID && below(x->path, from, from_len))
					moved[n++] = x;
	}
	/* every new path first, so that running out of memory changes nothing */
	for (size_t i = 0; i < n; i++) {
		if (asprintf(&paths[i], "%s%s", to, moved[i]->path + from_len) < 0) {
			paths[i] = NULL;
			r = -ENOMEM;
			goto out;
		}
	}
	if (self) {
		char *p = strdup(to);

		if (!p) {
			r = -ENOMEM;
			goto out;
		}
		repath(t, self, p);
		self->parent = new_parent;
	}
	for (size_t i = 0; i < n; i++) {
		repath(t, moved[i], paths[i]);
		paths[i] = NULL;
	}
out:
	pthread_mutex_unlock(&t->lock);
	for (size_t i = 0; paths && i < n; i++)
		free(paths[i]);
	free(paths);
	free(moved);
	return r;
}

fuse_ino_t fs_inode_peek(struct fs_inode_table *t, const char *path, uint64_t identity)
{
	uint64_t key = ino_key(path, identity);
	struct entry *x;
	fuse_ino_t ino;

	pthread_mutex_lock(&t->lock);
	x = find_key(t, key, path, identity);
	ino = x ? x->ino : free_ino(t, key);
	pthread_mutex_unlock(&t->lock);
	return ino;
}

int fs_inode_snapshot(struct fs_inode_table *t, struct fs_inode_snap **ret, size_t *ret_n)
{
	struct fs_inode_snap *snap;
	size_t n = 0;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	snap = calloc(t->n_entries, sizeof(*snap));
	if (!snap) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->n_buckets; i++) {
		for (struct entry *x = t->by_ino[i]; x; x = x->next_ino) {
			const char *slash = strrchr(x->path, '/');

			if (x->ino == FUSE_ROOT_ID)
				continue;
			snap[n].name = strdup(slash ? slash + 1 : x->path);
			if (!snap[n].name) {
				r = -ENOMEM;
				goto out;
			}
			snap[n].ino = x->ino;
			snap[n].parent = x->parent;
			snap[n].kind = x->attr.kind;
			snap[n].staged = x->attr.staged;
			n++;
		}
	}
out:
	pthread_mutex_unlock(&t->lock);
	if (r < 0) {
		fs_inode_snapshot_free(snap, n);
		return r;
	}
	*ret = snap;
	*ret_n = n;
	return 0;
}

void fs_inode_snapshot_free(struct fs_inode_snap *snap, size_t n)
{
	for (size_t i = 0; snap && i < n; i++)
		free(snap[i].name);
	free(snap);
}

bool fs_inode_synth_open(struct fs_inode_table *t, fuse_ino_t ino, uint64_t hash)
{
	struct entry *x;
	bool keep = false;

	pthread_mutex_lock(&t->lock);
	x = find_ino(t, ino);
	if (x) {
		if (!x->synth_known || x->synth_hash != hash) {
			x->synth_stale += x->synth_cur;
			x->synth_cur = 0;
			x->synth_hash = hash;
			x->synth_known = true;
			x->synth_inval = true;
		}
		keep = !x->synth_inval;
		if (x->synth_stale == 0)
			x->synth_inval =
				false; /* this open drops the pages; nothing can refill them */
		x->synth_cur++;
	}
	pthread_mutex_unlock(&t->lock);
	return keep;
}

void fs_inode_synth_close(struct fs_inode_table *t, fuse_ino_t ino, uint64_t hash)
{
	struct entry *x;

	pthread_mutex_lock(&t->lock);
	x = find_ino(t, ino);
	if (x && x->synth_known) {
		if (x->synth_hash == hash && x->synth_cur > 0)
			x->synth_cur--;
		else if (x->synth_stale > 0)
			x->synth_stale--;
	}
	pthread_mutex_unlock(&t->lock);
}
