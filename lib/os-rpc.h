/*
 * libosrpc: conversion between the policy model and its protobuf-c
 * messages, and the gRPC plumbing the gateway, supervisor and CLI share.
 */
#ifndef OS_RPC_H
#define OS_RPC_H

#include "openshell.h"
#include "sandbox.pb-c.h"
#include "openshell.pb-c.h"

typedef Openshell__Sandbox__V1__SandboxPolicy		OsPbPolicy;
typedef Openshell__Sandbox__V1__NetworkPolicyRule	OsPbRule;

/*
 * Policy <-> protobuf (policy-proto.c). from_proto reports unknown enum
 * strings and bad values as diagnostics (fields named as in YAML) and
 * returns -EINVAL; the result is normalised but not validated.
 * to_proto allocates a tree the caller frees with os_pb_policy_free.
 */
int	 os_policy_from_proto(const OsPbPolicy *, struct os_policy **out,
	     struct os_diags *);
OsPbPolicy *os_policy_to_proto(const struct os_policy *);
void	 os_pb_policy_free(OsPbPolicy *);
int	 os_rule_from_proto(const OsPbRule *, const char *key,
	     struct os_rule *out, struct os_diags *);
OsPbRule *os_rule_to_proto(const struct os_rule *);
void	 os_pb_rule_free(OsPbRule *);

#endif /* OS_RPC_H */
