/* SPDX-License-Identifier: MIT */
/*
 * The blob store on real files and a real domain database: ingest from a buffer and from an
 * fd at 0 B, 1 B, 1 MiB and 100 MiB; the four reported hashes against published vectors;
 * dedup within and across repositories; the XXH3 collision slots (forced through the
 * test_force_xxh128 hook) and orphan files; expected-digest refusal; the temp-file sweep at
 * open, which must spare a file a live process holds; corruption detection.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "store/blob.h"
#include "store/internal.h"
#include "store/store.h"
#include "tests/unit/unit.h"

#define MIB (1024 * 1024)

#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fixture {
	char root[128];
	char dom[160]; /* <root>/test */
	struct store *s;
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cafs_error e;

	assert_non_null(f);
	(void)snprintf(f->root, sizeof(f->root), "/tmp/cafs-test-blob-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	(void)snprintf(f->dom, sizeof(f->dom), "%s/test", f->root);
	if (store_domain_create(f->root, "test", NULL, NULL, 0, &f->s, &e) != 0)
		fail_msg("create domain: %s", e.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	(void)nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Deterministic, incompressible-looking bytes (xorshift64*). */
static unsigned char *make_bytes(size_t len, uint64_t seed)
{
	unsigned char *p = malloc(len ? len : 1);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	assert_non_null(p);
	for (size_t i = 0; i < len; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (unsigned char)((x * 0x2545f4914f6cdd1dull) >> 56);
	}
	return p;
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, 32);
	for (unsigned int i = 0; i < n; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A file under the fixture root holding @len bytes of @buf, opened read-only. */
static int file_with(struct fixture *f, const char *name, const void *buf, size_t len)
{
	char path[256];
	const char *p = buf;
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s", f->root, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
	assert_int_equal(close(fd), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0444);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static int ingest_mem(struct store *s, const void *buf, size_t len, const char *expect,
		      struct store_blob *b)
{
	struct cafs_error e;
	int r = store_blob_ingest_mem(s, buf, len, expect, b, &e);

	if (r < 0 && !expect)
		fail_msg("ingest %zu bytes: %s", len, e.msg);
	return r;
}

static int ingest_file(struct fixture *f, const void *buf, size_t len, struct store_blob *b)
{
	struct cafs_error e;
	int fd = file_with(f, "input", buf, len);
	int r = store_blob_ingest_fd(f->s, fd, NULL, b, &e);

	if (r < 0)
		fail_msg("ingest fd of %zu bytes: %s", len, e.msg);
	assert_int_equal(close(fd), 0);
	return r;
}

/* The blob's bytes equal @buf. */
static void assert_blob_bytes(struct store *s, const struct store_blob *b, const void *buf,
			      size_t len)
{
	struct cafs_error e;
	unsigned char *got = malloc(len + 1);
	int fd = store_blob_open(s, b, &e);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		fail_msg("open blob: %s", e.msg);
	assert_non_null(got);
	while ((n = read(fd, got + off, len + 1 - off)) > 0)
		off += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(off, len);
	assert_memory_equal(got, buf, len);
	assert_int_equal(close(fd), 0);
	free(got);
}

static int counted;

static int count_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		counted++;
	return 0;
}

/* Regular files under <domain>/@sub, recursively. */
static int count_files(struct fixture *f, const char *sub)
{
	char path[256];

	(void)snprintf(path, sizeof(path), "%s/%s", f->dom, sub);
	counted = 0;
	assert_int_equal(nftw(path, count_entry, 16, FTW_PHYS), 0);
	return counted;
}

static int64_t row_count(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*
 * Ingest @len bytes through both paths: one content from memory, another from a file; each
 * read back and checked against OpenSSL's one-shot SHA-256; then each again through the other
 * path, which must be a dedup hit on the same row.
 */
static void check_size(void **state, size_t len)
{
	struct fixture *f = *state;
	unsigned char *a = make_bytes(len, 2 * len + 1);
	unsigned char *b = make_bytes(len, 2 * len + 2);
	struct store_blob ba;
	struct store_blob bb;
	struct store_blob again;
	char want[65];

	assert_int_equal(ingest_mem(f->s, a, len, NULL, &ba), 0);
	sha256_hex(a, len, want);
	assert_string_equal(ba.sha256, want);
	assert_int_equal(ba.size, len);
	assert_blob_bytes(f->s, &ba, a, len);

	/* the empty input has one content only: the second is already known */
	assert_int_equal(ingest_file(f, b, len, &bb), len == 0 ? 1 : 0);
	sha256_hex(b, len, want);
	assert_string_equal(bb.sha256, want);
	assert_int_equal(bb.size, len);
	assert_blob_bytes(f->s, &bb, b, len);

	assert_int_equal(ingest_file(f, a, len, &again), 1);
	assert_int_equal(again.id, ba.id);
	assert_int_equal(ingest_mem(f->s, b, len, NULL, &again), 1);
	assert_int_equal(again.id, bb.id);
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), len == 0 ? 1 : 2);
	assert_int_equal(count_files(f, STORE_TMP_DIR), 0);
	free(a);
	free(b);
}

static void test_ingest_empty(void **state)
{
	check_size(state, 0);
}

static void test_ingest_one_byte(void **state)
{
	check_size(state, 1);
}

static void test_ingest_1mib(void **state)
{
	check_size(state, MIB);
}

static void test_ingest_100mib(void **state)
{
	check_size(state, 100 * MIB);
}

/* An fd that is not a regular file (a pipe) streams the same way. */
static void test_ingest_pipe(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(300 * 1024, 7);
	struct store_blob b;
	struct cafs_error e;
	char want[65];
	int p[2];
	pid_t pid;
	int st;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t off = 0;

		(void)alarm(60);
		(void)close(p[0]);
		while (off < 300 * 1024) {
			ssize_t n = write(p[1], data + off, 300 * 1024 - off);

			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		_exit(0);
	}
	assert_int_equal(close(p[1]), 0);
	if (store_blob_ingest_fd(f->s, p[0], NULL, &b, &e) != 0)
		fail_msg("ingest pipe: %s", e.msg);
	assert_int_equal(close(p[0]), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	sha256_hex(data, 300 * 1024, want);
	assert_string_equal(b.sha256, want);
	assert_blob_bytes(f->s, &b, data, 300 * 1024);
	free(data);
}

static void assert_hashes(struct store *s, int64_t id, const char *md5, const char *sha1,
			  const char *sha256, const char *sha512)
{
	struct store_blob_hashes h;
	struct cafs_error e;

	if (store_blob_hashes(s, id, &h, &e) != 0)
		fail_msg("hashes: %s", e.msg);
	assert_string_equal(h.md5, md5);
	assert_string_equal(h.sha1, sha1);
	assert_string_equal(h.sha256, sha256);
	assert_string_equal(h.sha512, sha512);
}

/* Published test vectors (FIPS 180-2, RFC 1321) through ingest and store_blob_hashes(). */
static void test_known_vectors(void **state)
{
	struct fixture *f = *state;
	struct store_blob empty;
	struct store_blob abc;
	struct store_blob got;
	struct cafs_error e;
	XXH128_canonical_t canon;
	char xxh[33];
	char rel[64];
	struct stat st;
	char path[256];

	assert_int_equal(ingest_mem(f->s, "", 0, NULL, &empty), 0);
	assert_string_equal(empty.sha256, SHA256_EMPTY);
	assert_int_equal(ingest_mem(f->s, "abc", 3, SHA256_ABC, &abc), 0);
	assert_string_equal(abc.sha256, SHA256_ABC);
	assert_int_equal(abc.seq, 0);

	/* the address is XXH3-128 in canonical (big-endian: high64 then low64) hex */
	XXH128_canonicalFromHash(&canon, XXH3_128bits("abc", 3));
	for (size_t i = 0; i < sizeof(canon.digest); i++)
		(void)snprintf(xxh + 2 * i, 3, "%02x", canon.digest[i]);
	assert_string_equal(abc.xxh128, xxh);
	store_blob_relpath(&abc, rel, sizeof(rel));
	assert_int_equal(strncmp(rel, "blobs/", 6), 0);
	assert_memory_equal(rel + 6, xxh, 2);
	assert_int_equal(rel[8], '/');
	assert_string_equal(rel + 9, xxh + 2);
	(void)snprintf(path, sizeof(path), "%s/%s", f->dom, rel);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0222, 0); /* blobs are read-only */
	assert_int_equal(st.st_size, 3);

	for (int round = 0; round < 2; round++) { /* computed, then read from the row */
		assert_hashes(f->s, empty.id, "d41d8cd98f00b204e9800998ecf8427e",
			      "da39a3ee5e6b4b0d3255bfef95601890afd80709", SHA256_EMPTY,
			      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
			      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
		assert_hashes(f->s, abc.id, "900150983cd24fb0d6963f7d28e17f72",
			      "a9993e364706816aba3e25717850c26c9cd0d89d", SHA256_ABC,
			      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	}
	assert_int_equal(row_count(f->s, "SELECT count(*) FROM blobs WHERE md5 IS NOT NULL"), 2);

	/* lookups */
	assert_int_equal(store_blob_get(f->s, abc.id, &got, &e), 0);
	assert_int_equal(got.id, abc.id);
	assert_string_equal(got.sha256, SHA256_ABC);
	assert_int_equal(got.size, 3);
	assert_int_equal(store_blob_find_sha256(f->s,
						"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9C"
						"B410FF61F20015AD",
						&got, &e),
			 0);
	assert_int_equal(got.id, abc.id);
	assert_int_equal(store_blob_get(f->s, abc.id + 1000, &got, &e), -ENOENT);
	assert_int_equal(e.kind, CAFS_NOT_FOUND);
	assert_int_equal(store_blob_find_sha256(f->s, SHA256_ABC "00", &got, &e), -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(store_blob_hashes(f->s, abc.id + 1000, &(struct store_blob_hashes){0}, &e),
			 -ENOENT);
	assert_int_equal(e.kind, CAFS_NOT_FOUND);
}

static void test_dedup_same_bytes(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(64 * 1024, 42);
	struct store_blob first;
	struct store_blob second;

	assert_int_equal(ingest_mem(f->s, data, 64 * 1024, NULL, &first), 0);
	assert_int_equal(ingest_mem(f->s, data, 64 * 1024, NULL, &second), 1);
	assert_int_equal(second.id, first.id);
	assert_string_equal(second.xxh128, first.xxh128);
	assert_int_equal(second.seq, first.seq);
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), 1);
	assert_int_equal(row_count(f->s, "SELECT count(*) FROM blobs"), 1);
	free(data);
}

/* One package version with one asset on @blob_id in repository @repo. */
static void add_asset(struct store *s, const char *repo, int64_t blob_id)
{
	char sql[1024];
	char *msg = NULL;

	(void)snprintf(sql, sizeof(sql),
		       "INSERT INTO packages (repository_id, format, namespace, name, "
		       "origin_publish, origin_upstream, created_us) "
		       "SELECT id, 'pypi', '', 'pkg', 'ALLOW', 'ALLOW', 0 FROM repositories "
		       "WHERE name = '%s';"
		       "INSERT INTO package_versions (package_id, version, status, revision, "
		       "origin_type, entry_repository, created_us, updated_us) "
		       "VALUES (last_insert_rowid(), '1.0', 'Published', 'r1', 'INTERNAL', '%s', "
		       "0, 0);"
		       "INSERT INTO assets (version_id, name, blob_id, created_us) "
		       "VALUES (last_insert_rowid(), 'pkg-1.0.tar.gz', %lld, 0);",
		       repo, repo, (long long)blob_id);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("add asset: %s", msg);
}

static void test_dedup_two_repositories(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(123457, 5);
	struct store_repository repo;
	struct store_blob in_ra;
	struct store_blob in_rb;
	struct store_blob loose;
	struct cafs_error e;
	int64_t bytes = -1;

	if (store_repository_create(f->s, "ra", NULL, NULL, 0, NULL, 0, &repo, &e) != 0 ||
	    store_repository_create(f->s, "rb", NULL, NULL, 0, NULL, 0, &repo, &e) != 0)
		fail_msg("create repository: %s", e.msg);
	assert_int_equal(store_blob_referenced_bytes(f->s, &bytes, &e), 0);
	assert_int_equal(bytes, 0);

	assert_int_equal(ingest_mem(f->s, data, 123457, NULL, &in_ra), 0);
	add_asset(f->s, "ra", in_ra.id);
	assert_int_equal(ingest_file(f, data, 123457, &in_rb), 1);
	assert_int_equal(in_rb.id, in_ra.id);
	add_asset(f->s, "rb", in_rb.id);
	/* bytes no asset references do not count */
	assert_int_equal(ingest_mem(f->s, "unreferenced", 12, NULL, &loose), 0);

	assert_int_equal(row_count(f->s, "SELECT count(*) FROM assets"), 2);
	assert_int_equal(store_blob_referenced_bytes(f->s, &bytes, &e), 0);
	assert_int_equal(bytes, 123457);
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), 2);
	free(data);
}

/* Two contents on one XXH3 address: slots 0, 1, 2; each serves its own bytes. */
static void test_collision(void **state)
{
	struct fixture *f = *state;
	static const char a_bytes[] = "content A";
	static const char b_bytes[] = "content B, different";
	static const char c_bytes[] = "content C";
	struct store_blob a;
	struct store_blob b;
	struct store_blob c;
	struct store_blob again;
	char force[33];
	char rel[64];

	assert_int_equal(ingest_mem(f->s, a_bytes, sizeof(a_bytes), NULL, &a), 0);
	memcpy(force, a.xxh128, sizeof(force));
	f->s->test_force_xxh128 = force;

	assert_int_equal(ingest_mem(f->s, b_bytes, sizeof(b_bytes), NULL, &b), 0);
	assert_string_equal(b.xxh128, a.xxh128);
	assert_int_equal(b.seq, 1);
	assert_true(b.id != a.id);
	assert_string_not_equal(b.sha256, a.sha256);
	store_blob_relpath(&b, rel, sizeof(rel));
	assert_int_equal(strlen(rel), 6 + 2 + 1 + 30 + 2);
	assert_string_equal(rel + strlen(rel) - 2, ".1");
	assert_blob_bytes(f->s, &b, b_bytes, sizeof(b_bytes));
	assert_blob_bytes(f->s, &a, a_bytes, sizeof(a_bytes));

	/* the same collided content again: a hit on slot 1, never on slot 0 */
	assert_int_equal(ingest_mem(f->s, b_bytes, sizeof(b_bytes), NULL, &again), 1);
	assert_int_equal(again.id, b.id);
	assert_int_equal(again.seq, 1);
	assert_int_equal(ingest_mem(f->s, a_bytes, sizeof(a_bytes), NULL, &again), 1);
	assert_int_equal(again.id, a.id);

	assert_int_equal(ingest_mem(f->s, c_bytes, sizeof(c_bytes), NULL, &c), 0);
	assert_int_equal(c.seq, 2);
	assert_blob_bytes(f->s, &c, c_bytes, sizeof(c_bytes));
	f->s->test_force_xxh128 = NULL;
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), 3);
}

