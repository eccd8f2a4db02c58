/* Unified line diff of two texts. */
#include "config.h"

#include "openshell.h"
