/* The compiled L4 and L7 matcher. */
#include "config.h"

#include "openshell.h"
