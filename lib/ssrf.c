/* The SSRF decision: may a resolved address be dialled for an endpoint. */
#include "config.h"

#include "openshell.h"
