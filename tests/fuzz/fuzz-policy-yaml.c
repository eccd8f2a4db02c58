/*
 * Fuzz target: any bytes as a policy file. Loading must never crash; a
 * policy that loads must survive emit -> load unchanged, and its
 * canonical text must be a fixed point.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p = NULL, *q = NULL;
	struct os_srcmap	*m = NULL;
	char			*y1, *y2, *s;
	unsigned		 line, col;

	if (os_policy_load_yaml((const char *)data, size, "fuzz.yaml", &p, &m,
	    &d) != 0) {
		/* Formatting every diagnostic must be safe too. */
		s = os_diags_format(&d);
		free(s);
		os_diags_free(&d);
		return 0;
	}
	(void)os_srcmap_lookup(m, "network_policies.a.endpoints[0].port",
	    &line, &col);
	os_diags_free(&d);
	y1 = os_policy_to_yaml(p);
	if (os_policy_load_yaml(y1, strlen(y1), "emitted.yaml", &q, NULL,
	    &d) != 0) {
		s = os_diags_format(&d);
		fprintf(stderr, "canonical YAML does not load:\n%s---\n%s", y1, s);
		abort();
	}
	if (!os_policy_equal(p, q)) {
		fprintf(stderr, "round trip changed the policy:\n%s", y1);
		abort();
	}
	y2 = os_policy_to_yaml(q);
	if (strcmp(y1, y2) != 0) {
		fprintf(stderr, "canonical YAML is not stable:\n%s---\n%s", y1, y2);
		abort();
	}
	free(y1);
	free(y2);
	os_diags_free(&d);
	os_policy_free(p);
	os_policy_free(q);
	os_srcmap_free(m);
	return 0;
}
