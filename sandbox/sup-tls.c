/*
 * The sandbox's TLS trust: a CA of its own, made at start (its key never
 * leaves this process), which the proxy mints leaves with when it
 * terminates TLS for `protocol: rest` endpoints; and the upstream client
 * context (system store plus the gateway's --upstream-ca).
 *
 * Agents trust the CA three ways, so that tools that ignore the usual
 * variables still work: /etc/openshell-tls/ (the CA alone and a bundle
 * of the system's roots plus it), the variables pointing there, and the
 * system bundle paths themselves shadowed in the sandbox's /etc overlay.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int
tls_write_file(const char *path, const char *a, size_t alen, const char *b,
    struct os_error *err)
{
	int	fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fchmod(fd, 0644) < 0 ||
	    (alen > 0 && write(fd, a, alen) != (ssize_t)alen) ||
	    (alen > 0 && a[alen - 1] != '\n' && write(fd, "\n", 1) != 1) ||
	    write(fd, b, strlen(b)) != (ssize_t)strlen(b))
		rc = os_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
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
	free(sys);
	free(dir);
	return rc;
}
