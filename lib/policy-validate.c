/* Semantic validation of a policy model. */
#include "config.h"

#include "openshell.h"
