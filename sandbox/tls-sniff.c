/*
 * Is a tunnel's first data a TLS ClientHello? Decided on the record
 * header and the handshake type, as soon as a byte rules it out, so
 * plain HTTP ("GET ...") is known from its first byte.
 */
#include "config.h"

#include "tls.h"

#define TLS_RECORD_HANDSHAKE	0x16
#define TLS_HANDSHAKE_CLIENT_HELLO 0x01
#define TLS_RECORD_MAX		16384	/* 2^14, a plaintext record */

int
tls_sniff(const unsigned char *p, size_t n)
{
	size_t	len;

	if (n >= 1 && p[0] != TLS_RECORD_HANDSHAKE)
		return 0;
	/* Record versions 3.0 to 3.4; TLS 1.3 clients send 3.1 here. */
	if (n >= 2 && p[1] != 0x03)
		return 0;
	if (n >= 3 && p[2] > 0x04)
		return 0;
	if (n >= 4 && p[3] > TLS_RECORD_MAX >> 8)
		return 0;
	if (n >= 5) {
		len = (size_t)p[3] << 8 | p[4];
		if (len == 0 || len > TLS_RECORD_MAX)
			return 0;
	}
	if (n >= 6 && p[5] != TLS_HANDSHAKE_CLIENT_HELLO)
		return 0;
	return n >= TLS_SNIFF_MIN ? 1 : -1;
}
