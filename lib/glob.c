/* Glob matching for paths, binaries and hosts. */
#include "config.h"

#include "openshell.h"
