/* IP addresses, CIDRs and address classes. */
#include "config.h"

#include "openshell.h"
