/*
 * Validation: every rule has its own bad file in policies/invalid/ and the
 * exact diagnostics a user sees for it (file:line:col, field, value); a
 * file full of mistakes gets every one reported; models from the wire
 * (no source map) are checked the same way.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openshell.h"
#include "tap.h"
#include "srcfile.h"

/* Loads tests/unit/policies/<dir>/<name>.yaml, labelled "<name>.yaml". */
static int
load_case(const char *dir, const char *name, char **diags_out)
{
	struct os_diags		 d = OS_DIAGS_INIT;
	struct os_policy	*p = NULL;
	char			*rel, *label, *text;
	size_t			 len;
	int			 rc;

	rel = xprintf("tests/unit/policies/%s/%s.yaml", dir, name);
	label = xprintf("%s.yaml", name);
	if ((text = read_src(rel, &len)) == NULL) {
		*diags_out = xstrdup("(missing file)");
		free(rel);
		free(label);
		return -ENOENT;
	}
	rc = os_policy_load_yaml(text, len, label, &p, NULL, &d);
	*diags_out = os_diags_format(&d);
	if ((rc == 0) != (p != NULL) || (rc == 0) != (d.nerrors == 0))
		rc = -EPROTO;
	os_policy_free(p);
	os_diags_free(&d);
	free(text);
	free(rel);
	free(label);
	return rc;
}

struct invalid_case {
	const char	*name;
	const char	*expected;
};

