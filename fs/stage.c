/* SPDX-License-Identifier: MIT */
/*
 * The staging table: what this mount holds that the store does not (DESIGN.md §3, "writing is
 * publishing"). Two kinds of entries, both keyed by their path in the mount:
 *   - staged files: a file being written (create, mknod, or an open for writing) lives in a
 *     private O_TMPFILE in the domain's tmp/ folder until a flush publishes it; a file under a
 *     dot name is never published at flush and stays until it is renamed to a plain name
 *     (publish), moved inside its staging tree, or unlinked;
 *   - staged folders: folders under a dot name (private work in progress), and "pending"
 *     folders that mkdir accepted inside a format folder, which become real when something is
 *     published below them.
 * Nothing here is durable: a crash or an unmount forgets it all, and an O_TMPFILE leaves
 * nothing behind in tmp/.
 *
 * An entry is reference-counted: the table holds one reference while the entry is in it and
 * each open file handle holds one more, so unlink and rename never pull a file from under a
 * writer. A non-private file leaves the table when its last handle closes (published, refused
 * or never written: the store is the truth from then on); a private one stays. All I/O on a
 * staged fd in fs/ is positional (pread/pwrite/copy_file_range), so its file offset is free
 * for the store, which reads a published file from offset 0.
 *
 * A file copied whole from a published asset (cp inside the mount: copy_file_range into an
 * empty file) holds the blob's fd instead of a copy of its bytes, so that its publish finds the
 * blob without reading it (store_blob_ingest_fd() recognizes its own blobs). The first change
 * of its bytes copies them into the temp file and writes there.
 *
 * A publish gives the store the temp file itself (fs_staged_give_begin()): the store hashes it
 * in place and, when its bytes are new, links that very inode as the blob instead of copying it
 * (store_blob_adopt_fd()), which halves the bytes a large cp into the mount writes. The file
 * may be a blob from then on, so it is never written again: it becomes the file's reference
 * (as if copied by reference from that blob) and a fresh temp file takes its place, into which
 * the next change copies. Every use of a file's fds holds its io lock, shared (reads, writes,
 * truncates, copies); a give holds it exclusively from before the store reads the first byte
 * until the swap, so no write can land between the hash and the link, and no fd is closed
 * under a reader.
 *
 * One mutex protects the table and every entry's mutable fields; each file also has a publish
 * mutex held across its store call, so two flushes of one file publish one after the other.
 * Expected size: the files being written right now plus the private trees being assembled.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/internal.h"
#include "policy/common.h"

struct fs_staged {
	char *path;       /* owned; protected by the table's lock */
	bool dir;         /* fixed */
	bool private_;    /* protected by lock: a component of path starts with '.' */
	bool in_table;    /* protected by lock */
	int fd;           /* file: the temp file, owned; -1 for a folder; swapped only by a give,
			     with io held exclusively (read it with io held) */
	int ref_fd;       /* file: a blob it was copied from by reference, owned; set by the copy,
			     replaced only by a give with io held exclusively */
	bool by_ref;      /* protected by lock: the bytes are ref_fd's, fd is still empty */
	uint64_t serial;  /* fixed: the identity of the file's inode */
	unsigned refs;    /* protected by lock: the table's (while in_table) + each holder */
	unsigned opens;   /* protected by lock: open file handles */
	unsigned writers; /* protected by lock: a handle open for writing or a truncate by path */
	uint64_t wgen;    /* protected by lock: bumped by every change of the bytes */
	uint64_t pub_gen; /* protected by lock: wgen at the last successful publish */
	bool settled;     /* protected by lock: a publish was tried, nothing written since */
	bool copy;        /* protected by lock: began as a published file's bytes, not truncated */
	int64_t mtime_us; /* protected by lock */
	bool giving;      /* protected by lock: a give that may adopt fd is in progress */
	int spare_fd;     /* protected by io (exclusive): the temp file that replaces a given fd */
	pthread_mutex_t pub_lock;  /* serializes the publishes of this file */
	pthread_mutex_t copy_lock; /* serializes copying ref_fd's bytes into fd (by_ref) */
	pthread_rwlock_t io;       /* shared: fds in use; exclusive: a give (see above) */
	struct fs_staged *next;    /* protected by lock: hash chain */
};

