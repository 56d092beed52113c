// SPDX-License-Identifier: GPL-2.0-only
/* The pairing store: our Ed25519 identity and the paired receivers, files mode 0600 written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txpace/aead.h"
#include "txpace/crypto.h"
#include "txpace/log.h"
#include "txpace/pair.h"

#define PAIR_LINE_MAX	256

static void store_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *store_dir(const char *dir)
{
	return dir && dir[0] ? dir : PAIR_DIR_DEFAULT;
}

static int store_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0) {
		return 0;
	}
	if (errno != EEXIST || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int e = errno == EEXIST ? ENOTDIR : errno;

		store_err(err, errlen, "cannot create the pairing directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (st.st_mode & 077) {
		pr_warn("pairing directory %s is readable by others (mode %03o): chmod 700 it",
			dir, (unsigned)(st.st_mode & 0777));
	}
	return 0;
}

static void store_hex(const uint8_t *v, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[v[i] >> 4];
		out[2 * i + 1] = x[v[i] & 15];
	}
	out[2 * n] = '\0';
}

static int store_unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n) {
		return -EINVAL;
	}
	for (i = 0; i < 2 * n; i++) {
		int c = s[i], v = c >= '0' && c <= '9' ? c - '0' :
				  c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				  c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0) {
			return -EINVAL;
		}
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

/* write @len bytes as @dir/@name through a temporary file, fsync and rename(), mode 0600 */
static int store_write(const char *dir, const char *name, const char *text, size_t len, char *err,
		       size_t errlen)
{
	char tmp[4096], path[4096];
	int fd, e = 0, dfd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		store_err(err, errlen, "pairing directory path too long: %s", dir);
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);	/* mode 0600 */
	if (fd < 0) {
		e = errno;
		store_err(err, errlen, "cannot write in %s: %s", dir, strerror(e));
		return -e;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		e = errno ? errno : EIO;
	}
	if (close(fd) < 0 && !e) {
		e = errno;
	}
	if (!e && rename(tmp, path) < 0) {
		e = errno;
	}
	if (e) {
		unlink(tmp);
		store_err(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);	/* the rename itself durable */
		close(dfd);
	}
	return 0;
}

/* read @dir/@name whole into @buf (NUL-terminated). @return length, -ENOENT or -errno */
static long store_read(const char *dir, const char *name, char *buf, size_t cap, char *err,
		       size_t errlen)
{
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f) {
		int e = errno;

		if (e != ENOENT) {
			store_err(err, errlen, "cannot read %s: %s", path, strerror(e));
		}
		return -e;
	}
	n = fread(buf, 1, cap - 1, f);
	if (ferror(f) || !feof(f)) {
		fclose(f);
		store_err(err, errlen, "cannot read %s (or over %zu bytes)", path, cap - 1);
		return -EIO;
	}
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static int store_identity_parse(char *text, struct pair_identity *me)
{
	char *line, *save = NULL;
	uint8_t seed[32];
	int have = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char k[16], v[PAIR_LINE_MAX];

		if (line[0] == '#' || sscanf(line, "%15s %255s", k, v) != 2) {
			continue;
		}
		if (strcmp(k, "id") == 0 && strlen(v) < PAIR_ID_MAX) {
			strcpy(me->id, v);
			have |= 1;
		} else if (strcmp(k, "seed") == 0 && store_unhex(v, seed, 32) == 0) {
			have |= 2;
		}
	}
	if (have != 3 || aead_ed25519_from_seed(seed, me->pk, me->sk) < 0) {
		return -EINVAL;
	}
	aead_wipe(seed, sizeof(seed));
	return 0;
}

static int store_identity_create(const char *dir, struct pair_identity *me, char *err, size_t errlen)
{
	uint8_t seed[32], u[16];
	char text[256], hex[65];
	int rc, n;

	if (crypto_random(seed, sizeof(seed)) < 0 || crypto_random(u, sizeof(u)) < 0) {
		store_err(err, errlen, "no random bytes for a pairing identity");
		return -EIO;
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);	/* a version 4 UUID */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	snprintf(me->id, sizeof(me->id),
		 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	store_hex(seed, 32, hex);
	n = snprintf(text, sizeof(text), "# txpace pairing identity: keep it private\nid %s\nseed %s\n",
		     me->id, hex);
	rc = aead_ed25519_from_seed(seed, me->pk, me->sk);
	if (rc == 0) {
		rc = store_write(dir, "identity", text, (size_t)n, err, errlen);
	}
	aead_wipe(seed, sizeof(seed));
	aead_wipe(text, sizeof(text));
	aead_wipe(hex, sizeof(hex));
	if (rc == 0) {
		pr_info("created the pairing identity %s in %s", me->id, dir);
	}
	return rc;
}

int pair_identity_load(const char *dir, struct pair_identity *me, char *err, size_t errlen)
{
	char text[1024];
	long n;
	int rc;

	dir = store_dir(dir);
	memset(me, 0, sizeof(*me));
	rc = store_mkdir(dir, err, errlen);
	if (rc < 0) {
		return rc;
	}
	n = store_read(dir, "identity", text, sizeof(text), err, errlen);
	if (n == -ENOENT) {
		return store_identity_create(dir, me, err, errlen);
	}
	if (n < 0) {
		return (int)n;
	}
	rc = store_identity_parse(text, me);
	aead_wipe(text, sizeof(text));
	if (rc < 0) {
		store_err(err, errlen, "%s/identity is damaged: move it away to create a new identity "
			  "(receivers paired with the old one then need `txpace pair` again)", dir);
	}
	return rc;
}

#define PEERS_MAX	(64 * 1024)

static int store_key_ok(const char *key)
{
	size_t i, n = key ? strlen(key) : 0;

	if (n == 0 || n >= PAIR_ID_MAX) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (key[i] <= ' ' || key[i] > '~') {
			return 0;
		}
	}
	return 1;
}