/*
 * A file at an address with no row (a crash between link and insert) is judged by its bytes:
 * other bytes are a collision, the same bytes are adopted.
 */
static void test_orphan_file(void **state)
{
	struct fixture *f = *state;
	static const char real[] = "real bytes";
	struct store_blob b;
	char path[256];
	char buf[64];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/blobs/00", f->dom);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/blobs/00/112233445566778899aabbccddeeff", f->dom);
	write_file(path, "orphan bytes");
	f->s->test_force_xxh128 = "00112233445566778899aabbccddeeff";
	assert_int_equal(ingest_mem(f->s, real, sizeof(real), NULL, &b), 0);
	assert_int_equal(b.seq, 1);
	assert_blob_bytes(f->s, &b, real, sizeof(real));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "orphan bytes", 12);
	assert_int_equal(close(fd), 0);

	(void)snprintf(path, sizeof(path), "%s/blobs/ff", f->dom);
	assert_int_equal(mkdir(path, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/blobs/ff/eeddccbbaa99887766554433221100", f->dom);
	write_file(path, "same bytes");
	f->s->test_force_xxh128 = "ffeeddccbbaa99887766554433221100";
	assert_int_equal(ingest_mem(f->s, "same bytes", 10, NULL, &b), 0);
	assert_int_equal(b.seq, 0);
	assert_blob_bytes(f->s, &b, "same bytes", 10);

	/* no fan-out folder yet for this one: it is created on demand */
	f->s->test_force_xxh128 = "abababababababababababababababab";
	assert_int_equal(ingest_mem(f->s, "fresh", 5, NULL, &b), 0);
	assert_int_equal(b.seq, 0);
	f->s->test_force_xxh128 = NULL;
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), 4);
	assert_int_equal(row_count(f->s, "SELECT count(*) FROM blobs"), 3);
}