static const struct invalid_case invalid_cases[] = {
	{ "allowed-ips-host-bits",
	    "allowed-ips-host-bits.yaml:7:23: error: network_policies.api.endpoints[0].allowed_ips[0]: '10.1.2.3/8': host bits set; did you mean 10.0.0.0/8?\n" },
	{ "allowed-ips-link-local",
	    "allowed-ips-link-local.yaml:7:23: error: network_policies.api.endpoints[0].allowed_ips[0]: '169.254.169.254' overlaps link-local (169.254.0.0/16), which is never dialled\n" },
	{ "allowed-ips-loopback",
	    "allowed-ips-loopback.yaml:7:23: error: network_policies.api.endpoints[0].allowed_ips[0]: '::1' overlaps loopback (::1/128), which is never dialled\n" },
	{ "allowed-ips-malformed",
	    "allowed-ips-malformed.yaml:7:23: error: network_policies.api.endpoints[0].allowed_ips[0]: invalid address or CIDR '10.0.0.0/33'\n" },
	{ "allowed-ips-unspecified",
	    "allowed-ips-unspecified.yaml:7:23: error: network_policies.api.endpoints[0].allowed_ips[0]: '0.0.0.0' overlaps the unspecified address (0.0.0.0/32), which is never dialled\n" },
	{ "binaries-missing",
	    "binaries-missing.yaml:3:3: error: network_policies.api.binaries: no binaries: at least one is required (use path \"/**\" to allow any binary)\n" },
	{ "binary-relative",
	    "binary-relative.yaml:7:17: error: network_policies.api.binaries[0].path: binary path must be absolute (or a glob starting with '/'): 'curl'\n" },
	{ "duplicate-key",
	    "duplicate-key.yaml:4:3: error: landlock.compatibility: duplicate key 'compatibility' (first at line 3)\n" },
	{ "empty-document",
	    "empty-document.yaml: error: the document is empty (expected a policy: version, filesystem_policy, landlock, process, network_policies)\n" },
	{ "endpoints-missing",
	    "endpoints-missing.yaml:3:3: error: network_policies.api.endpoints: no endpoints: a network policy needs at least one\n" },
	{ "enum-unknown",
	    "enum-unknown.yaml:7:19: error: network_policies.api.endpoints[0].protocol: unknown value 'grpc' (allowed: rest)\n" },
	{ "fs-dotdot",
	    "fs-dotdot.yaml:4:7: error: filesystem_policy.read_only[0]: path must not contain a '..' component: '/usr/../etc'\n" },
	{ "fs-relative",
	    "fs-relative.yaml:4:26: error: filesystem_policy.read_write[1]: path must be absolute: 'tmp'\n" },
	{ "fs-rw-root",
	    "fs-rw-root.yaml:3:22: error: filesystem_policy.read_write[1]: read-write path '/' is overly broad (it would make the whole filesystem writable)\n" },
	{ "host-bare-wildcard",
	    "host-bare-wildcard.yaml:5:15: error: network_policies.api.endpoints[0].host: invalid host wildcard '*': only a leading '*.' one-label wildcard is supported, like '*.example.com'\n" },
	{ "host-double-wildcard",
	    "host-double-wildcard.yaml:5:15: error: network_policies.api.endpoints[0].host: invalid host wildcard '**.example.com': only a leading '*.' one-label wildcard is supported, like '*.example.com'\n" },
	{ "host-empty",
	    "host-empty.yaml:5:15: error: network_policies.api.endpoints[0].host: an empty host needs allowed_ips (it then means any host, limited to those addresses)\n" },
	{ "host-invalid",
	    "host-invalid.yaml:5:15: error: network_policies.api.endpoints[0].host: invalid host 'api..example.com': empty label\n" },
	{ "host-middle-wildcard",
	    "host-middle-wildcard.yaml:5:15: error: network_policies.api.endpoints[0].host: invalid host wildcard 'a.*.example.com': only a leading '*.' one-label wildcard is supported, like '*.example.com'\n" },
	{ "host-partial-wildcard",
	    "host-partial-wildcard.yaml:5:15: error: network_policies.api.endpoints[0].host: invalid host wildcard '*foo.example.com': only a leading '*.' one-label wildcard is supported, like '*.example.com'\n" },
	{ "host-tld-wildcard",
	    "host-tld-wildcard.yaml:5:15: error: network_policies.api.endpoints[0].host: TLD wildcard '*.com' is not allowed; use a wildcard below a domain, like '*.example.com'\n" },
	{ "host-with-port",
	    "host-with-port.yaml:5:15: error: network_policies.api.endpoints[0].host: invalid host 'api.example.com:443': invalid character ':' (put the port in 'port')\n" },
	{ "key-invalid",
	    "key-invalid.yaml:3:3: error: network_policies.github api: invalid network policy key 'github api' (use letters, digits, '_', '.' and '-')\n" },
	{ "l7-access-and-rules",
	    "l7-access-and-rules.yaml:9:17: error: network_policies.api.endpoints[0].access: 'access' and 'rules' cannot be used together; use one or the other\n" },
	{ "l7-access-without-rest",
	    "l7-access-without-rest.yaml:7:17: error: network_policies.api.endpoints[0].access: access needs 'protocol: rest' (L7 inspection)\n" },
	{ "l7-bad-glob",
	    "l7-bad-glob.yaml:10:41: error: network_policies.api.endpoints[0].rules[0].allow.path: malformed glob '/repos/[abc': unterminated character class '['\n" },
	{ "l7-bad-method",
	    "l7-bad-method.yaml:10:30: error: network_policies.api.endpoints[0].rules[0].allow.method: invalid method 'FETCH' (expected GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or '*')\n" },
	{ "l7-bad-path",
	    "l7-bad-path.yaml:12:21: error: network_policies.api.endpoints[0].rules[0].allow.path: path must start with '/' or be '**': 'repos/**'\n" },
	{ "l7-deny-without-allow",
	    "l7-deny-without-allow.yaml:7:19: error: network_policies.api.endpoints[0].protocol: 'protocol: rest' needs rules or access to say which requests are allowed\n"
	    "l7-deny-without-allow.yaml:10:11: error: network_policies.api.endpoints[0].deny_rules: deny_rules need rules or access to define what is allowed\n" },
	{ "l7-deny-without-rest",
	    "l7-deny-without-rest.yaml:8:11: error: network_policies.api.endpoints[0].deny_rules: deny_rules need 'protocol: rest' (L7 inspection)\n"
	    "l7-deny-without-rest.yaml:8:11: error: network_policies.api.endpoints[0].deny_rules: deny_rules need rules or access to define what is allowed\n" },
	{ "l7-empty-rules",
	    "l7-empty-rules.yaml:9:16: error: network_policies.api.endpoints[0].rules: the rules list is empty, which would deny every request; use 'access: full' or add rules\n" },
	{ "l7-rest-without-rules",
	    "l7-rest-without-rules.yaml:7:19: error: network_policies.api.endpoints[0].protocol: 'protocol: rest' needs rules or access to say which requests are allowed\n" },
	{ "l7-rules-without-rest",
	    "l7-rules-without-rest.yaml:8:11: error: network_policies.api.endpoints[0].rules: rules need 'protocol: rest' (L7 inspection)\n" },
	{ "l7-tls-skip",
	    "l7-tls-skip.yaml:8:14: error: network_policies.api.endpoints[0].tls: 'tls: skip' cannot be used with 'protocol: rest': requests cannot be inspected unless TLS is terminated\n" },
	{ "many-mistakes",
	    "many-mistakes.yaml:4:20: error: filesystem_policy.include_workdir: expected true or false, got 'yes'\n"
	    "many-mistakes.yaml:5:21: error: filesystem_policy.read_only[1]: path must be absolute: 'lib'\n"
	    "many-mistakes.yaml:6:26: error: filesystem_policy.read_write[1]: read-write path '/' is overly broad (it would make the whole filesystem writable)\n"
	    "many-mistakes.yaml:8:18: error: landlock.compatibility: unknown value 'strict' (allowed: best_effort, hard_requirement)\n"
	    "many-mistakes.yaml:10:16: error: process.run_as_user: refusing 'root': the agent never runs as root\n"
	    "many-mistakes.yaml:15:9: note: network_policies.github_api.endpoints[0].enforcement: enforcement not set; defaulting to 'enforce' (secure by default). Set 'enforcement: audit' to log without blocking.\n"
	    "many-mistakes.yaml:15:15: error: network_policies.github_api.endpoints[0].host: TLD wildcard '*.com' is not allowed; use a wildcard below a domain, like '*.example.com'\n"
	    "many-mistakes.yaml:16:15: error: network_policies.github_api.endpoints[0].port: invalid port 70000 (expected 1-65535)\n"
	    "many-mistakes.yaml:18:14: error: network_policies.github_api.endpoints[0].tls: 'tls: skip' cannot be used with 'protocol: rest': requests cannot be inspected unless TLS is terminated\n"
	    "many-mistakes.yaml:25:30: error: network_policies.github_api.endpoints[1].rules[0].allow.method: invalid method 'FETCH' (expected GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or '*')\n"
	    "many-mistakes.yaml:25:43: error: network_policies.github_api.endpoints[1].rules[0].allow.path: path must start with '/' or be '**': 'repos/**'\n"
	    "many-mistakes.yaml:27:37: error: network_policies.github_api.endpoints[1].deny_rules[0].path: malformed glob '/[x': unterminated character class '['\n"
	    "many-mistakes.yaml:28:23: error: network_policies.github_api.endpoints[1].allowed_ips[0]: '10.0.0.1/8': host bits set; did you mean 10.0.0.0/8?\n"
	    "many-mistakes.yaml:29:9: error: network_policies.github_api.endpoints[1].color: unknown key 'color' (allowed: host, port, ports, protocol, tls, enforcement, access, rules, deny_rules, allowed_ips, advisor_proposed)\n"
	    "many-mistakes.yaml:31:17: error: network_policies.github_api.binaries[0].path: binary path must be absolute (or a glob starting with '/'): 'curl'\n"
	    "many-mistakes.yaml:32:3: error: network_policies.bad key!: invalid network policy key 'bad key!' (use letters, digits, '_', '.' and '-')\n"
	    "many-mistakes.yaml:32:3: error: network_policies.bad key!.binaries: no binaries: at least one is required (use path \"/**\" to allow any binary)\n"
	    "many-mistakes.yaml:34:17: error: network_policies.bad key!.endpoints[0].host: an empty host needs allowed_ips (it then means any host, limited to those addresses)\n" },
	{ "not-a-mapping",
	    "not-a-mapping.yaml:1:1: error: the document must be a mapping (expected a policy: version, filesystem_policy, landlock, process, network_policies), not a list\n" },
	{ "port-and-ports",
	    "port-and-ports.yaml:7:16: error: network_policies.api.endpoints[0].ports: 'port' and 'ports' cannot both be set; use 'ports' for several ports\n" },
	{ "port-list-range",
	    "port-list-range.yaml:6:22: error: network_policies.api.endpoints[0].ports[1]: invalid port 0 (expected 1-65535)\n" },
	{ "port-missing",
	    "port-missing.yaml:5:9: error: network_policies.api.endpoints[0].port: no port: set 'port' or 'ports'\n" },
	{ "port-range",
	    "port-range.yaml:6:15: error: network_policies.api.endpoints[0].port: invalid port 70000 (expected 1-65535)\n" },
	{ "process-root-group",
	    "process-root-group.yaml:4:17: error: process.run_as_group: refusing '0': the agent never runs as root\n" },
	{ "process-root-user",
	    "process-root-user.yaml:3:16: error: process.run_as_user: refusing 'root': the agent never runs as root\n" },
	{ "type-bool",
	    "type-bool.yaml:3:20: error: filesystem_policy.include_workdir: expected true or false, got 'yes'\n" },
	{ "type-list",
	    "type-list.yaml:3:14: error: filesystem_policy.read_only: expected a list, got '/usr'\n" },
	{ "type-mapping",
	    "type-mapping.yaml:2:10: error: process: expected a mapping, got 'sandbox'\n" },
	{ "type-port",
	    "type-port.yaml:6:15: error: network_policies.api.endpoints[0].port: expected an integer, got 'https'\n" },
	{ "unknown-endpoint-key",
	    "unknown-endpoint-key.yaml:7:9: error: network_policies.api.endpoints[0].method: unknown key 'method' (allowed: host, port, ports, protocol, tls, enforcement, access, rules, deny_rules, allowed_ips, advisor_proposed)\n" },
	{ "unknown-key",
	    "unknown-key.yaml:2:1: error: filesystem: unknown key 'filesystem' (allowed: version, filesystem_policy, landlock, process, network_policies)\n" },
	{ "version-missing",
	    "version-missing.yaml:1:1: error: version: required key 'version' is missing (add 'version: 1')\n" },
	{ "version-wrong",
	    "version-wrong.yaml:1:10: error: version: unsupported version 2 (expected 1)\n" },
	{ "yaml-syntax",
	    "yaml-syntax.yaml:6:5: error: did not find expected ',' or ']' (while parsing a flow sequence at line 4, column 16)\n" },
};

