/*
 * Fuzz target: any bytes as a packet to the sandbox's DNS stub. Nothing
 * may crash or read past the packet; a name read is terminated, fits,
 * and holds only printable ASCII without '"' (it goes into a log line),
 * with '\\' only in \DDD escapes; the REFUSED answer keeps the id and
 * the question, and is itself never taken for a query.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns-packet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_name(const char *name, size_t cap)
{
	size_t	n = strnlen(name, cap), i;

	if (n == cap || n == 0)
		abort();
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c >= 0x7f || c == '"' || (c >= 'A' && c <= 'Z'))
			abort();
		if (c == '\\') {
			if (i + 3 >= n || name[i + 1] < '0' || name[i + 1] > '2' ||
			    name[i + 2] < '0' || name[i + 2] > '9' ||
			    name[i + 3] < '0' || name[i + 3] > '9')
				abort();
			i += 3;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 name[DNS_PACKET_NAME_BUF], again[DNS_PACKET_NAME_BUF];
	char		 small[8];
	unsigned	 qtype = 0, qtype2 = 0;
	uint8_t		*p;
	size_t		 end, end2;

	/* An exact copy, so ASan sees any read past the packet. */
	p = malloc(size > 0 ? size : 1);
	memcpy(p, data, size);
	end = dns_packet_question(p, size, name, sizeof name, &qtype);
	if (end == 0) {
		if (name[0] != '\0')
			abort();
		free(p);
		return 0;
	}
	if (end > size || end < DNS_PACKET_HDR + 5)
		abort();
	check_name(name, sizeof name);
	/* A smaller buffer gives a prefix of the same name. */
	if (dns_packet_question(p, size, small, sizeof small, &qtype2) != end ||
	    qtype2 != qtype || strncmp(small, name, strlen(small)) != 0)
		abort();
	if (dns_packet_refuse(p, end) != end ||
	    memcmp(p, data, 2) != 0 ||
	    memcmp(p + DNS_PACKET_HDR, data + DNS_PACKET_HDR,
	    end - DNS_PACKET_HDR) != 0 ||
	    (p[2] & 0x80) == 0 || (p[3] & 0x0f) != 5)
		abort();
	end2 = dns_packet_question(p, end, again, sizeof again, &qtype2);
	if (end2 != 0)
		abort();
	free(p);
	return 0;
}