/*
 * Processes racing on one address (the same content and colliding contents, all forced onto
 * one XXH3 address) agree: one row and one file per content, each serving its own bytes.
 */
static void test_concurrent_ingest(void **state)
{
	struct fixture *f = *state;
	enum { N = 4 };
	char force[] = "0123456789abcdef0123456789abcdef";
	unsigned char *shared = make_bytes(2 * MIB, 77);
	pid_t pids[N];
	struct store_blob b;
	struct cafs_error e;
	char own[32];

	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store *s = NULL;
			int r;

			(void)alarm(60);
			(void)snprintf(own, sizeof(own), "content of process %d", i);
			r = store_open(f->root, "test", &s, &e);
			if (r == 0) {
				s->test_force_xxh128 = force;
				r = store_blob_ingest_mem(s, shared, 2 * MIB, NULL, &b, &e);
			}
			if (r >= 0)
				r = store_blob_ingest_mem(s, own, strlen(own), NULL, &b, &e);
			if (r < 0)
				(void)fprintf(stderr, "child %d: %s\n", i, e.msg);
			store_close(s);
			_exit(r < 0 ? 1 : 0);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(row_count(f->s, "SELECT count(*) FROM blobs"), N + 1);
	assert_int_equal(row_count(f->s, "SELECT count(DISTINCT seq) FROM blobs"), N + 1);
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), N + 1);
	assert_int_equal(count_files(f, STORE_TMP_DIR), 0);
	f->s->test_force_xxh128 = force;
	assert_int_equal(ingest_mem(f->s, shared, 2 * MIB, NULL, &b), 1);
	assert_blob_bytes(f->s, &b, shared, 2 * MIB);
	for (int i = 0; i < N; i++) {
		(void)snprintf(own, sizeof(own), "content of process %d", i);
		assert_int_equal(ingest_mem(f->s, own, strlen(own), NULL, &b), 1);
		assert_string_equal(b.xxh128, force);
		assert_blob_bytes(f->s, &b, own, strlen(own));
	}
	f->s->test_force_xxh128 = NULL;
	free(shared);
}

