/*
 * Caller identity. gRPC core exposes no unix peer credentials, so local
 * operators present a token the gateway keeps in a 0600 file of its 0700
 * state directory; remote operators present a client certificate signed
 * by the gateway's CA (mTLS). Each sandbox presents its own random token,
 * of which only the hash is stored. A sandbox token is never an operator
 * credential.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gateway.h"

char *
gw_token_new(void)
{
	unsigned char	 raw[32];
	char		*hex;

	if (os_random_bytes(raw, sizeof raw) != 0)
		abort();     /* no randomness: refusing beats a guessable token */
	hex = xmalloc(sizeof raw * 2 + 1);
	os_hex_encode(raw, sizeof raw, hex);
	return hex;
}

void
gw_token_hash(const char *token, char out[65])
{
	os_sha256_hex(token, strlen(token), out);
}

int
gw_auth_init(struct gw *gw, struct os_error *err)
{
	char	*path, *tmp, buf[128];
	ssize_t	 n;
	int	 fd;

	path = xprintf("%s/operator.token", gw->state_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\r\n")] = '\0';
			if (strlen(buf) >= 32) {
				gw->operator_token = xstrdup(buf);
				free(path);
				return 0;
			}
		}
	}
	/* Missing or damaged: issue a new one. */
	gw->operator_token = gw_token_new();
	tmp = xprintf("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, gw->operator_token, strlen(gw->operator_token)) < 0 ||
	    write(fd, "\n", 1) != 1 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		os_error_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
		free(tmp);
		free(path);
		return err->code;
	}
	free(tmp);
	free(path);
	return 0;
}

void
gw_caller_clear(struct gw_caller *c)
{
	free(c->sandbox_id);
	free(c->sandbox_name);
	free(c->actor);
	memset(c, 0, sizeof *c);
}

static bool
gw_token_equal(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

bool
gw_auth_caller(struct gw *gw, struct os_rpc_call *call, struct gw_caller *out)
{
	struct store_sandbox	 sb;
	struct os_error		 err;
	char			*token, *cn, hash[65];

	memset(out, 0, sizeof *out);
	token = os_rpc_bearer_token(os_rpc_call_metadata(call));
	if (token != NULL && gw_token_equal(token, gw->operator_token)) {
		out->role = GW_ROLE_OPERATOR;
		out->actor = xstrdup("operator");
		free(token);
		return true;
	}
	if (token != NULL) {
		gw_token_hash(token, hash);
		free(token);
		memset(&sb, 0, sizeof sb);
		if (store_sandbox_get_by_token_hash(gw->store, hash, &sb, &err) == 0) {
			out->role = GW_ROLE_SANDBOX;
			out->sandbox_id = xstrdup(sb.id);
			out->sandbox_name = xstrdup(sb.name);
			out->actor = xprintf("sandbox:%s", sb.name);
			store_sandbox_clear(&sb);
			return true;
		}
	}
	/* mTLS: the TCP listener only accepts certificates our CA signed. */
	if ((cn = os_rpc_call_peer_cn(call)) != NULL) {
		out->role = GW_ROLE_OPERATOR;
		out->actor = xprintf("operator:%s", cn);
		free(cn);
		return true;
	}
	os_rpc_fail(call, GRPC_STATUS_UNAUTHENTICATED,
	    _("missing or invalid credentials (operators present the token in "
	    "the gateway's state directory or a client certificate)"));
	return false;
}

bool
gw_auth_operator(struct gw *gw, struct os_rpc_call *call, struct gw_caller *out)
{
	if (!gw_auth_caller(gw, call, out))
		return false;
	if (out->role == GW_ROLE_OPERATOR)
		return true;
	os_rpc_fail(call, GRPC_STATUS_PERMISSION_DENIED,
	    _("this call needs operator credentials; a sandbox token cannot make it"));
	gw_caller_clear(out);
	return false;
}
