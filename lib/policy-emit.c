/* Canonical YAML emission and the canonical policy hash. */
#include "config.h"

#include "openshell.h"
