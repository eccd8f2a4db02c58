/* Placeholder until the TLS sources land. */
#include "config.h"

#include "tls.h"
