/*
 * The DNS stub's packets (sandbox/dns-packet.c): which queries it reads,
 * how it spells the name it logs, and the REFUSED answer it sends.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "dns-packet.h"

/* A query: id 0xbeef, RD, one question for the labels in name (dotted,
 * no escapes) and type qtype. Returns its length. */
static size_t
query(uint8_t *p, const char *name, unsigned qtype)
{
	static const uint8_t	hdr[] = { 0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0,
				    0, 0, 0, 1 };
	size_t			n = sizeof hdr, l;
	const char		*dot;

	memcpy(p, hdr, sizeof hdr);
	while (*name != '\0') {
		dot = strchr(name, '.');
		l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name += l + (dot != NULL);
	}
	p[n++] = 0;
	p[n++] = (uint8_t)(qtype >> 8);
	p[n++] = (uint8_t)qtype;
	p[n++] = 0;
	p[n++] = 1;		/* class IN */
	return n;
}

static void
t_question(void)
{
	uint8_t		p[600];
	char		name[DNS_PACKET_NAME_BUF], tb[16], big[300];
	unsigned	qtype = 0;
	size_t		n;

	n = query(p, "API.GitHub.com", 28);
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), n);
	CHECK_STR(name, "api.github.com");
	CHECK_INT(qtype, 28);
	CHECK_STR(dns_packet_type_name(qtype, tb, sizeof tb), "AAAA");
	CHECK_STR(dns_packet_type_name(99, tb, sizeof tb), "TYPE99");
	/* The root. */
	n = query(p, "", 2);
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), n);
	CHECK_STR(name, ".");
	/* Bytes a log line must not carry raw are spelled \DDD. */
	n = query(p, "a\"b\\c", 1);
	p[13] = ' ';
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), n);
	CHECK_STR(name, "\\032\\034b\\092c");
	/* The longest name: 253 characters, 255 octets on the wire; and one
	 * whose escapes make it longer than that in print. */
	memset(big, 'a', 253);
	big[63] = big[127] = big[191] = '.';
	big[253] = '\0';
	n = query(p, big, 1);
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), n);
	CHECK_STR(name, big);
	memset(big, 0x7f, 63);
	big[63] = '\0';
	n = query(p, big, 1);
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), n);
	CHECK_INT(strlen(name), 4 * 63);
	/* Extra records after the question are left to the caller. */
	n = query(p, "x.test", 1);
	CHECK_INT(dns_packet_question(p, n + 20, name, sizeof name, &qtype), n);
}

static void
t_not_queries(void)
{
	uint8_t		p[600];
	char		name[DNS_PACKET_NAME_BUF], big[300];
	unsigned	qtype = 7;
	size_t		n, i;

	n = query(p, "x.test", 1);
	CHECK_INT(dns_packet_question(p, 11, name, sizeof name, &qtype), 0);
	for (i = DNS_PACKET_HDR; i < n; i++)	/* truncated anywhere */
		CHECK_INT(dns_packet_question(p, i, name, sizeof name, &qtype), 0);
	p[2] |= 0x80;				/* a response */
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), 0);
	n = query(p, "x.test", 1);
	p[5] = 0;				/* no question */
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), 0);
	n = query(p, "x.test", 1);
	p[12] = 0xc0;				/* a compression pointer */
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), 0);
	/* Over 255 octets on the wire (254 characters dotted). */
	memset(big, 'a', sizeof big);
	for (i = 63; i < sizeof big; i += 64)
		big[i] = '.';
	big[255] = '\0';
	n = query(p, big, 1);
	CHECK_INT(dns_packet_question(p, n, name, sizeof name, &qtype), 0);
	CHECK_STR(name, "");
	CHECK_INT(qtype, 7);			/* untouched */
	/* A small buffer cuts the name, still terminated. */
	n = query(p, "abcdef.test", 1);
	CHECK_INT(dns_packet_question(p, n, name, 4, &qtype), n);
	CHECK_STR(name, "abc");
}

static void
t_refuse(void)
{
	uint8_t		p[600], q[600];
	char		name[DNS_PACKET_NAME_BUF];
	unsigned	qtype = 0;
	size_t		n, end;

	n = query(p, "pypi.org", 1);
	p[2] |= 0x04 | 0x02;			/* AA and TC: not ours to echo */
	p[7] = 2;				/* answers, authority, ... */
	p[9] = 3;
	end = dns_packet_question(p, n, name, sizeof name, &qtype);
	memcpy(q, p, n);
	CHECK_INT(dns_packet_refuse(p, end), end);
	CHECK_INT(p[0], 0xbe);
	CHECK_INT(p[1], 0xef);
	CHECK_INT(p[2], 0x81);			/* QR, opcode 0, RD */
	CHECK_INT(p[3], 0x85);			/* RA, REFUSED */
	CHECK_INT(p[4] << 8 | p[5], 1);
	CHECK(memcmp(p + 6, "\0\0\0\0\0\0", 6) == 0);
	CHECK(memcmp(p + DNS_PACKET_HDR, q + DNS_PACKET_HDR,
	    end - DNS_PACKET_HDR) == 0);
	/* An answer is no query: the stub never answers its own answers. */
	CHECK_INT(dns_packet_question(p, end, name, sizeof name, &qtype), 0);
}

int
main(void)
{
	TAP_RUN(t_question);
	TAP_RUN(t_not_queries);
	TAP_RUN(t_refuse);
	return tap_done();
}
