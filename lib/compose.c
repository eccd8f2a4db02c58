/* Composing an effective policy from a base and approved chunks; covers(). */
#include "config.h"

#include "openshell.h"
