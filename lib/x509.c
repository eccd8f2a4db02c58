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

static bool
x509_set_serial(X509 *cert, struct os_error *err)
{
	unsigned char	 serial[16];
	BIGNUM		*bn;
	bool		 ok;

	if (RAND_bytes(serial, sizeof serial) != 1) {
		x509_fail(err, "random serial");
		return false;
	}
	serial[0] &= 0x7f;     /* positive */
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	if (!ok)
		x509_fail(err, "serial");
	return ok;
}

/* From an hour ago, narrowed to the issuer's: a leaf that outlives its
 * CA fails verification. */
static void
x509_set_validity(X509 *cert, int days, X509 *issuer)
{
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400);
	if (issuer == NULL)
		return;
	if (ASN1_TIME_compare(X509_get0_notBefore(cert), X509_get0_notBefore(issuer)) < 0)
		X509_set1_notBefore(cert, X509_get0_notBefore(issuer));
	if (ASN1_TIME_compare(X509_get0_notAfter(cert), X509_get0_notAfter(issuer)) > 0)
		X509_set1_notAfter(cert, X509_get0_notAfter(issuer));
}

static void
x509_set_subject(X509 *cert, const char *cn)
{
	X509_NAME	*name = X509_NAME_new();

	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"OpenShell", -1, -1, 0);
	if (cn != NULL)
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_NAME_free(name);
}

static bool
x509_set_san(X509 *cert, X509 *issuer, const struct os_cert_request *r,
    struct os_error *err)
{
	char	*san;
	bool	 ok = true;

	if ((san = x509_san(r)) != NULL &&
	    !(ok = x509_add_ext(cert, issuer != NULL ? issuer : cert,
	    NID_subject_alt_name, san)))
		x509_fail(err, "subjectAltName");
	free(san);
	return ok;
}

static X509 *
x509_build(const struct os_cert_request *r, EVP_PKEY *key, X509 *icert,
    EVP_PKEY *ikey, struct os_error *err)
{
	X509		*cert;
	const char	*eku, *bc;

	cert = X509_new();
	X509_set_version(cert, 2);
	if (!x509_set_serial(cert, err))
		goto fail;
	x509_set_validity(cert, r->days, icert);
	X509_set_pubkey(cert, key);
	x509_set_subject(cert, r->cn);
	X509_set_issuer_name(cert, icert != NULL ? X509_get_subject_name(icert) :
	    X509_get_subject_name(cert));

	if (!x509_add_ext(cert, icert != NULL ? icert : cert, NID_subject_key_identifier, "hash") ||
	    !x509_add_ext(cert, icert != NULL ? icert : cert, NID_authority_key_identifier, "keyid:always")) {
		x509_fail(err, "key identifiers");
		goto fail;
	}
	if (r->ca) {
		bc = r->leaves_only ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE";
		if (!x509_add_ext(cert, cert, NID_basic_constraints, bc) ||
		    !x509_add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign")) {
			x509_fail(err, "CA extensions");
			goto fail;
		}
	} else {
		eku = r->server && r->client ? "serverAuth,clientAuth" :
		    r->client ? "clientAuth" : "serverAuth";
		if (!x509_add_ext(cert, icert, NID_basic_constraints, "critical,CA:FALSE") ||
		    !x509_add_ext(cert, icert, NID_key_usage, "critical,digitalSignature") ||
		    !x509_add_ext(cert, icert, NID_ext_key_usage, eku)) {
			x509_fail(err, "leaf extensions");
			goto fail;
		}
	}
	if (!x509_set_san(cert, icert, r, err))
		goto fail;
	if (X509_sign(cert, ikey != NULL ? ikey : key, EVP_sha256()) == 0) {
		x509_fail(err, "sign");
		goto fail;
	}
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

EVP_PKEY *
os_x509_key_new(struct os_error *err)
{
	EVP_PKEY	*key;

	if ((key = EVP_EC_gen("P-256")) == NULL)
		x509_fail(err, "generate key");
	return key;
}

X509 *
os_x509_issue_key(const struct os_cert_request *r, EVP_PKEY *key,
    X509 *issuer, EVP_PKEY *issuer_key, struct os_error *err)
{
	if ((issuer == NULL) != (issuer_key == NULL)) {
		os_error_set(err, -EINVAL, "issuer certificate and key go together");
		return NULL;
	}
	return x509_build(r, key, issuer, issuer_key, err);
}

/*
 * Copying a certificate keeps its encoded public key; encoding a key
 * again (X509_set_pubkey) goes through OpenSSL 3's encoder and decoder
 * and costs several times the signature.
 */
X509 *
os_x509_reissue(X509 *tmpl, const struct os_cert_request *r, X509 *issuer,
    EVP_PKEY *issuer_key, struct os_error *err)
{
	X509	*cert;
	int	 i;

	if (X509_NAME_cmp(X509_get_issuer_name(tmpl), X509_get_subject_name(issuer)) != 0) {
		os_error_set(err, -EINVAL, "the template was not issued by this issuer");
		return NULL;
	}
	if ((cert = X509_dup(tmpl)) == NULL) {
		x509_fail(err, "copy the template");
		return NULL;
	}
	if (!x509_set_serial(cert, err))
		goto fail;
	x509_set_validity(cert, r->days, issuer);
	x509_set_subject(cert, r->cn);
	while ((i = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(cert, i));
	if (!x509_set_san(cert, issuer, r, err))
		goto fail;
	if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
		x509_fail(err, "sign");
		goto fail;
	}
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

int
os_x509_issue(const struct os_cert_request *r, const char *issuer_cert_pem,
    const char *issuer_key_pem, char **cert_pem, char **key_pem,
    struct os_error *err)
{
	EVP_PKEY	*key = NULL, *ikey = NULL;
	X509		*cert = NULL, *icert = NULL;
	BIO		*b = NULL;
	int		 rc = -EIO;

	*cert_pem = *key_pem = NULL;
	if ((key = os_x509_key_new(err)) == NULL)
		goto out;
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
	if ((cert = x509_build(r, key, icert, ikey, err)) == NULL)
		goto out;
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
	X509_free(cert);
	X509_free(icert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ikey);
	return rc;
}
