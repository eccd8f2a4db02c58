/* openshell policy: validate, fmt (and, with a gateway, set/get/list). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cli_policy(int argc, char **argv)
{
	fprintf(stderr, _("usage: openshell policy validate|fmt FILE\n"));
	return CLI_EXIT_USAGE;
}
