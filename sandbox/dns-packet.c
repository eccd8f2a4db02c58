/*
 * The DNS stub's packets: reading the first question of a query and
 * answering it REFUSED. The name is only ever logged, so it is made safe
 * to print rather than rejected for odd bytes.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dns-packet.h"

const char *
dns_packet_type_name(unsigned t, char *buf, size_t len)
{
	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 65: return "HTTPS";
	case 255: return "ANY";
	}
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

/* A name being written: what does not fit ends it there, so a short
 * buffer holds a prefix of the name, never a name with a hole. */
struct dns_name {
	char	*buf;
	size_t	 cap;		/* bytes, the terminator included */
	size_t	 n;
	bool	 full;
};

/* One character: as is if it may be (a label's '.' may not, the
 * separator may), else escaped. */
static void
dns_name_put(struct dns_name *d, unsigned char c, bool may_be_plain)
{
	bool	plain = may_be_plain && c > ' ' && c < 0x7f && c != '\\' &&
		    c != '"';
	size_t	need = plain ? 1 : 4;

	if (d->full || d->n + need >= d->cap) {
		d->full = true;
		return;
	}
	if (plain)
		d->buf[d->n++] = (char)c;
	else
		d->n += (size_t)snprintf(d->buf + d->n, d->cap - d->n, "\\%03u", c);
}

size_t
dns_packet_question(const uint8_t *p, size_t len, char *name, size_t namelen,
    unsigned *qtype)
{
	struct dns_name	d = { name, namelen, 0, false };
	size_t		off = DNS_PACKET_HDR, wire = 1, l, i;

	if (namelen == 0)
		return 0;
	if (len < DNS_PACKET_HDR || (p[2] & 0x80) != 0 || (p[4] << 8 | p[5]) < 1)
		goto fail;
	for (;;) {
		if (off >= len)
			goto fail;
		l = p[off++];
		if (l == 0)
			break;
		if ((l & 0xc0) != 0 || off + l > len)
			goto fail;      /* no compression in a question */
		/* RFC 1035 2.3.4: 255 octets, length bytes and root included. */
		if ((wire += l + 1) > DNS_PACKET_WIRE_MAX)
			goto fail;
		if (d.n > 0)
			dns_name_put(&d, '.', true);
		for (i = 0; i < l; i++) {
			unsigned char c = p[off + i];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			dns_name_put(&d, c, c != '.');
		}
		off += l;
	}
	if (off + 4 > len)
		goto fail;
	name[d.n] = '\0';
	if (wire == 1)
		snprintf(name, namelen, ".");
	*qtype = (unsigned)(p[off] << 8 | p[off + 1]);
	return off + 4;
fail:
	name[0] = '\0';
	return 0;
}

size_t
dns_packet_refuse(uint8_t *p, size_t end)
{
	p[2] = (uint8_t)(0x80 | (p[2] & 0x79));     /* QR, keep opcode and RD */
	p[3] = 0x80 | 5;                            /* RA, RCODE=REFUSED */
	p[4] = 0;                                   /* the one question */
	p[5] = 1;
	memset(p + 6, 0, 6);                        /* no records */
	return end;
}