struct fs_stage {
	pthread_mutex_t lock;
	int tmp_fd;                 /* the domain's tmp/ folder; owned */
	uint64_t next_serial;       /* protected by lock */
	struct fs_staged **buckets; /* protected by lock; n_buckets chains */
	size_t n_buckets;           /* protected by lock; a power of two */
	size_t n;                   /* protected by lock */
};

static int64_t now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t path_hash(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

bool fs_path_private(const char *path)
{
	for (const char *p = path; *p; p++)
		if (p[0] == '/' && p[1] == '.')
			return true;
	return path[0] == '.';
}

/* @path is @dir itself or lies below it. */
static bool under(const char *path, const char *dir, bool self)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) != 0)
		return false;
	if (path[n] == '\0')
		return self;
	return path[n] == '/' || (n == 1 && dir[0] == '/');
}

/* The name of @path if it is a direct child of @dir, else NULL. */
static const char *child_name(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	const char *rest;

	if (strncmp(path, dir, n) != 0)
		return NULL;
	rest = path + n;
	if (!(n == 1 && dir[0] == '/')) {
		if (*rest != '/')
			return NULL;
		rest++;
	}
	if (*rest == '\0' || strchr(rest, '/'))
		return NULL;
	return rest;
}

static struct fs_staged **chain(struct fs_stage *t, const char *path)
{
	return &t->buckets[path_hash(path) & (t->n_buckets - 1)];
}

static struct fs_staged *find(struct fs_stage *t, const char *path)
{
	for (struct fs_staged *x = *chain(t, path); x; x = x->next)
		if (strcmp(x->path, path) == 0)
			return x;
	return NULL;
}

static void link_in(struct fs_stage *t, struct fs_staged *x)
{
	struct fs_staged **c = chain(t, x->path);

	x->next = *c;
	*c = x;
}

static void link_out(struct fs_stage *t, struct fs_staged *x)
{
	struct fs_staged **p;

	for (p = chain(t, x->path); *p != x; p = &(*p)->next)
		;
	*p = x->next;
}

/* Double the buckets when the table is fuller than one entry per bucket; failing is slower. */
static void grow(struct fs_stage *t)
{
	size_t old_n = t->n_buckets;
	struct fs_staged **old = t->buckets;
	struct fs_staged **b = calloc(old_n * 2, sizeof(*b));

	if (!b)
		return;
	t->buckets = b;
	t->n_buckets = old_n * 2;
	for (size_t i = 0; i < old_n; i++) {
		struct fs_staged *x = old[i];

		while (x) {
			struct fs_staged *next = x->next;

			link_in(t, x);
			x = next;
		}
	}
	free(old);
}

static void entry_free(struct fs_staged *x)
{
	if (x->fd >= 0)
		(void)close(x->fd);
	if (x->ref_fd >= 0)
		(void)close(x->ref_fd);
	(void)pthread_mutex_destroy(&x->pub_lock);
	(void)pthread_mutex_destroy(&x->copy_lock);
	(void)pthread_rwlock_destroy(&x->io);
	free(x->path);
	free(x);
}

/* Drop one reference; the entry goes with the last. Under the lock. */
static void unref_locked(struct fs_staged *x)
{
	if (--x->refs == 0)
		entry_free(x);
}

/* Take @x out of the table (holders keep it alive). Under the lock. */
static void drop_locked(struct fs_stage *t, struct fs_staged *x)
{
	link_out(t, x);
	x->in_table = false;
	t->n--;
	unref_locked(x);
}

/* A new entry for @path (steals @fd, -1 for a folder), in the table. Under the lock. */
static struct fs_staged *add_locked(struct fs_stage *t, const char *path, int fd, bool dir)
{
	struct fs_staged *x = calloc(1, sizeof(*x));
	int locks = 0; /* how many of pub_lock, io, copy_lock are initialized */

