/*
 * DNS packets as the sandbox's DNS stub sees them (dns-packet.c): the
 * first question of a query, and the REFUSED answer to it. Pure bytes,
 * no I/O, so the fuzz target and unit tests call it as the stub does.
 * Queries come from the agent: nothing in them is trusted.
 */
#ifndef SANDBOX_DNS_PACKET_H
#define SANDBOX_DNS_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define DNS_PACKET_HDR		12
#define DNS_PACKET_WIRE_MAX	255	/* a name's octets on the wire */
/* Room for the longest name dns_packet_question writes: every one of its
 * at most 254 characters escaped. */
#define DNS_PACKET_NAME_BUF	(4 * DNS_PACKET_WIRE_MAX)

/*
 * The first question of a query: its name (dotted, lower case, "." for
 * the root; bytes outside printable ASCII and '\\', '.', '"' spelled
 * \DDD, as in zone files) into name (at least DNS_PACKET_NAME_BUF bytes
 * for every name to fit; always terminated), and its type. Returns the
 * offset just past the question, or 0 for a packet that is no query we
 * answer: too short, a response, no question, a compressed or truncated
 * name, a name over DNS_PACKET_WIRE_MAX octets (253 characters dotted).
 */
size_t	 dns_packet_question(const uint8_t *p, size_t len, char *name,
	     size_t namelen, unsigned *qtype);
/*
 * Turns a query whose question ends at `end` (dns_packet_question's
 * result) into its answer, in place: the same id, opcode, RD and
 * question, no records, RCODE REFUSED. Returns the answer's length (end).
 */
size_t	 dns_packet_refuse(uint8_t *p, size_t end);
/* "A", "AAAA", ..., or for others the number as RFC 3597 spells it
 * ("TYPE99") in buf. */
const char *dns_packet_type_name(unsigned qtype, char *buf, size_t len);

#endif