/* One TAP line per file, named after it. */
static void
run_invalid_case(const struct invalid_case *c)
{
	char	*got;
	int	 rc;

	rc = load_case("invalid", c->name, &got);
	CHECK_INT(rc, -EINVAL);
	CHECK_STR(got, c->expected);
	free(got);
}

static void
t_invalid_files(void)
{
	size_t	i;

	for (i = 0; i < OS_NELEM(invalid_cases); i++) {
		tap_case = invalid_cases[i].name;
		tap_case_failed = 0;
		run_invalid_case(&invalid_cases[i]);
		if (!tap_case_failed)
			printf("ok %d - invalid/%s\n", ++tap_n, tap_case);
		else
			tap_failed_total++;
	}
	tap_case = "t_invalid_files";
	tap_case_failed = 0;
}

/* The many-mistakes file: each mistake on its own line, all reported. */
static void
t_many_mistakes_all_lines(void)
{
	static const unsigned lines[] = {
		4, 5, 6, 8, 10, 15, 16, 18, 25, 27, 28, 29, 31, 32, 34,
	};
	char	*got, *needle;
	size_t	 i;

	CHECK_INT(load_case("invalid", "many-mistakes", &got), -EINVAL);
	for (i = 0; i < OS_NELEM(lines); i++) {
		needle = xprintf("many-mistakes.yaml:%u:", lines[i]);
		CHECK_CONTAINS(got, needle);
		free(needle);
	}
	free(got);
}