	if (x && (x->path = strdup(path)) && pthread_mutex_init(&x->pub_lock, NULL) == 0 &&
	    ++locks && pthread_rwlock_init(&x->io, NULL) == 0 && ++locks &&
	    pthread_mutex_init(&x->copy_lock, NULL) == 0)
		locks++;
	if (locks < 3) {
		if (locks > 1)
			(void)pthread_rwlock_destroy(&x->io);
		if (locks > 0)
			(void)pthread_mutex_destroy(&x->pub_lock);
		if (x)
			free(x->path);
		free(x);
		if (fd >= 0)
			(void)close(fd);
		return NULL;
	}
	x->dir = dir;
	x->fd = fd;
	x->ref_fd = -1;
	x->spare_fd = -1;
	x->private_ = fs_path_private(path);
	x->in_table = true;
	x->refs = 1;
	x->serial = ++t->next_serial;
	x->mtime_us = now_us();
	if (t->n >= t->n_buckets)
		grow(t);
	link_in(t, x);
	t->n++;
	return x;
}

static void stat_locked(const struct fs_staged *x, struct fs_stage_stat *ret)
{
	struct stat st;

	memset(ret, 0, sizeof(*ret));
	ret->type = x->dir ? FS_STAGE_DIR : FS_STAGE_FILE;
	ret->serial = x->serial;
	ret->mtime_us = x->mtime_us;
	ret->private_ = x->private_;
	ret->settled = x->settled;
	ret->copy = x->copy;
	if (!x->dir && fstat(x->by_ref ? x->ref_fd : x->fd, &st) == 0)
		ret->size = (uint64_t)st.st_size;
}

struct fs_stage *fs_stage_new(int tmp_fd)
{
	struct fs_stage *t = calloc(1, sizeof(*t));

	if (t) {
		t->n_buckets = 64;
		t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	}
	if (!t || !t->buckets || pthread_mutex_init(&t->lock, NULL) != 0) {
		if (t)
			free(t->buckets);
		free(t);
		(void)close(tmp_fd);
		return NULL;
	}
	t->tmp_fd = tmp_fd;
	return t;
}

void fs_stage_free(struct fs_stage *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		struct fs_staged *x = t->buckets[i];

		while (x) {
			struct fs_staged *next = x->next;

			entry_free(x); /* the session is over: no handle is left */
			x = next;
		}
	}
	free(t->buckets);
	(void)close(t->tmp_fd);
	(void)pthread_mutex_destroy(&t->lock);
	free(t);
}