/* one "KEY ID PKHEX" line. @return 0, or -EINVAL for a comment or a damaged line */
static int store_peer_line(const char *line, char key[PAIR_ID_MAX], struct pair_peer *p)
{
	char k[PAIR_LINE_MAX], id[PAIR_LINE_MAX], pk[PAIR_LINE_MAX];

	if (line[0] == '#' || sscanf(line, "%255s %255s %255s", k, id, pk) != 3 ||
	    !store_key_ok(k) || !store_key_ok(id) || store_unhex(pk, p->pk, 32) < 0) {
		return -EINVAL;
	}
	strcpy(key, k);
	strcpy(p->id, id);
	return 0;
}

/*
 * Rewrite "peers" without the line of @key, with @add (when not NULL) as its new line.
 * @return 0, or -ENOENT when there was nothing to remove
 */
static int store_peers_rewrite(const char *dir, const char *key, const struct pair_peer *add,
			       char *err, size_t errlen)
{
	char *old = malloc(PEERS_MAX), *out = malloc(PEERS_MAX + PAIR_LINE_MAX), *line, *save = NULL;
	char k[PAIR_ID_MAX], hex[65];
	size_t o = 0;
	int found = 0, rc;
	long n;

	rc = -ENOMEM;
	if (!old || !out) {
		store_err(err, errlen, "out of memory");
		goto out;
	}
	n = store_read(dir, "peers", old, PEERS_MAX, err, errlen);
	if (n < 0 && n != -ENOENT) {
		rc = (int)n;
		goto out;
	}
	if (n < 0) {
		old[0] = '\0';
	}
	o += (size_t)snprintf(out, PEERS_MAX, "# txpace: paired receivers (key, identifier, Ed25519 key)\n");
	for (line = strtok_r(old, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct pair_peer p;

		if (store_peer_line(line, k, &p) < 0) {
			continue;
		}
		if (strcmp(k, key) == 0) {
			found = 1;
			continue;
		}
		o += (size_t)snprintf(out + o, PEERS_MAX + PAIR_LINE_MAX - o, "%s\n", line);
		if (o >= PEERS_MAX) {
			store_err(err, errlen, "%s/peers is over %d bytes", dir, PEERS_MAX);
			rc = -EFBIG;
			goto out;
		}
	}
	if (add) {
		store_hex(add->pk, 32, hex);
		o += (size_t)snprintf(out + o, PAIR_LINE_MAX, "%s %s %s\n", key, add->id, hex);
	} else if (!found) {
		rc = -ENOENT;
		goto out;
	}
	rc = store_write(dir, "peers", out, o, err, errlen);
out:
	free(old);
	free(out);
	return rc;
}

int pair_store_peer(const char *dir, const char *key, const struct pair_peer *peer, char *err,
		    size_t errlen)
{
	int rc;

	dir = store_dir(dir);
	if (!store_key_ok(key) || !store_key_ok(peer->id)) {
		store_err(err, errlen, "a pairing key and identifier must be 1-%d printable characters "
			  "without spaces", PAIR_ID_MAX - 1);
		return -EINVAL;
	}
	rc = store_mkdir(dir, err, errlen);
	return rc < 0 ? rc : store_peers_rewrite(dir, key, peer, err, errlen);
}

int pair_find_peer(const char *dir, const char *key, struct pair_peer *peer, char *err, size_t errlen)
{
	char *text = malloc(PEERS_MAX), *line, *save = NULL, k[PAIR_ID_MAX];
	int rc = -ENOENT;
	long n;

	dir = store_dir(dir);
	if (!text) {
		return -ENOMEM;
	}
	n = store_read(dir, "peers", text, PEERS_MAX, err, errlen);
	if (n < 0) {
		free(text);
		return (int)n;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct pair_peer p;

		if (store_peer_line(line, k, &p) == 0 && strcmp(k, key) == 0) {
			*peer = p;
			rc = 0;
		}
	}
	free(text);
	return rc;
}

int pair_remove_peer(const char *dir, const char *key, char *err, size_t errlen)
{
	dir = store_dir(dir);
	if (!store_key_ok(key)) {
		return -ENOENT;
	}
	return store_peers_rewrite(dir, key, NULL, err, errlen);
}