static void
t_warnings_do_not_fail(void)
{
	char	*got;

	CHECK_INT(load_case("warning", "fs-duplicates", &got), 0);
	CHECK_STR(got,
	    "fs-duplicates.yaml:3:27: warning: filesystem_policy.read_only[2]: "
	    "duplicate path '/usr/' (already read_only[0])\n"
	    "fs-duplicates.yaml:3:34: warning: filesystem_policy.read_only[3]: "
	    "path '/tmp' is also read_write[0], which wins\n"
	    "fs-duplicates.yaml:4:32: warning: filesystem_policy.read_write[2]: "
	    "duplicate path '/sandbox' (already read_write[1])\n");
	free(got);
}

/* A model as it might come from the wire: no file, no positions. */
static struct os_rule *
add_rule(struct os_policy *p, const char *key)
{
	struct os_rule	r;

	memset(&r, 0, sizeof r);
	r.key = xstrdup(key);
	os_policy_put_rule(p, &r);
	return os_policy_find_rule(p, key);
}

static struct os_endpoint *
add_endpoint(struct os_rule *r, const char *host, uint16_t port)
{
	struct os_endpoint	*e;

	r->endpoints = xreallocarray(r->endpoints, r->nendpoints + 1,
	    sizeof *r->endpoints);
	e = &r->endpoints[r->nendpoints++];
	memset(e, 0, sizeof *e);
	e->host = xstrdup(host);
	e->ports = xmalloc(sizeof *e->ports);
	e->ports[0] = port;
	e->nports = 1;
	return e;
}

static void
add_binary(struct os_rule *r, const char *path)
{
	r->binaries = xreallocarray(r->binaries, r->nbinaries + 1,
	    sizeof *r->binaries);
	r->binaries[r->nbinaries].path = xstrdup(path);
	r->binaries[r->nbinaries].advisor_proposed = false;
	r->nbinaries++;
}

