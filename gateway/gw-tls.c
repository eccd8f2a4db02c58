/*
 * mTLS for remote operators: a CA private to this gateway, a server
 * certificate naming the addresses it listens on, and an operator client
 * certificate to copy to the operator's machine. Generated once into
 * <state>/tls and reused; the server certificate is issued again when the
 * gateway listens on an address it does not name.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "gw-tls.h"

static int
gw_tls_write(const char *dir, const char *name, const char *text, mode_t mode,
    struct os_error *err)
{
	char	*path;
	size_t	 len = strlen(text);
	int	 fd;

	path = xprintf("%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0) {
		os_error_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
		free(path);
		return err->code;
	}
	free(path);
	return 0;
}

char *
gw_tls_read(struct gw *gw, const char *name, struct os_error *err)
{
	struct os_buf	 b = OS_BUF_INIT;
	char		*path, chunk[4096];
	ssize_t		 n;
	int		 fd;

	path = xprintf("%s/%s", gw->tls_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		os_error_set(err, -errno, "%s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	free(path);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		os_buf_add(&b, chunk, (size_t)n);
	close(fd);
	return os_buf_steal(&b);
}

static bool
gw_tls_exists(const char *dir, const char *name)
{
	char	*path;
	bool	 ok;

	path = xprintf("%s/%s", dir, name);
	ok = access(path, R_OK) == 0;
	free(path);
	return ok;
}

static void
gw_tls_remove(const char *dir, const char *name)
{
	char	*path;

	path = xprintf("%s/%s", dir, name);
	unlink(path);
	free(path);
}

/* The host part of "HOST:PORT" or "[V6]:PORT". */
static char *
gw_tls_listen_host(const char *listen)
{
	const char	*colon;

	if (*listen == '[') {
		colon = strchr(listen, ']');
		return colon != NULL ? xstrndup(listen + 1, (size_t)(colon - listen - 1)) : NULL;
	}
	if ((colon = strrchr(listen, ':')) == NULL)
		return xstrdup(listen);
	return xstrndup(listen, (size_t)(colon - listen));
}

/* Whether the server certificate in <dir> names every --listen host. */
static bool
gw_tls_server_covers(struct gw *gw, const char *pem)
{
	struct os_ip	 ip;
	BIO		*bio;
	X509		*x;
	char		*h;
	size_t		 i;
	bool		 ok = true;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return false;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL)
		return false;
	for (i = 0; i < gw->nlisten && ok; i++) {
		if ((h = gw_tls_listen_host(gw->listen[i])) == NULL)
			continue;
		if (*h != '\0' && strcmp(h, "0.0.0.0") != 0 && strcmp(h, "::") != 0)
			ok = os_ip_parse(h, &ip) == 0 ?
			    X509_check_ip_asc(x, h, 0) == 1 :
			    X509_check_host(x, h, 0, 0, NULL) == 1;
		free(h);
	}
	X509_free(x);
	return ok;
}

int
gw_tls_ensure(struct gw *gw, struct os_error *err)
{
	struct os_cert_request	 r;
	struct os_ip		 ip;
	const char		*dns[16], *ips[16];
	char			*ca = NULL, *cakey = NULL, *cert, *key, *h;
	char			 hostname[256];
	char			*hosts[16];
	size_t			 nhosts = 0, i;
	int			 rc = 0;

	gw->tls_dir = xprintf("%s/tls", gw->state_dir);
	if (mkdir(gw->tls_dir, 0700) < 0 && errno != EEXIST)
		return os_error_set(err, -errno, "mkdir %s: %s", gw->tls_dir,
		    strerror(errno));
	if (!gw_tls_exists(gw->tls_dir, "ca.pem")) {
		memset(&r, 0, sizeof r);
		r.cn = "OpenShell Gateway CA";
		r.ca = true;
		r.days = 3650;
		if ((rc = os_x509_issue(&r, NULL, NULL, &ca, &cakey, err)) != 0 ||
		    (rc = gw_tls_write(gw->tls_dir, "ca-key.pem", cakey, 0600, err)) != 0 ||
		    (rc = gw_tls_write(gw->tls_dir, "ca.pem", ca, 0644, err)) != 0)
			goto out;
		/* A new CA invalidates whatever it did not sign. */
		gw_tls_remove(gw->tls_dir, "server.pem");
		gw_tls_remove(gw->tls_dir, "operator.pem");
	} else if ((ca = gw_tls_read(gw, "ca.pem", err)) == NULL ||
	    (cakey = gw_tls_read(gw, "ca-key.pem", err)) == NULL) {
		rc = err->code;
		goto out;
	}
	if (gw_tls_exists(gw->tls_dir, "server.pem")) {
		char *pem = gw_tls_read(gw, "server.pem", err);

		/* Listening somewhere new: clients would refuse the old one.
		 * The CA stays, so operator certificates stay valid. */
		if (pem == NULL || !gw_tls_server_covers(gw, pem))
			gw_tls_remove(gw->tls_dir, "server.pem");
		free(pem);
	}
	if (!gw_tls_exists(gw->tls_dir, "server.pem")) {
		size_t nd = 0, ni = 0;

		dns[nd++] = "localhost";
		ips[ni++] = "127.0.0.1";
		ips[ni++] = "::1";
		if (gethostname(hostname, sizeof hostname) == 0) {
			hostname[sizeof hostname - 1] = '\0';
			dns[nd++] = hostname;
		}
		for (i = 0; i < gw->nlisten && nhosts < 8; i++) {
			if ((h = gw_tls_listen_host(gw->listen[i])) == NULL || *h == '\0' ||
			    strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0) {
				free(h);
				continue;
			}
			hosts[nhosts++] = h;
			if (os_ip_parse(h, &ip) == 0)
				ips[ni++] = h;
			else
				dns[nd++] = h;
		}
		memset(&r, 0, sizeof r);
		r.cn = "openshell-gateway";
		r.dns = dns;
		r.ndns = nd;
		r.ips = ips;
		r.nips = ni;
		r.server = true;
		r.days = 825;
		rc = os_x509_issue(&r, ca, cakey, &cert, &key, err);
		for (i = 0; i < nhosts; i++)
			free(hosts[i]);
		if (rc != 0)
			goto out;
		rc = gw_tls_write(gw->tls_dir, "server-key.pem", key, 0600, err);
		if (rc == 0)
			rc = gw_tls_write(gw->tls_dir, "server.pem", cert, 0644, err);
		free(cert);
		free(key);
		if (rc != 0)
			goto out;
	}
	if (!gw_tls_exists(gw->tls_dir, "operator.pem")) {
		memset(&r, 0, sizeof r);
		r.cn = "operator";
		r.client = true;
		r.days = 825;
		if ((rc = os_x509_issue(&r, ca, cakey, &cert, &key, err)) != 0)
			goto out;
		rc = gw_tls_write(gw->tls_dir, "operator-key.pem", key, 0600, err);
		if (rc == 0)
			rc = gw_tls_write(gw->tls_dir, "operator.pem", cert, 0644, err);
		free(cert);
		free(key);
	}
out:
	free(ca);
	free(cakey);
	return rc;
}
