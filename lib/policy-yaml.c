/* Loading a policy from YAML (libyaml) with a source map for diagnostics. */
#include "config.h"

#include "openshell.h"
