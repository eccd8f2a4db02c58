/* TLS for the L7 relay (sandbox/tls*.c). */
#ifndef SANDBOX_TLS_H
#define SANDBOX_TLS_H

#include "openshell.h"

#endif /* SANDBOX_TLS_H */
