/*
 * Certificate issuance with OpenSSL: self-signed CAs and leaves signed by
 * them, ECDSA P-256 throughout (small, fast to generate and verify).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "openshell.h"

static int
x509_fail(struct os_error *err, const char *what)
{
	char	buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	ERR_clear_error();
	return os_error_set(err, -EIO, "%s: %s", what, buf);
}

static char *
x509_bio_string(BIO *b)
{
	char	*p;
	long	 n;

	n = BIO_get_mem_data(b, &p);
	return xstrndup(p, (size_t)n);
}

static bool
x509_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	bool		 ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return false;
	ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static char *
x509_san(const struct os_cert_request *r)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	for (i = 0; i < r->ndns; i++)
		os_buf_addf(&b, "%sDNS:%s", b.len ? "," : "", r->dns[i]);
	for (i = 0; i < r->nips; i++)
		os_buf_addf(&b, "%sIP:%s", b.len ? "," : "", r->ips[i]);
	return b.len ? os_buf_steal(&b) : NULL;
}

int
os_x509_issue(const struct os_cert_request *r, const char *issuer_cert_pem,
    const char *issuer_key_pem, char **cert_pem, char **key_pem,
    struct os_error *err)
{
	EVP_PKEY	*key = NULL, *ikey = NULL;
	X509		*cert = NULL, *icert = NULL;
	X509_NAME	*name;
	BIO		*b = NULL;
	unsigned char	 serial[16];
	BIGNUM		*bn = NULL;
	char		*san = NULL, *eku;
	int		 rc = -EIO;

	*cert_pem = *key_pem = NULL;
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		x509_fail(err, "generate key");
		goto out;
	}
	if (issuer_cert_pem != NULL) {
		b = BIO_new_mem_buf(issuer_cert_pem, -1);
		icert = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		b = BIO_new_mem_buf(issuer_key_pem, -1);
		ikey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		b = NULL;
		if (icert == NULL || ikey == NULL) {
			x509_fail(err, "read the issuer certificate or key");
			rc = -EINVAL;
			goto out;
		}
	}
	cert = X509_new();
	X509_set_version(cert, 2);
	if (RAND_bytes(serial, sizeof serial) != 1) {
		x509_fail(err, "random serial");
		goto out;
	}
	serial[0] &= 0x7f;     /* positive */
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), (long)r->days * 86400);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"OpenShell", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)r->cn, -1, -1, 0);
	X509_set_issuer_name(cert, icert != NULL ? X509_get_subject_name(icert) : name);

	if (!x509_add_ext(cert, icert != NULL ? icert : cert, NID_subject_key_identifier, "hash") ||
	    !x509_add_ext(cert, icert != NULL ? icert : cert, NID_authority_key_identifier, "keyid:always")) {
		x509_fail(err, "key identifiers");
		goto out;
	}
	if (r->ca) {
		if (!x509_add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") ||
		    !x509_add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign")) {
			x509_fail(err, "CA extensions");
			goto out;
		}
	} else {
		eku = r->server && r->client ? "serverAuth,clientAuth" :
		    r->client ? "clientAuth" : "serverAuth";
		if (!x509_add_ext(cert, icert, NID_basic_constraints, "critical,CA:FALSE") ||
		    !x509_add_ext(cert, icert, NID_key_usage, "critical,digitalSignature") ||
		    !x509_add_ext(cert, icert, NID_ext_key_usage, eku)) {
			x509_fail(err, "leaf extensions");
			goto out;
		}
	}
	if ((san = x509_san(r)) != NULL &&
	    !x509_add_ext(cert, icert != NULL ? icert : cert, NID_subject_alt_name, san)) {
		x509_fail(err, "subjectAltName");
		goto out;
	}
	if (X509_sign(cert, ikey != NULL ? ikey : key, EVP_sha256()) == 0) {
		x509_fail(err, "sign");
		goto out;
	}
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, cert);
	*cert_pem = x509_bio_string(b);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	*key_pem = x509_bio_string(b);
	rc = 0;
out:
	BIO_free(b);
	BN_free(bn);
	free(san);
	X509_free(cert);
	X509_free(icert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ikey);
	return rc;
}