static void test_expect_sha256(void **state)
{
	struct fixture *f = *state;
	struct store_blob b;
	struct cafs_error e;
	int before;
	int fd;

	assert_int_equal(ingest_mem(f->s, "seed", 4, NULL, &b), 0);
	before = count_files(f, STORE_BLOBS_DIR);
	for (int named = 0; named < 2; named++) {
		f->s->no_tmpfile = named; /* both temp-file kinds leave nothing behind */
		assert_int_equal(store_blob_ingest_mem(f->s, "abd", 3, SHA256_ABC, &b, &e),
				 -EINVAL);
		assert_int_equal(e.kind, CAFS_VALIDATION);
		fd = file_with(f, "input", "abd", 3);
		assert_int_equal(store_blob_ingest_fd(f->s, fd, SHA256_ABC, &b, &e), -EINVAL);
		assert_int_equal(e.kind, CAFS_VALIDATION);
		assert_int_equal(close(fd), 0);
		assert_int_equal(count_files(f, STORE_BLOBS_DIR), before);
		assert_int_equal(count_files(f, STORE_TMP_DIR), 0);
		assert_int_equal(row_count(f->s, "SELECT count(*) FROM blobs"), 1);
	}
	assert_int_equal(store_blob_find_sha256(f->s, SHA256_ABC, &b, &e), -ENOENT);
	assert_int_equal(store_blob_ingest_mem(f->s, "abc", 3, "not-a-digest", &b, &e), -EINVAL);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	/* upper-case hex is the same digest */
	assert_int_equal(store_blob_ingest_mem(f->s, "abc", 3,
					       "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9C"
					       "B410FF61F20015AD",
					       &b, &e),
			 0);
	assert_string_equal(b.sha256, SHA256_ABC);
}