static char *
validate_text(const struct os_policy *p, size_t *nerrors)
{
	struct os_diags	 d = OS_DIAGS_INIT;
	char		*s;

	*nerrors = os_policy_validate(p, NULL, NULL, &d);
	s = os_diags_format(&d);
	os_diags_free(&d);
	return s;
}

static void
t_wire_model(void)
{
	struct os_policy	*p;
	struct os_rule		*r;
	struct os_endpoint	*e;
	size_t			 n;
	char			*got;

	p = os_policy_new();
	p->version = 3;
	r = add_rule(p, "gh");
	e = add_endpoint(r, "api.github.com", 0);
	e->protocol = OS_PROTOCOL_REST;
	e->enforcement = OS_ENFORCE_ENFORCE;
	e->access = OS_ACCESS_READ_ONLY;
	e->tls = OS_TLS_SKIP;
	add_binary(r, "/usr/bin/curl");
	r = add_rule(p, "");
	add_endpoint(r, "example.com", 443);
	got = validate_text(p, &n);
	CHECK_INT(n, 5);
	CHECK_STR(got,
	    "error: version: unsupported version 3 (expected 1)\n"
	    "error: network_policies.: network policy key must not be empty\n"
	    "error: network_policies..binaries: no binaries: at least one is "
	    "required (use path \"/**\" to allow any binary)\n"
	    "error: network_policies.gh.endpoints[0].port: invalid port 0 "
	    "(expected 1-65535)\n"
	    "error: network_policies.gh.endpoints[0].tls: 'tls: skip' cannot be "
	    "used with 'protocol: rest': requests cannot be inspected unless TLS "
	    "is terminated\n");
	free(got);
	os_policy_free(p);
}

static void
t_wire_model_valid(void)
{
	struct os_policy	*p;
	size_t			 n;
	char			*got;

	p = os_policy_default();
	got = validate_text(p, &n);
	CHECK_INT(n, 0);
	CHECK_STR(got, "");
	free(got);
	os_policy_free(p);
}

static void
t_hosts(void)
{
	static const char *const good[] = {
		"api.github.com", "*.example.com", "*.a.b.example.org",
		"localhost", "10.0.0.1", "2001:db8::1", "my_service.internal",
		"xn--bcher-kva.example",
	};
	static const struct {
		const char	*host;
		const char	*message;
	} bad[] = {
		{ "*.com", "TLD wildcard '*.com' is not allowed; use a wildcard "
		    "below a domain, like '*.example.com'" },
		{ "*", "invalid host wildcard '*': only a leading '*.' one-label "
		    "wildcard is supported, like '*.example.com'" },
		{ "**.example.com", "invalid host wildcard '**.example.com': only "
		    "a leading '*.' one-label wildcard is supported, like "
		    "'*.example.com'" },
		{ "api.*", "invalid host wildcard 'api.*': only a leading '*.' "
		    "one-label wildcard is supported, like '*.example.com'" },
		{ "a b.com", "invalid host 'a b.com': invalid character ' '" },
		{ "example.com.", "invalid host 'example.com.': a trailing '.' "
		    "is not allowed" },
		{ "-a.example.com", "invalid host '-a.example.com': a label "
		    "starts or ends with '-'" },
		{ "10.0.0.256", "invalid host '10.0.0.256': the last label is "
		    "numeric, but it is not an IP address" },
		{ "[::1]", "invalid host '[::1]': write IPv6 addresses without "
		    "brackets" },
	};
	struct os_policy	*p;
	struct os_rule		*r;
	size_t			 i, n;
	char			*got, *want;

	for (i = 0; i < OS_NELEM(good); i++) {
		p = os_policy_new();
		r = add_rule(p, "k");
		add_endpoint(r, good[i], 443);
		add_binary(r, "/**");
		got = validate_text(p, &n);
		CHECK_STR(got, "");
		free(got);
		os_policy_free(p);
	}
	for (i = 0; i < OS_NELEM(bad); i++) {
		p = os_policy_new();
		r = add_rule(p, "k");
		add_endpoint(r, bad[i].host, 443);
		add_binary(r, "/**");
		got = validate_text(p, &n);
		want = xprintf("error: network_policies.k.endpoints[0].host: "
		    "%s\n", bad[i].message);
		CHECK_INT(n, 1);
		CHECK_STR(got, want);
		free(want);
		free(got);
		os_policy_free(p);
	}
}

int
main(void)
{
	TAP_RUN(t_invalid_files);
	TAP_RUN(t_many_mistakes_all_lines);
	TAP_RUN(t_warnings_do_not_fail);
	TAP_RUN(t_wire_model);
	TAP_RUN(t_wire_model_valid);
	TAP_RUN(t_hosts);
	return tap_done();
}
