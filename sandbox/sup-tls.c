/*
 * The sandbox's TLS trust: a CA of its own, made at start (its key never
 * leaves this process), which the proxy mints leaves with when it
 * terminates TLS for `protocol: rest` endpoints; and the upstream client
 * context (system store plus the gateway's --upstream-ca).
 *
 * Agents trust the CA several ways, so that tools that ignore the usual
 * variables still work: /etc/openshell-tls/ (the CA alone and a bundle
 * of the system's roots plus it), the variables pointing there, and in
 * the sandbox's /etc overlay the system bundle paths themselves, a
 * <hash>.0 in OpenSSL's hashed directory, and Java's JKS store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sandbox.h"
#include "tls.h"

/* Where distributions keep their bundle; the first that exists is ours. */
static const char *const tls_system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",     /* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",       /* Fedora, RHEL */
	"/etc/ssl/ca-bundle.pem",                 /* openSUSE */
	"/etc/ssl/cert.pem",                      /* others */
};

int
sup_tls_init(struct sup *s, struct os_error *err)
{
	const char	*extra = NULL;
	int		 rc;

	if ((rc = tls_ca_new(s->name, &s->ca, err)) != 0)
		return rc;
	if (s->config != NULL && s->config->proxy != NULL &&
	    *s->config->proxy->upstream_ca_pem != '\0')
		extra = s->config->proxy->upstream_ca_pem;
	if ((s->upstream_tls = tls_upstream_ctx_new(extra, err)) == NULL) {
		tls_ca_free(s->ca);
		s->ca = NULL;
		return err->code != 0 ? err->code : -EINVAL;
	}
	return 0;
}

void
sup_tls_free(struct sup *s)
{
	if (s->upstream_tls != NULL)
		SSL_CTX_free(s->upstream_tls);
	if (s->ca != NULL)
		tls_ca_free(s->ca);
	s->upstream_tls = NULL;
	s->ca = NULL;
}

/* a (may be empty), a newline if a lacks one, then b. */
static int
tls_write_file(const char *path, const char *a, size_t alen, const char *b,
    struct os_error *err)
{
	struct os_buf	buf = OS_BUF_INIT;
	int		rc;

	os_buf_add(&buf, a, alen);
	if (alen > 0 && a[alen - 1] != '\n')
		os_buf_addc(&buf, '\n');
	os_buf_adds(&buf, b);
	rc = sup_write_file(path, buf.data, buf.len, err);
	os_buf_free(&buf);
	return rc;
}