/* Named temp files in tmp/ (file systems without O_TMPFILE) work the same and leave nothing. */
static void test_named_tmpfile(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(3 * MIB + 5, 9);
	struct store_blob b;
	struct store_blob again;

	f->s->no_tmpfile = true;
	assert_int_equal(ingest_file(f, data, 3 * MIB + 5, &b), 0);
	assert_blob_bytes(f->s, &b, data, 3 * MIB + 5);
	assert_int_equal(ingest_mem(f->s, data, 3 * MIB + 5, NULL, &again), 1);
	assert_int_equal(again.id, b.id);
	assert_int_equal(ingest_mem(f->s, "other", 5, NULL, &again), 0);
	assert_int_equal(count_files(f, STORE_TMP_DIR), 0);
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), 2);
	free(data);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * store_open() sweeps temp files of crashed ingests but keeps those a live process holds
 * locked: one held by a child process, one by another open file description of this one.
 */
static void test_sweep(void **state)
{
	struct fixture *f = *state;
	char crash[256];
	char held[256];
	char child_held[256];
	struct cafs_error e;
	int ready[2];
	int release[2];
	char c = 0;
	pid_t pid;
	int fd;
	int st;

	(void)snprintf(crash, sizeof(crash), "%s/tmp/ingest.1.dead", f->dom);
	(void)snprintf(held, sizeof(held), "%s/tmp/ingest.2.live", f->dom);
	(void)snprintf(child_held, sizeof(child_held), "%s/tmp/ingest.3.child", f->dom);
	write_file(crash, "half an asset");
	write_file(held, "being written");
	write_file(child_held, "being written elsewhere");
	fd = open(held, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = open(child_held, O_RDONLY);

		/* never outlive the test, even when it fails before releasing us */
		(void)alarm(60);
		(void)close(ready[0]);
		(void)close(release[1]);
		if (cfd < 0 || flock(cfd, LOCK_EX) < 0 || write(ready[1], "r", 1) != 1)
			_exit(1);
		_exit(read(release[0], &c, 1) == 1 ? 0 : 2);
	}
	(void)close(ready[1]);
	(void)close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	store_close(f->s);
	f->s = NULL;
	if (store_open(f->root, "test", &f->s, &e) != 0)
		fail_msg("open: %s", e.msg);
	assert_false(exists(crash));
	assert_true(exists(held));
	assert_true(exists(child_held));

	assert_int_equal(write(release[1], "go", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(store_blob_sweep(f->s, &e), 1);
	assert_false(exists(child_held));
	assert_true(exists(held));
	assert_int_equal(close(fd), 0);
	assert_int_equal(store_blob_sweep(f->s, &e), 1);
	assert_false(exists(held));
	assert_int_equal(store_blob_sweep(f->s, &e), 0);
	(void)close(ready[0]);
	(void)close(release[1]);
}

/* A blob whose bytes changed on disk fails the SHA-256 check; one with another size fails open. */
static void test_corrupt_blob(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(4096, 11);
	struct store_blob_hashes h;
	struct store_blob b;
	struct cafs_error e;
	char rel[64];
	char path[256];
	unsigned char byte;
	int fd;

	assert_int_equal(ingest_mem(f->s, data, 4096, NULL, &b), 0);
	store_blob_relpath(&b, rel, sizeof(rel));
	(void)snprintf(path, sizeof(path), "%s/%s", f->dom, rel);
	assert_int_equal(chmod(path, 0644), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	byte = (unsigned char)(data[100] ^ 0x5a);
	assert_int_equal(pwrite(fd, &byte, 1, 100), 1);

	assert_int_equal(store_blob_hashes(f->s, b.id, &h, &e), -EIO);
	assert_int_equal(e.kind, CAFS_IO);
	assert_int_equal(e.sys_errno, EIO);
	assert_non_null(strstr(e.msg, "corrupt"));
	assert_int_equal(row_count(f->s, "SELECT count(*) FROM blobs WHERE md5 IS NOT NULL"), 0);

	assert_int_equal(ftruncate(fd, 4000), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(store_blob_open(f->s, &b, &e), -EIO);
	assert_int_equal(e.kind, CAFS_IO);
	assert_int_equal(e.sys_errno, EIO);
	free(data);
}

/* A row whose file went missing gets its file back from the next ingest of those bytes. */
static void test_missing_file_restored(void **state)
{
	struct fixture *f = *state;
	struct store_blob b;
	struct store_blob again;
	char rel[64];
	char path[256];

	assert_int_equal(ingest_mem(f->s, "precious", 8, NULL, &b), 0);
	store_blob_relpath(&b, rel, sizeof(rel));
	(void)snprintf(path, sizeof(path), "%s/%s", f->dom, rel);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ingest_mem(f->s, "precious", 8, NULL, &again), 1);
	assert_int_equal(again.id, b.id);
	assert_blob_bytes(f->s, &b, "precious", 8);
}

static void test_quota(void **state)
{
	struct fixture *f = *state;
	struct store_blob b;
	struct cafs_error e;
	char path[256];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/huge", f->root);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)STORE_BLOB_SIZE_MAX + 1), 0); /* sparse */
	assert_int_equal(store_blob_ingest_fd(f->s, fd, NULL, &b, &e), -EFBIG);
	assert_int_equal(e.kind, CAFS_QUOTA_EXCEEDED);
	assert_int_equal(e.sys_errno, EFBIG);
	assert_int_equal(close(fd), 0);
	/* refused on the length alone: the buffer is never read */
	assert_int_equal(
		store_blob_ingest_mem(f->s, "x", (size_t)STORE_BLOB_SIZE_MAX + 1, NULL, &b, &e),
		-EFBIG);
	assert_int_equal(e.kind, CAFS_QUOTA_EXCEEDED);
	assert_int_equal(count_files(f, STORE_BLOBS_DIR), 0);
}

/*
 * An fd open on one of the domain's own blobs is a dedup hit without a byte read: the fd is
 * positioned at its end, so reading it would ingest nothing (the empty content). A copy of the
 * blob under the same relative path elsewhere is another inode and is read as usual.
 */
static void test_own_blob_by_reference(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(65536, 21);
	struct store_blob b, again;
	struct cafs_error e;
	char rel[64], path[512], cmd[2048];
	int fd;

	assert_int_equal(ingest_mem(f->s, data, 65536, NULL, &b), 0);
	fd = store_blob_open(f->s, &b, &e);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), 65536);
	assert_int_equal(store_blob_ingest_fd(f->s, fd, NULL, &again, &e), 1);
	assert_int_equal(again.id, b.id);
	assert_string_equal(again.sha256, b.sha256);
	/* a wrong expected digest still refuses (read as usual: the empty content) */
	assert_true(store_blob_ingest_fd(f->s, fd, SHA256_ABC, &again, &e) < 0);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(close(fd), 0);

	store_blob_relpath(&b, rel, sizeof(rel));
	(void)snprintf(path, sizeof(path), "%s/elsewhere/%s", f->root, rel);
	(void)snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s/%s' '%s'", path,
		       f->dom, rel, path);
	assert_int_equal(system(cmd), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), 65536);
	assert_true(store_blob_ingest_fd(f->s, fd, NULL, &again, &e) >= 0);
	assert_int_not_equal(again.id, b.id);
	assert_string_equal(again.sha256, SHA256_EMPTY);
	assert_int_equal(close(fd), 0);
	free(data);
}