int fs_stage_tmpfile(struct fs_stage *t)
{
	char name[64];
	uint64_t serial;
	int fd;

	fd = openat(t->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	/* no O_TMPFILE here: a named file, unlinked at once (a crash leaves it to the sweep) */
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&t->lock);
		serial = ++t->next_serial;
		pthread_mutex_unlock(&t->lock);
		(void)snprintf(name, sizeof(name), "fs-stage-%d-%" PRIx64 "-%" PRIx64,
			       (int)getpid(), serial, (uint64_t)now_us());
		fd = openat(t->tmp_fd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW,
			    0600);
		if (fd >= 0) {
			(void)unlinkat(t->tmp_fd, name, 0);
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

enum fs_stage_type fs_stage_stat(struct fs_stage *t, const char *path, struct fs_stage_stat *ret)
{
	struct fs_staged *x;
	enum fs_stage_type type = FS_STAGE_NONE;

	pthread_mutex_lock(&t->lock);
	x = find(t, path);
	if (x) {
		stat_locked(x, ret);
		type = ret->type;
	}
	pthread_mutex_unlock(&t->lock);
	return type;
}

bool fs_stage_has_children(struct fs_stage *t, const char *dir)
{
	bool found = false;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n_buckets && !found; i++)
		for (struct fs_staged *x = t->buckets[i]; x && !found; x = x->next)
			found = under(x->path, dir, false);
	pthread_mutex_unlock(&t->lock);
	return found;
}

int fs_stage_list(struct fs_stage *t, const char *dir,
		  int (*cb)(void *arg, const char *name, const struct fs_stage_stat *st), void *arg)
{
	int r = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n_buckets && r == 0; i++) {
		for (struct fs_staged *x = t->buckets[i]; x && r == 0; x = x->next) {
			const char *name = child_name(x->path, dir);
			struct fs_stage_stat st;

			if (!name)
				continue;
			stat_locked(x, &st);
			r = cb(arg, name, &st);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return r < 0 ? r : 0;
}

int fs_stage_file_add(struct fs_stage *t, const char *path, int fd, unsigned flags,
		      struct fs_staged **ret)
{
	struct fs_staged *x;
	int r;

	pthread_mutex_lock(&t->lock);
	x = find(t, path);
	if (x) {
		if (x->dir)
			r = -EISDIR;
		else if (flags & FS_STAGE_EXCL)
			r = -EEXIST;
		else if ((flags & FS_STAGE_WRITER) && x->writers > 0)
			r = -EBUSY; /* before any truncation: the first writer's bytes stay whole */
		else if ((flags & FS_STAGE_TRUNC) && x->giving)
			r = -EBUSY; /* its temp file is being published, maybe as a blob */
		else if ((flags & FS_STAGE_TRUNC) && ftruncate(x->fd, 0) < 0)
			r = -errno;
		else
			r = 0;
		if (r == 0 && (flags & FS_STAGE_TRUNC)) {
			x->copy = false;
			x->by_ref = false;
		}
		if (fd >= 0)
			(void)close(fd);
	} else if (fd < 0) {
		r = -ENOENT;
	} else {
		x = add_locked(t, path, fd, false);
		r = x ? 1 : -ENOMEM;
		if (x)
			x->copy = flags & FS_STAGE_COPY;
	}
	if (r >= 0 && ret) {
		x->refs++;
		if (flags & FS_STAGE_OPEN)
			x->opens++;
		if (flags & FS_STAGE_WRITER)
			x->writers++;
		*ret = x;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int fs_pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

ssize_t fs_copy_range(int in, off_t off_in, int out, off_t off_out, size_t len)
{
	_cleanup_free_ char *buf = NULL;
	loff_t a = off_in, b = off_out;
	size_t chunk = len < FS_COPY_CHUNK ? len : FS_COPY_CHUNK;
	ssize_t n;
	int r;

	do
		n = copy_file_range(in, &a, out, &b, len, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	buf = malloc(chunk ? chunk : 1);
	if (!buf)
		return -ENOMEM;
	do
		n = pread(in, buf, chunk, off_in);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	r = fs_pwrite_all(out, buf, (size_t)n, off_out);
	return r < 0 ? r : n;
}

int fs_staged_read_begin(struct fs_stage *t, struct fs_staged *st)
{
	int fd;

	(void)pthread_rwlock_rdlock(&st->io);
	pthread_mutex_lock(&t->lock);
	st->refs++; /* a reply may let the handle go before fs_staged_io_end() */
	fd = st->by_ref ? st->ref_fd : st->fd;
	pthread_mutex_unlock(&t->lock);
	return fd;
}

int fs_staged_write_begin(struct fs_stage *t, struct fs_staged *st)
{
	off_t off = 0;
	ssize_t n = 0;
	bool by_ref;
	int from, to;

	(void)pthread_rwlock_rdlock(&st->io);
	pthread_mutex_lock(&t->lock);
	st->refs++;
	by_ref = st->by_ref;
	pthread_mutex_unlock(&t->lock);
	if (by_ref) {
		/*
		 * The bytes are a blob's (a whole-file copy, or a file given to the store): copy
		 * them into the temp file first. Not under the table's lock, which every staged
		 * file's lookup takes: a copy of gigabytes must stall only this file. The fds stay:
		 * only a give swaps them, which the shared io lock keeps out.
		 */
		pthread_mutex_lock(&st->copy_lock);
		pthread_mutex_lock(&t->lock);
		by_ref = st->by_ref; /* another writer may have copied meanwhile */
		from = st->ref_fd;
		to = st->fd;
		pthread_mutex_unlock(&t->lock);
		while (by_ref && (n = fs_copy_range(from, off, to, off, 1u << 30)) > 0)
			off += n;
		if (by_ref && n == 0) {
			pthread_mutex_lock(&t->lock);
			st->by_ref = false;
			pthread_mutex_unlock(&t->lock);
		}
		pthread_mutex_unlock(&st->copy_lock);
	}
	if (n < 0) {
		fs_staged_io_end(t, st);
		return (int)n;
	}
	return st->fd;
}

void fs_staged_io_end(struct fs_stage *t, struct fs_staged *st)
{
	(void)pthread_rwlock_unlock(&st->io);
	fs_staged_unref(t, st);
}

int fs_staged_give_begin(struct fs_stage *t, struct fs_staged *st, bool *ret_adopt)
{
	struct stat sb;
	bool big;
	int fd;

	*ret_adopt = false;
	(void)pthread_rwlock_wrlock(&st->io);
	pthread_mutex_lock(&t->lock);
	fd = st->by_ref ? st->ref_fd : st->fd;
	big = !st->by_ref && fstat(fd, &sb) == 0 && sb.st_size >= FS_ADOPT_MIN;
	pthread_mutex_unlock(&t->lock);
	if (big) {
		/* outside the table's lock, which the fallback of fs_stage_tmpfile() takes */
		int spare = fs_stage_tmpfile(t);

		if (spare >= 0) {
			/* from here on an O_TRUNC open is refused: the file may become a blob */
			pthread_mutex_lock(&t->lock);
			st->spare_fd = spare;
			st->giving = true;
			pthread_mutex_unlock(&t->lock);
			*ret_adopt = true;
		}
	}
	(void)lseek(fd, 0, SEEK_SET); /* only the store uses the offset */
	return fd;
}

void fs_staged_give_end(struct fs_stage *t, struct fs_staged *st)
{
	pthread_mutex_lock(&t->lock);
	if (st->spare_fd >= 0) {
		/* the given file may be a blob now: it is only read from here on */
		if (st->ref_fd >= 0)
			(void)close(st->ref_fd);
		st->ref_fd = st->fd;
		st->fd = st->spare_fd;
		st->spare_fd = -1;
		st->by_ref = true;
	}
	st->giving = false;
	pthread_mutex_unlock(&t->lock);
	(void)pthread_rwlock_unlock(&st->io);
}

int fs_staged_reference(struct fs_stage *t, struct fs_staged *st, int blob_fd)
{
	struct stat sb;
	int fd = fcntl(blob_fd, F_DUPFD_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&t->lock);
	if (st->ref_fd < 0 && fstat(st->fd, &sb) == 0 && sb.st_size == 0) {
		st->ref_fd = fd;
		st->by_ref = true;
		st->wgen++;
		st->settled = false;
		st->mtime_us = now_us();
		fd = -1;
		r = 1;
	}
	pthread_mutex_unlock(&t->lock);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

uint64_t fs_staged_serial(const struct fs_staged *st)
{
	return st->serial;
}

void fs_staged_changed(struct fs_stage *t, struct fs_staged *st)
{
	pthread_mutex_lock(&t->lock);
	st->wgen++;
	st->settled = false;
	st->mtime_us = now_us();
	pthread_mutex_unlock(&t->lock);
}

void fs_staged_set_mtime(struct fs_stage *t, struct fs_staged *st, int64_t mtime_us)
{
	pthread_mutex_lock(&t->lock);
	st->mtime_us = mtime_us;
	pthread_mutex_unlock(&t->lock);
}

bool fs_staged_copy(struct fs_stage *t, struct fs_staged *st)
{
	bool copy;

	pthread_mutex_lock(&t->lock);
	copy = st->copy;
	pthread_mutex_unlock(&t->lock);
	return copy;
}

void fs_staged_unref(struct fs_stage *t, struct fs_staged *st)
{
	pthread_mutex_lock(&t->lock);
	unref_locked(st);
	pthread_mutex_unlock(&t->lock);
}

void fs_staged_end_write(struct fs_stage *t, struct fs_staged *st)
{
	pthread_mutex_lock(&t->lock);
	if (st->writers > 0)
		st->writers--;
	pthread_mutex_unlock(&t->lock);
}

int fs_staged_close(struct fs_stage *t, struct fs_staged *st, char **ret_dropped)
{
	int r = 0;

	*ret_dropped = NULL;
	pthread_mutex_lock(&t->lock);
	st->opens--;
	if (st->opens == 0 && st->in_table && !st->private_) {
		*ret_dropped = strdup(st->path);
		r = *ret_dropped ? 1 : -ENOMEM;
		drop_locked(t, st);
	}
	unref_locked(st);
	pthread_mutex_unlock(&t->lock);
	return r;
}

int fs_staged_flush(struct fs_stage *t, struct fs_staged *st,
		    int (*publish)(void *arg, const char *path, int fd, bool adopt), void *arg)
{
	_cleanup_free_ char *path = NULL;
	uint64_t gen;
	bool due, adopt;
	int fd, r;

	pthread_mutex_lock(&st->pub_lock);
	pthread_mutex_lock(&t->lock);
	due = st->in_table && !st->private_ && st->wgen != st->pub_gen;
	gen = st->wgen;
	if (due)
		path = strdup(st->path);
	pthread_mutex_unlock(&t->lock);
	if (!due) {
		pthread_mutex_unlock(&st->pub_lock);
		return 0;
	}
	if (!path) {
		pthread_mutex_unlock(&st->pub_lock);
		return -ENOMEM;
	}
	fd = fs_staged_give_begin(t, st, &adopt);
	r = publish(arg, path, fd, adopt);
	fs_staged_give_end(t, st);
	pthread_mutex_lock(&t->lock);
	if (r >= 0)
		st->pub_gen = gen; /* a refusal stays due: the next flush reports it again */
	st->settled = st->wgen == gen;
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&st->pub_lock);
	return r < 0 ? r : 1;
}

int fs_stage_unlink(struct fs_stage *t, const char *path)
{
	struct fs_staged *x;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	x = find(t, path);
	if (!x)
		r = -ENOENT;
	else if (x->dir)
		r = -EISDIR;
	else
		drop_locked(t, x);
	pthread_mutex_unlock(&t->lock);
	return r;
}

int fs_stage_mkdir(struct fs_stage *t, const char *path)
{
	int r = 0;

	pthread_mutex_lock(&t->lock);
	if (find(t, path))
		r = -EEXIST;
	else if (!add_locked(t, path, -1, true))
		r = -ENOMEM;
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* Remove folder entry @path when nothing is staged below it. Under the lock. */
static int rmdir_locked(struct fs_stage *t, const char *path)
{
	struct fs_staged *x = find(t, path);

	if (!x)
		return -ENOENT;
	if (!x->dir)
		return -ENOTDIR;
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct fs_staged *y = t->buckets[i]; y; y = y->next)
			if (under(y->path, path, false))
				return -ENOTEMPTY;
	drop_locked(t, x);
	return 0;
}

int fs_stage_rmdir(struct fs_stage *t, const char *path)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = rmdir_locked(t, path);
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* Every entry that is @dir or lies below it, into an owned array. Under the lock. */
static int subtree_locked(struct fs_stage *t, const char *dir, struct fs_staged ***ret,
			  size_t *ret_n)
{
	struct fs_staged **v = NULL;
	size_t n = 0;

	if (t->n > 0) {
		v = calloc(t->n, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct fs_staged *x = t->buckets[i]; x; x = x->next)
			if (under(x->path, dir, true))
				v[n++] = x;
	*ret = v;
	*ret_n = n;
	return 0;
}

int fs_stage_move(struct fs_stage *t, const char *from, const char *to, bool noreplace)
{
	_cleanup_free_ struct fs_staged **moved = NULL;
	_cleanup_free_ char **paths = NULL;
	struct fs_staged *src, *dst;
	size_t n = 0, from_len = strlen(from);
	int r = 0;

	pthread_mutex_lock(&t->lock);
	src = find(t, from);
	dst = find(t, to);
	if (!src) {
		r = -ENOENT;
		goto out;
	}
	if (src == dst)
		goto out;
	if (src->dir && under(to, from, false)) {
		r = -EINVAL; /* a folder into itself */
		goto out;
	}
	if (dst) {
		if (noreplace)
			r = -EEXIST;
		else if (src->dir && !dst->dir)
			r = -ENOTDIR;
		else if (!src->dir && dst->dir)
			r = -EISDIR;
		if (r < 0)
			goto out;
	}
	r = subtree_locked(t, from, &moved, &n);
	if (r < 0)
		goto out;
	/* all new paths first, so that running out of memory changes nothing */
	paths = calloc(n ? n : 1, sizeof(*paths));
	if (!paths) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (asprintf(&paths[i], "%s%s", to, moved[i]->path + from_len) < 0) {
			paths[i] = NULL;
			r = -ENOMEM;
			for (size_t j = 0; j < i; j++)
				free(paths[j]);
			goto out;
		}
	}
	if (dst) {
		if (dst->dir) {
			r = rmdir_locked(t, to); /* only an empty folder is replaced */
			if (r < 0) {
				for (size_t i = 0; i < n; i++)
					free(paths[i]);
				goto out;
			}
		} else {
			drop_locked(t, dst);
		}
	}
	for (size_t i = 0; i < n; i++) {
		link_out(t, moved[i]);
		free(moved[i]->path);
		moved[i]->path = paths[i];
		moved[i]->private_ = fs_path_private(paths[i]);
		link_in(t, moved[i]);
	}
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* Order items by folder, then name: a folder's files are consecutive (one version each). */
static int item_cmp(const void *a, const void *b)
{
	const char *x = ((const struct fs_stage_item *)a)->rel;
	const char *y = ((const struct fs_stage_item *)b)->rel;
	const char *sx = strrchr(x, '/'), *sy = strrchr(y, '/');
	size_t dx = sx ? (size_t)(sx - x) : 0, dy = sy ? (size_t)(sy - y) : 0;
	int c = strncmp(x, y, dx < dy ? dx : dy);

	if (c != 0)
		return c;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x + dx, y + dy);
}

int fs_stage_collect(struct fs_stage *t, const char *dir, struct fs_stage_item **ret, size_t *ret_n)
{
	_cleanup_free_ struct fs_staged **all = NULL;
	struct fs_stage_item *items = NULL;
	size_t n_all = 0, n = 0, len = strlen(dir);
	int r;

	pthread_mutex_lock(&t->lock);
	r = subtree_locked(t, dir, &all, &n_all);
	if (r == 0 && n_all > 0) {
		items = calloc(n_all, sizeof(*items));
		if (!items)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n_all; i++) {
		const char *rel;

		if (all[i]->dir || strcmp(all[i]->path, dir) == 0)
			continue;
		rel = all[i]->path + len + 1;
		/* dot names inside the tree stay private: editors' and rsync's temp files */
		if (rel[0] == '.' || strstr(rel, "/."))
			continue;
		items[n].rel = strdup(rel);
		if (!items[n].rel) {
			r = -ENOMEM;
			break;
		}
		items[n].st = all[i];
		all[i]->refs++;
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	if (r < 0) {
		fs_stage_items_free(t, items, n);
		return r;
	}
	if (n > 1)
		qsort(items, n, sizeof(*items), item_cmp);
	*ret = items;
	*ret_n = n;
	return 0;
}

void fs_stage_items_free(struct fs_stage *t, struct fs_stage_item *items, size_t n)
{
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < n; i++) {
		free(items[i].rel);
		unref_locked(items[i].st);
	}
	pthread_mutex_unlock(&t->lock);
	free(items);
}

void fs_stage_remove_tree(struct fs_stage *t, const char *dir)
{
	_cleanup_free_ struct fs_staged **v = NULL;
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	if (subtree_locked(t, dir, &v, &n) == 0)
		for (size_t i = 0; i < n; i++)
			drop_locked(t, v[i]);
	pthread_mutex_unlock(&t->lock);
}