static char *
tls_read_system_bundle(size_t *len, const char **from)
{
	struct os_buf	b = OS_BUF_INIT;
	char		chunk[65536];
	ssize_t		n;
	size_t		i;
	int		fd;

	for (i = 0; i < OS_NELEM(tls_system_bundles); i++) {
		if ((fd = open(tls_system_bundles[i], O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		while ((n = read(fd, chunk, sizeof chunk)) > 0)
			os_buf_add(&b, chunk, (size_t)n);
		close(fd);
		*from = tls_system_bundles[i];
		*len = b.len;
		return b.data != NULL ? os_buf_steal(&b) : xstrdup("");
	}
	*from = NULL;
	*len = 0;
	return xstrdup("");
}

/* Creates dir/a/b/... below etc_dir for a path like /etc/ssl/certs/x. */
static char *
tls_layer_path(const char *etc_dir, const char *etc_path, struct os_error *err)
{
	char	*p, *s;

	p = xprintf("%s%s", etc_dir, etc_path + 4);     /* past "/etc" */
	for (s = p + strlen(etc_dir) + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (sup_mkdir(p, 0755, err) != 0) {
			free(p);
			return NULL;
		}
		*s = '/';
	}
	return p;
}

/* Java keeps its own store; Debian's is a JKS at this path. */
#define TLS_JAVA_CACERTS	"/etc/ssl/certs/java/cacerts"

static void
jks_u32(struct os_buf *b, uint32_t v)
{
	unsigned char	x[4] = { v >> 24, v >> 16, v >> 8, v };

	os_buf_add(b, x, 4);
}

static void
jks_utf(struct os_buf *b, const char *s)
{
	size_t		n = strlen(s);
	unsigned char	x[2] = { (unsigned char)(n >> 8), (unsigned char)n };

	os_buf_add(b, x, 2);
	os_buf_add(b, s, n);
}

/*
 * A JKS trust store of every certificate in `pem` (the bundle, the
 * sandbox CA last), for Java, which reads neither the variables nor the
 * PEM bundle. The format: magic, version 2, then per entry tag 2 (a
 * trusted certificate), alias, time, "X.509", DER; then SHA-1 over the
 * store password as UTF-16BE, "Mighty Aphrodite" and everything before.
 * The password is Java's default, "changeit", as in every distribution.
 */
static int
tls_write_jks(const char *path, const char *pem, size_t pemlen,
    struct os_error *err)
{
	static const char	 pass[] = "changeit";
	struct os_buf		 b = OS_BUF_INIT, body = OS_BUF_INIT;
	unsigned char		 md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int		 mdlen = 0;
	char			 alias[32];
	EVP_MD_CTX		*ctx;
	BIO			*bio;
	X509			*x;
	uint32_t		 n = 0;
	int64_t			 now = os_now_ms();
	int			 len, rc;
	size_t			 i;

	bio = BIO_new_mem_buf(pem, (int)pemlen);
	while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if ((len = i2d_X509(x, &der)) > 0) {
			jks_u32(&body, 2);
			snprintf(alias, sizeof alias, "openshell-%u", n);
			jks_utf(&body, alias);
			jks_u32(&body, (uint32_t)((uint64_t)now >> 32));
			jks_u32(&body, (uint32_t)now);
			jks_utf(&body, "X.509");
			jks_u32(&body, (uint32_t)len);
			os_buf_add(&body, der, (size_t)len);
			n++;
		}
		OPENSSL_free(der);
		der = NULL;
		X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	jks_u32(&b, 0xfeedfeed);
	jks_u32(&b, 2);
	jks_u32(&b, n);
	os_buf_add(&b, body.data, body.len);
	os_buf_free(&body);
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
	for (i = 0; pass[i] != '\0'; i++) {
		unsigned char	u16[2] = { 0, (unsigned char)pass[i] };

		EVP_DigestUpdate(ctx, u16, 2);
	}
	EVP_DigestUpdate(ctx, "Mighty Aphrodite", 16);
	EVP_DigestUpdate(ctx, b.data, b.len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	os_buf_add(&b, md, mdlen);
	rc = sup_write_file(path, b.data, b.len, err);
	os_buf_free(&b);
	return rc;
}

int
sup_tls_write_trust(struct sup *s, const char *etc_dir, struct os_error *err)
{
	const char	*ca, *from;
	char		*sys, *dir, *path;
	size_t		 syslen, i;
	int		 rc;

	if (s->ca == NULL)
		return 0;
	ca = tls_ca_cert_pem(s->ca);
	dir = xprintf("%s/openshell-tls", etc_dir);
	if ((rc = sup_mkdir(dir, 0755, err)) != 0) {
		free(dir);
		return rc;
	}
	sys = tls_read_system_bundle(&syslen, &from);
	path = xprintf("%s/openshell-ca.pem", dir);
	rc = tls_write_file(path, "", 0, ca, err);
	free(path);
	if (rc == 0) {
		path = xprintf("%s/ca-bundle.pem", dir);
		rc = tls_write_file(path, sys, syslen, ca, err);
		free(path);
	}
	/* The system's own bundle paths, shadowed: tools that read them
	 * directly trust the CA too. */
	for (i = 0; rc == 0 && i < OS_NELEM(tls_system_bundles); i++) {
		if (access(tls_system_bundles[i], F_OK) != 0)
			continue;
		if ((path = tls_layer_path(etc_dir, tls_system_bundles[i], err)) == NULL) {
			rc = err->code;
			break;
		}
		rc = tls_write_file(path, sys, syslen, ca, err);
		free(path);
	}
	/* OpenSSL's hashed directory (-CApath, SSL_CERT_DIR): <hash>.0. */
	if (rc == 0 && access("/etc/ssl/certs", F_OK) == 0) {
		BIO		*bio = BIO_new_mem_buf(ca, -1);
		X509		*x = bio != NULL ?
				    PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		char		 name[64];

		if (x != NULL) {
			snprintf(name, sizeof name, "/etc/ssl/certs/%08lx.0",
			    X509_subject_name_hash(x));
			if ((path = tls_layer_path(etc_dir, name, err)) == NULL)
				rc = err->code;
			else
				rc = tls_write_file(path, "", 0, ca, err);
			free(path);
			X509_free(x);
		}
		BIO_free(bio);
		ERR_clear_error();
	}
	/* Java's store, where Java is installed: the same roots, and ours. */
	if (rc == 0 && access(TLS_JAVA_CACERTS, F_OK) == 0) {
		struct os_buf all = OS_BUF_INIT;

		os_buf_add(&all, sys, syslen);
		os_buf_adds(&all, "\n");
		os_buf_adds(&all, ca);
		if ((path = tls_layer_path(etc_dir, TLS_JAVA_CACERTS, err)) == NULL)
			rc = err->code;
		else
			rc = tls_write_jks(path, all.data, all.len, err);
		free(path);
		os_buf_free(&all);
	}
	free(sys);
	free(dir);
	return rc;
}