/* A temp file with @len bytes of @data in the domain's tmp/ folder, as the mount makes one. */
static int staging_file(struct fixture *f, const void *data, size_t len)
{
	char tmp[256];
	int fd;

	(void)snprintf(tmp, sizeof(tmp), "%s/tmp", f->dom);
	fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* store_blob_adopt_fd(): new bytes make the given file the blob itself, known bytes do not. */
static void test_adopt(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(3 * MIB + 7, 31);
	struct store_blob b, again;
	struct stat given, blob;
	struct cafs_error e;
	char rel[64], hex[65];
	int fd = staging_file(f, data, 3 * MIB + 7);

	assert_int_equal(fstat(fd, &given), 0);
	assert_int_equal(store_blob_adopt_fd(f->s, fd, NULL, &b, &e), 0);
	sha256_hex(data, 3 * MIB + 7, hex);
	assert_string_equal(b.sha256, hex);
	assert_int_equal(b.size, 3 * MIB + 7);
	store_blob_relpath(&b, rel, sizeof(rel));
	assert_int_equal(fstatat(f->s->dir_fd, rel, &blob, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(blob.st_ino, given.st_ino); /* linked, not copied */
	assert_int_equal(blob.st_mode & 07777, 0444);
	assert_int_equal(blob.st_nlink, 1);
	assert_blob_bytes(f->s, &b, data, 3 * MIB + 7);
	assert_int_equal(close(fd), 0);

	/* the same bytes again: a dedup hit, the second file is left alone */
	fd = staging_file(f, data, 3 * MIB + 7);
	assert_int_equal(store_blob_adopt_fd(f->s, fd, NULL, &again, &e), 1);
	assert_int_equal(again.id, b.id);
	assert_int_equal(fstat(fd, &given), 0);
	assert_int_equal(given.st_nlink, 0);
	assert_int_equal(given.st_mode & 07777, 0600);
	assert_int_equal(count_files(f, "blobs"), 1);
	assert_int_equal(close(fd), 0);

	/* a wrong expected digest: refused, nothing linked */
	data[0] ^= 1;
	fd = staging_file(f, data, 3 * MIB + 7);
	assert_true(store_blob_adopt_fd(f->s, fd, SHA256_ABC, &again, &e) < 0);
	assert_int_equal(e.kind, CAFS_VALIDATION);
	assert_int_equal(count_files(f, "blobs"), 1);
	assert_int_equal(close(fd), 0);
	free(data);
}

/* A file that has a name, or cannot be linked (a memfd), is copied instead. */
static void test_adopt_falls_back(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = make_bytes(MIB, 32);
	struct store_blob b;
	struct stat named, blob;
	struct cafs_error e;
	char rel[64], gone[256];
	int fd = file_with(f, "named", data, MIB);

	assert_int_equal(fstat(fd, &named), 0);
	assert_int_equal(store_blob_adopt_fd(f->s, fd, NULL, &b, &e), 0);
	store_blob_relpath(&b, rel, sizeof(rel));
	assert_int_equal(fstatat(f->s->dir_fd, rel, &blob, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_not_equal(blob.st_ino, named.st_ino);
	assert_blob_bytes(f->s, &b, data, MIB);
	assert_int_equal(close(fd), 0);

	data[1] ^= 1;
	fd = memfd_create("adopt", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, MIB), MIB);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(store_blob_adopt_fd(f->s, fd, NULL, &b, &e), 0);
	assert_blob_bytes(f->s, &b, data, MIB);
	assert_int_equal(count_files(f, "blobs"), 2);
	assert_int_equal(close(fd), 0);

	/* on the store's file system with no name left, but not an O_TMPFILE: the link fails */
	data[2] ^= 1;
	fd = file_with(f, "gone", data, MIB);
	assert_int_equal(fstat(fd, &named), 0);
	(void)snprintf(gone, sizeof(gone), "%s/gone", f->root);
	assert_int_equal(unlink(gone), 0);
	assert_int_equal(store_blob_adopt_fd(f->s, fd, NULL, &b, &e), 0);
	store_blob_relpath(&b, rel, sizeof(rel));
	assert_int_equal(fstatat(f->s->dir_fd, rel, &blob, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_not_equal(blob.st_ino, named.st_ino);
	assert_blob_bytes(f->s, &b, data, MIB);
	assert_int_equal(count_files(f, "blobs"), 3);
	assert_int_equal(close(fd), 0);
	/* later ingests still use O_TMPFILE */
	assert_false(f->s->no_tmpfile);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ingest_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_one_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_1mib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_100mib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_known_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_two_repositories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_ingest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_sha256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_named_tmpfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_blob_by_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_falls_back, setup, teardown),
	};

	return cmocka_run_group_tests_name("store_blob", tests, NULL, NULL);
}
