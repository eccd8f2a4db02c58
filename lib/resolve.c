/* Name resolution: hosts-file overrides, then DNS with a hard timeout. */
#include "config.h"

#include "openshell.h"
