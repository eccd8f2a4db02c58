/*
 * Fuzz target: any bytes as a hosts file, and the same bytes as an
 * address and as a CIDR. Nothing may crash; every name a table holds
 * must be found again, case-insensitively, by lookup and by the local
 * resolver, with the same addresses; an address or CIDR that parses must
 * survive format -> parse unchanged.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "openshell.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_names(const struct os_hosts *h)
{
	struct os_resolver	 r = { .hosts = h, .mode = OS_DNS_HOSTS_ONLY };
	const struct os_ip	*a;
	struct os_ip		 got[128];
	struct os_error		 err;
	const char		*name;
	char			*upper;
	struct os_ip		 lit;
	size_t			 i, j, na, n;

	for (i = 0; (name = os_hosts_entry(h, i, &a, &na)) != NULL; i++) {
		if (na == 0 || na > OS_NELEM(got)) {
			fprintf(stderr, "'%s' has %zu addresses\n", name, na);
			abort();
		}
		n = os_hosts_lookup(h, name, got, OS_NELEM(got));
		if (n != na || memcmp(got, a, n * sizeof *a) != 0) {
			fprintf(stderr, "lookup of '%s' differs\n", name);
			abort();
		}
		upper = xstrdup(name);
		for (j = 0; upper[j] != '\0'; j++)
			upper[j] = (char)toupper((unsigned char)upper[j]);
		if (os_hosts_lookup(h, upper, got, OS_NELEM(got)) != na) {
			fprintf(stderr, "lookup of '%s' is case-sensitive\n", name);
			abort();
		}
		free(upper);
		/* A name that is itself an address ("5.0.0.0." once its dot
		 * is gone) resolves as the literal: literals come first, and
		 * the parser warns about such names. */
		if (os_ip_parse(name, &lit) == 0)
			continue;
		if (os_resolve_local(&r, name, got, OS_NELEM(got), &n, &err) !=
		    OS_RESOLVE_DONE || n != na ||
		    memcmp(got, a, n * sizeof *a) != 0) {
			fprintf(stderr, "resolving '%s' differs\n", name);
			abort();
		}
	}
}

static void
check_addresses(const char *s)
{
	struct os_ip	ip, ip2;
	struct os_cidr	c, c2;
	char		buf[64], cbuf[80];

	if (os_ip_parse(s, &ip) == 0) {
		os_ip_format(&ip, buf, sizeof buf);
		if (os_ip_parse(buf, &ip2) != 0 ||
		    memcmp(&ip, &ip2, sizeof ip) != 0) {
			fprintf(stderr, "'%s' -> '%s' does not round-trip\n", s, buf);
			abort();
		}
		(void)os_ipclass_name(os_ip_classify(&ip));
	}
	if (os_cidr_parse(s, &c) == 0) {
		if (!os_cidr_contains(&c, &c.ip) || !os_cidr_overlaps(&c, &c)) {
			fprintf(stderr, "'%s' does not contain itself\n", s);
			abort();
		}
		os_ip_format(&c.ip, buf, sizeof buf);
		snprintf(cbuf, sizeof cbuf, "%s/%u", buf, c.prefix);
		if (os_cidr_parse(cbuf, &c2) != 0 || c2.prefix != c.prefix ||
		    memcmp(&c.ip, &c2.ip, sizeof c.ip) != 0) {
			fprintf(stderr, "'%s' -> '%s' does not round-trip\n", s, cbuf);
			abort();
		}
	}
	(void)os_host_is_metadata_name(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct os_diags	 d = OS_DIAGS_INIT;
	struct os_hosts	*h = NULL, *copy = NULL;
	const struct os_ip *a;
	const char	*name;
	char		*s;
	size_t		 i, j, na;

	if (os_hosts_parse((const char *)data, size, "fuzz.hosts", &h, &d) == 0) {
		if (h == NULL || d.nerrors != 0)
			abort();
		check_names(h);
		/* The table rebuilt from its entries is the same table. */
		for (i = 0; (name = os_hosts_entry(h, i, &a, &na)) != NULL; i++) {
			for (j = 0; j < na; j++)
				os_hosts_add(&copy, name, &a[j]);
		}
		if (os_hosts_count(copy) != os_hosts_count(h))
			abort();
		check_names(copy);
		os_hosts_free(copy);
		os_hosts_free(h);
	} else if (h != NULL || d.nerrors == 0)
		abort();
	s = os_diags_format(&d);
	free(s);
	os_diags_free(&d);

	/* The same bytes as one address or CIDR (up to the first NUL). */
	s = xstrndup((const char *)data, size);
	check_addresses(s);
	free(s);
	return 0;
}
