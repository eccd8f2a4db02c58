/*
 * The one spelling of a TLS host: what leaves are minted for, what the
 * cache is keyed on and what upstream certificates must match. Host
 * names end up inside OpenSSL's extension syntax ("DNS:<host>"), so only
 * host-name characters get through; a comma or colon could otherwise add
 * names to a certificate.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls.h"

#define TLS_LABEL_MAX	63

/* The host as it can be shown in a message: printable, and not too long. */
static void
tls_host_show(const char *host, char *buf, size_t len)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	for (i = 0; host[i] != '\0' && i < 80; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			os_buf_addc(&b, (char)c);
		else
			os_buf_addf(&b, "\\x%02x", c);
	}
	if (host[i] != '\0')
		os_buf_adds(&b, "...");
	snprintf(buf, len, "%s", os_buf_str(&b));
	os_buf_free(&b);
}

static int
tls_host_bad(const char *host, const char *why, struct os_error *err)
{
	char	show[400];

	tls_host_show(host, show, sizeof show);
	return os_error_set(err, -EINVAL, _("invalid TLS host '%s': %s"), show,
	    why);
}

static int
tls_host_name(const char *host, char *out, struct os_error *err)
{
	size_t	n = strlen(host), i, label = 0;
	char	why[64];

	if (n > 1 && host[n - 1] == '.')
		n--;                    /* "example.com." names the same host */
	if (n > TLS_HOST_MAX - 1)
		return tls_host_bad(host, _("longer than 253 characters"), err);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.')
			out[i] = (char)c;
		else if (c >= 'A' && c <= 'Z')
			out[i] = (char)(c - 'A' + 'a');
		else {
			if (c >= 0x20 && c < 0x7f)
				snprintf(why, sizeof why,
				    _("invalid character '%c'"), c);
			else
				snprintf(why, sizeof why,
				    _("invalid byte 0x%02x"), c);
			return tls_host_bad(host, why, err);
		}
	}
	out[n] = '\0';
	for (i = 0; i <= n; i++) {
		if (i < n && out[i] != '.')
			continue;
		if (i == label)
			return tls_host_bad(host, _("empty label"), err);
		if (i - label > TLS_LABEL_MAX)
			return tls_host_bad(host,
			    _("a label is longer than 63 characters"), err);
		label = i + 1;
	}
	return 0;
}

int
tls_host_normalize(const char *host, char out[TLS_HOST_MAX], bool *is_ip,
    struct os_error *err)
{
	struct os_ip	ip;
	char		inner[64];
	size_t		n;

	if (is_ip != NULL)
		*is_ip = false;
	if (host == NULL || *host == '\0')
		return os_error_set(err, -EINVAL, _("invalid TLS host '': empty"));
	n = strlen(host);
	if (host[0] == '[') {
		/* "[::1]" as in a CONNECT target: IPv6 only. */
		if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof inner)
			return tls_host_bad(host, _("not an IPv6 address"), err);
		memcpy(inner, host + 1, n - 2);
		inner[n - 2] = '\0';
		if (os_ip_parse(inner, &ip) != 0 || ip.family != AF_INET6)
			return tls_host_bad(host, _("not an IPv6 address"), err);
	} else if (os_ip_parse(host, &ip) != 0)
		return tls_host_name(host, out, err);
	/* Canonical text, so "::1" and "0:0::1" share a leaf. */
	os_ip_format(&ip, out, TLS_HOST_MAX);
	if (is_ip != NULL)
		*is_ip = true;
	return 0;
}
