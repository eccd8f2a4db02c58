/* Conversion between the policy model and its protobuf-c messages. */
#include "config.h"

#include "os-rpc.h"
