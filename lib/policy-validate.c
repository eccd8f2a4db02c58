/*
 * Semantic validation of a policy model, wherever it came from (a YAML
 * file, the wire, a composition). Every problem is reported, each under
 * its field path; a source map, when there is one, turns the path into a
 * line and column.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "openshell.h"

#define PATH_MAX_LEN	4096
#define KEY_MAX_LEN	128
#define NAME_MAX_LEN	256
#define QUERY_KEY_MAX	200

struct vctx {
	const char		*file;
	const struct os_srcmap	*map;
	struct os_diags		*diags;
	size_t			 nerrors;
};


static void OS_PRINTF(4, 5)
vdiag(struct vctx *v, enum os_diag_level level, const char *field,
    const char *fmt, ...)
{
	unsigned	 line = 0, col = 0;
	va_list		 ap;
	char		*msg;

	if (!os_srcmap_lookup(v->map, field, &line, &col))
		line = col = 0;
	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	os_diags_add(v->diags, level, v->file, line, col, field, "%s", msg);
	free(msg);
	if (level == OS_DIAG_ERROR)
		v->nerrors++;
}

#define verror(v, f, ...) vdiag((v), OS_DIAG_ERROR, (f), __VA_ARGS__)
#define vwarning(v, f, ...) vdiag((v), OS_DIAG_WARNING, (f), __VA_ARGS__)

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

static bool
has_dotdot(const char *s)
{
	const char	*c;

	for (c = s; (c = strstr(c, "..")) != NULL; c++) {
		if ((c == s || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------------
 * filesystem_policy, process
 */

static void
check_fs_path(struct vctx *v, const char *field, const char *path, bool rw)
{
	char	*s = os_diag_show(path);

	if (*path != '/')
		verror(v, field, _("path must be absolute: '%s'"), s);
	else if (has_dotdot(path))
		verror(v, field, _("path must not contain a '..' component: "
		    "'%s'"), s);
	else if (rw && strspn(path, "/") == strlen(path))
		verror(v, field, _("read-write path '%s' is overly broad (it "
		    "would make the whole filesystem writable)"), s);
	if (strlen(path) > PATH_MAX_LEN)
		verror(v, field, _("path is too long (%zu bytes, at most %d)"),
		    strlen(path), PATH_MAX_LEN);
	else if (has_control(path))
		verror(v, field, _("path contains control characters: '%s'"), s);
	free(s);
}

/* Equal as paths: trailing slashes do not count. */
static bool
same_path(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

static void
check_filesystem(struct vctx *v, const struct os_fs_policy *fs)
{
	size_t	 i, j;
	char	*field, *s;

	for (i = 0; i < fs->nread_only; i++) {
		field = xprintf("filesystem_policy.read_only[%zu]", i);
		check_fs_path(v, field, fs->read_only[i], false);
		s = os_diag_show(fs->read_only[i]);
		for (j = 0; j < i; j++) {
			if (same_path(fs->read_only[i], fs->read_only[j])) {
				vwarning(v, field, _("duplicate path '%s' "
				    "(already read_only[%zu])"), s, j);
				break;
			}
		}
		for (j = 0; j < fs->nread_write; j++) {
			if (same_path(fs->read_only[i], fs->read_write[j])) {
				vwarning(v, field, _("path '%s' is also "
				    "read_write[%zu], which wins"), s, j);
				break;
			}
		}
		free(s);
		free(field);
	}
	for (i = 0; i < fs->nread_write; i++) {
		field = xprintf("filesystem_policy.read_write[%zu]", i);
		check_fs_path(v, field, fs->read_write[i], true);
		for (j = 0; j < i; j++) {
			if (same_path(fs->read_write[i], fs->read_write[j])) {
				s = os_diag_show(fs->read_write[i]);
				vwarning(v, field, _("duplicate path '%s' "
				    "(already read_write[%zu])"), s, j);
				free(s);
				break;
			}
		}
		free(field);
	}
}

static void
check_identity(struct vctx *v, const char *field, const char *id, bool group)
{
	unsigned long long	 n = 0;
	const char		*c;
	char			*s;

	if (id == NULL)
		return;
	s = os_diag_show(id);
	if (*id == '\0')
		verror(v, field, _("must not be empty (leave it out for the "
		    "default)"));
	else if (strspn(id, "0123456789") == strlen(id)) {
		for (c = id; *c != '\0' && n <= 4294967295ULL; c++)
			n = n * 10 + (unsigned)(*c - '0');
		if (n == 0)
			verror(v, field, _("refusing '%s': the agent never runs "
			    "as root"), s);
		else if (n > 4294967294ULL)
			verror(v, field, _("invalid id %s (expected 1-4294967294)"),
			    s);
	} else if (strcmp(id, "root") == 0)
		verror(v, field, _("refusing '%s': the agent never runs as root"),
		    s);
	else if (strlen(id) > 32 || !((*id >= 'a' && *id <= 'z') ||
	    (*id >= 'A' && *id <= 'Z') || *id == '_') ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") != strlen(id))
		verror(v, field, group ? _("invalid group name '%s' (letters, "
		    "digits, '_', '.', '-', starting with a letter or '_'; at "
		    "most 32 characters), or a numeric id") :
		    _("invalid user name '%s' (letters, digits, '_', '.', '-', "
		    "starting with a letter or '_'; at most 32 characters), or "
		    "a numeric id"), s);
	free(s);
}

/* ------------------------------------------------------------------------
 * Hosts and addresses
 */

/* NULL if `h` is a valid DNS name, else why not. */
static const char *
dns_name_problem(const char *h, char *buf, size_t len)
{
	const char	*label, *c;
	size_t		 n;
	bool		 numeric;

	if (strlen(h) > 253)
		return _("the name is longer than 253 characters");
	if (h[0] == '[')
		return _("write IPv6 addresses without brackets");
	label = h;
	numeric = false;
	for (;;) {
		n = strcspn(label, ".");
		if (n == 0)
			return label[0] == '\0' && label != h ?
			    _("a trailing '.' is not allowed") : _("empty label");
		if (n > 63)
			return _("a label is longer than 63 characters");
		numeric = true;
		for (c = label; c < label + n; c++) {
			if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			    *c == '-' || *c == '_') {
				numeric = false;
				continue;
			}
			if (*c >= '0' && *c <= '9')
				continue;
			if (*c == ':') {
				snprintf(buf, len, "%s", _("invalid character "
				    "':' (put the port in 'port')"));
				return buf;
			}
			if ((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f)
				snprintf(buf, len, _("invalid character '%c'"), *c);
			else
				snprintf(buf, len, _("invalid byte 0x%02x (write "
				    "international names in their xn-- form)"),
				    (unsigned char)*c);
			return buf;
		}
		if (label[0] == '-' || label[n - 1] == '-')
			return _("a label starts or ends with '-'");
		if (label[n] == '\0')
			break;
		label += n + 1;
	}
	if (numeric)
		return _("the last label is numeric, but it is not an IP address");
	return NULL;
}

static size_t
count_labels(const char *h)
{
	size_t	n = 1;

	for (; *h != '\0'; h++)
		n += *h == '.';
	return n;
}

static void
check_host(struct vctx *v, const char *field, const char *host,
    size_t nallowed_ips)
{
	struct os_ip	 ip;
	const char	*why;
	char		 buf[128], *s;

	if (host == NULL || *host == '\0') {
		if (nallowed_ips == 0)
			verror(v, field, _("an empty host needs allowed_ips (it "
			    "then means any host, limited to those addresses)"));
		return;
	}
	s = os_diag_show(host);
	if (strchr(host, '*') != NULL) {
		if (host[0] != '*' || host[1] != '.' ||
		    strchr(host + 2, '*') != NULL)
			verror(v, field, _("invalid host wildcard '%s': only a "
			    "leading '*.' one-label wildcard is supported, like "
			    "'*.example.com'"), s);
		else if ((why = dns_name_problem(host + 2, buf, sizeof buf)) !=
		    NULL)
			verror(v, field, _("invalid host '%s': %s"), s, why);
		else if (count_labels(host + 2) < 2)
			verror(v, field, _("TLD wildcard '%s' is not allowed; use "
			    "a wildcard below a domain, like '*.example.com'"), s);
	} else if (os_ip_parse(host, &ip) == 0) {
		os_ip_unmap(&ip);
		if (os_ipclass_always_blocked(os_ip_classify(&ip)))
			vwarning(v, field, _("host '%s' is a %s address, which "
			    "the proxy never dials"), s,
			    os_ipclass_name(os_ip_classify(&ip)));
	} else if ((why = dns_name_problem(host, buf, sizeof buf)) != NULL)
		verror(v, field, _("invalid host '%s': %s"), s, why);
	free(s);
}

struct blocked_net {
	const char	*cidr;
	const char	*what;
};

static const struct blocked_net blocked_nets[] = {
	{ "127.0.0.0/8", N_("loopback") },
	{ "::1/128", N_("loopback") },
	{ "::ffff:127.0.0.0/104", N_("loopback") },
	{ "169.254.0.0/16", N_("link-local") },
	{ "fe80::/10", N_("link-local") },
	{ "::ffff:169.254.0.0/112", N_("link-local") },
	{ "0.0.0.0/32", N_("the unspecified address") },
	{ "::/128", N_("the unspecified address") },
	{ "::ffff:0.0.0.0/128", N_("the unspecified address") },
};

/* "10.0.0.5/8" -> "10.0.0.0/8". */
static void
cidr_network(const char *s, char *out, size_t len)
{
	struct os_ip	 ip;
	const char	*slash;
	char		 addr[64], txt[64];
	unsigned long	 prefix, bits, i;

	out[0] = '\0';
	if ((slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof addr)
		return;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (os_ip_parse(addr, &ip) != 0)
		return;
	prefix = strtoul(slash + 1, NULL, 10);
	bits = ip.family == AF_INET ? 32 : 128;
	for (i = prefix; i < bits; i++)
		ip.addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	os_ip_format(&ip, txt, sizeof txt);
	snprintf(out, len, "%s/%lu", txt, prefix);
}

static void
check_allowed_ip(struct vctx *v, const char *field, const char *s)
{
	struct os_cidr	 c, net;
	size_t		 i;
	char		 fix[96], *q;
	int		 rc;

	q = os_diag_show(s);
	if ((rc = os_cidr_parse(s, &c)) == -EDOM) {
		cidr_network(s, fix, sizeof fix);
		verror(v, field, _("'%s': host bits set; did you mean %s?"), q,
		    fix);
	} else if (rc != 0)
		verror(v, field, _("invalid address or CIDR '%s'"), q);
	else {
		for (i = 0; i < OS_NELEM(blocked_nets); i++) {
			if (os_cidr_parse(blocked_nets[i].cidr, &net) != 0 ||
			    !os_cidr_overlaps(&c, &net))
				continue;
			verror(v, field, _("'%s' overlaps %s (%s), which is "
			    "never dialled"), q, _(blocked_nets[i].what),
			    blocked_nets[i].cidr);
			break;
		}
	}
	free(q);
}

/* ------------------------------------------------------------------------
 * L7 rules
 */

static bool
method_valid(const char *m)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*",
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(methods); i++) {
		if (strcasecmp(m, methods[i]) == 0)
			return true;
	}
	return false;
}

static void
check_glob(struct vctx *v, const char *field, const char *glob)
{
	const char	*why;
	char		*s;

	if ((why = os_glob_check(glob)) == NULL)
		return;
	s = os_diag_show(glob);
	verror(v, field, _("malformed glob '%s': %s"), s, why);
	free(s);
}

/* `pfx` is "...rules[j].allow" or "...deny_rules[j]". */
static void
check_l7_rule(struct vctx *v, const char *pfx, const struct os_l7_rule *r)
{
	const struct os_query_matcher	*q;
	size_t				 i, j;
	char				*field, *s, *k;

	field = xprintf("%s.method", pfx);
	if (r->method == NULL)
		verror(v, field, _("method is required (use '*' for any "
		    "method)"));
	else if (!method_valid(r->method)) {
		s = os_diag_show(r->method);
		verror(v, field, _("invalid method '%s' (expected GET, HEAD, "
		    "POST, PUT, PATCH, DELETE, OPTIONS or '*')"), s);
		free(s);
	}
	free(field);

	field = xprintf("%s.path", pfx);
	if (r->path == NULL)
		verror(v, field, _("path is required (use '**' for any path)"));
	else if (r->path[0] != '/' && strcmp(r->path, "**") != 0) {
		s = os_diag_show(r->path);
		verror(v, field, _("path must start with '/' or be '**': '%s'"),
		    s);
		free(s);
	} else
		check_glob(v, field, r->path);
	free(field);

	for (i = 0; i < r->nquery; i++) {
		q = &r->query[i];
		k = os_diag_show(q->key);
		field = xprintf("%s.query.%s", pfx, k);
		if (q->key == NULL || *q->key == '\0')
			verror(v, field, _("query parameter name must not be "
			    "empty"));
		else if (strlen(q->key) > QUERY_KEY_MAX)
			verror(v, field, _("query parameter name is too long "
			    "(%zu bytes, at most %d)"), strlen(q->key),
			    QUERY_KEY_MAX);
		for (j = 0; j < i; j++) {
			if (q->key != NULL && r->query[j].key != NULL &&
			    strcmp(q->key, r->query[j].key) == 0) {
				verror(v, field, _("duplicate query parameter "
				    "'%s'"), k);
				break;
			}
		}
		if (q->any && q->nglobs == 0)
			verror(v, field, _("'any' needs at least one glob"));
		for (j = 0; j < q->nglobs; j++) {
			if (q->any) {
				char *f2 = xprintf("%s.any[%zu]", field, j);

				check_glob(v, f2, q->globs[j]);
				free(f2);
			} else
				check_glob(v, field, q->globs[j]);
		}
		free(field);
		free(k);
	}
}

/* ------------------------------------------------------------------------
 * Endpoints and network policies
 */

static void
check_endpoint(struct vctx *v, const char *pfx, const struct os_endpoint *e)
{
	bool	 rest = e->protocol == OS_PROTOCOL_REST;
	bool	 allows = e->nrules != 0 || e->access != OS_ACCESS_NONE;
	size_t	 i;
	char	*f, *f2;

#define EFIELD(name) (free(f), f = xprintf("%s." name, pfx))
	f = NULL;
	EFIELD("host");
	check_host(v, f, e->host, e->nallowed_ips);

	EFIELD("port");
	if (e->nports == 0)
		verror(v, f, _("no port: set 'port' or 'ports'"));
	for (i = 0; i < e->nports; i++) {
		if (e->ports[i] != 0)
			continue;
		if (e->nports > 1)
			EFIELD("ports");
		verror(v, f, _("invalid port 0 (expected 1-65535)"));
		break;
	}

	if (e->access != OS_ACCESS_NONE && e->nrules != 0) {
		EFIELD("access");
		verror(v, f, _("'access' and 'rules' cannot be used together; "
		    "use one or the other"));
	}
	if (rest && !allows) {
		EFIELD("protocol");
		verror(v, f, _("'protocol: rest' needs rules or access to say "
		    "which requests are allowed"));
	}
	if (rest && e->tls == OS_TLS_SKIP) {
		EFIELD("tls");
		verror(v, f, _("'tls: skip' cannot be used with 'protocol: "
		    "rest': requests cannot be inspected unless TLS is "
		    "terminated"));
	}
	if (!rest && e->nrules != 0) {
		EFIELD("rules");
		verror(v, f, _("rules need 'protocol: rest' (L7 inspection)"));
	}
	if (!rest && e->access != OS_ACCESS_NONE) {
		EFIELD("access");
		verror(v, f, _("access needs 'protocol: rest' (L7 inspection)"));
	}
	if (e->ndeny_rules != 0) {
		EFIELD("deny_rules");
		if (!rest)
			verror(v, f, _("deny_rules need 'protocol: rest' (L7 "
			    "inspection)"));
		if (!allows)
			verror(v, f, _("deny_rules need rules or access to "
			    "define what is allowed"));
	}
	for (i = 0; i < e->nrules; i++) {
		f2 = xprintf("%s.rules[%zu].allow", pfx, i);
		check_l7_rule(v, f2, &e->rules[i]);
		free(f2);
	}
	for (i = 0; i < e->ndeny_rules; i++) {
		f2 = xprintf("%s.deny_rules[%zu]", pfx, i);
		check_l7_rule(v, f2, &e->deny_rules[i]);
		free(f2);
	}
	for (i = 0; i < e->nallowed_ips; i++) {
		f2 = xprintf("%s.allowed_ips[%zu]", pfx, i);
		check_allowed_ip(v, f2, e->allowed_ips[i]);
		free(f2);
	}
	free(f);
#undef EFIELD
}

static void
check_binary(struct vctx *v, const char *field, const char *path)
{
	char	*s;

	s = os_diag_show(path);
	if (path == NULL || *path == '\0')
		verror(v, field, _("binary path must not be empty (use '/**' "
		    "for any binary)"));
	else if (*path != '/')
		verror(v, field, _("binary path must be absolute (or a glob "
		    "starting with '/'): '%s'"), s);
	else if (has_control(path))
		verror(v, field, _("binary path contains control characters: "
		    "'%s'"), s);
	else if (strlen(path) > PATH_MAX_LEN)
		verror(v, field, _("binary path is too long (%zu bytes, at most "
		    "%d)"), strlen(path), PATH_MAX_LEN);
	else
		check_glob(v, field, path);
	free(s);
}

static void
check_rule(struct vctx *v, const struct os_rule *r)
{
	const char	*key = r->key != NULL ? r->key : "";
	size_t		 i, j;
	char		*k, *pfx, *f;

	k = os_diag_show(key);
	pfx = xprintf("network_policies.%s", k);
	if (*key == '\0')
		verror(v, pfx, _("network policy key must not be empty"));
	else if (strlen(key) > KEY_MAX_LEN)
		verror(v, pfx, _("network policy key is too long (%zu "
		    "characters, at most %d)"), strlen(key), KEY_MAX_LEN);
	else if (strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") != strlen(key))
		verror(v, pfx, _("invalid network policy key '%s' (use letters, "
		    "digits, '_', '.' and '-')"), k);
	if (r->name != NULL) {
		f = xprintf("%s.name", pfx);
		if (has_control(r->name))
			verror(v, f, _("name contains control characters"));
		else if (strlen(r->name) > NAME_MAX_LEN)
			verror(v, f, _("name is too long (%zu bytes, at most %d)"),
			    strlen(r->name), NAME_MAX_LEN);
		free(f);
	}
	if (r->nendpoints == 0) {
		f = xprintf("%s.endpoints", pfx);
		verror(v, f, _("no endpoints: a network policy needs at least "
		    "one"));
		free(f);
	}
	for (i = 0; i < r->nendpoints; i++) {
		f = xprintf("%s.endpoints[%zu]", pfx, i);
		check_endpoint(v, f, &r->endpoints[i]);
		free(f);
	}
	if (r->nbinaries == 0) {
		f = xprintf("%s.binaries", pfx);
		verror(v, f, _("no binaries: at least one is required (use path "
		    "\"/**\" to allow any binary)"));
		free(f);
	}
	for (i = 0; i < r->nbinaries; i++) {
		f = xprintf("%s.binaries[%zu].path", pfx, i);
		check_binary(v, f, r->binaries[i].path);
		for (j = 0; j < i; j++) {
			if (r->binaries[i].path != NULL &&
			    r->binaries[j].path != NULL &&
			    strcmp(r->binaries[i].path, r->binaries[j].path) == 0) {
				char *s = os_diag_show(r->binaries[i].path);

				vwarning(v, f, _("duplicate binary '%s' (already "
				    "binaries[%zu])"), s, j);
				free(s);
				break;
			}
		}
		free(f);
	}
	free(pfx);
	free(k);
}

size_t
os_policy_validate(const struct os_policy *p, const char *file,
    const struct os_srcmap *map, struct os_diags *diags)
{
	struct vctx	v = { file, map, diags, 0 };
	size_t		i;

	if (p->version != 1)
		verror(&v, "version", _("unsupported version %u (expected 1)"),
		    (unsigned)p->version);
	if (p->has_filesystem)
		check_filesystem(&v, &p->filesystem);
	if (p->has_process) {
		check_identity(&v, "process.run_as_user", p->run_as_user, false);
		check_identity(&v, "process.run_as_group", p->run_as_group, true);
	}
	for (i = 0; i < p->nrules; i++)
		check_rule(&v, &p->rules[i]);
	for (i = 1; i < p->nrules; i++) {
		if (p->rules[i].key != NULL && p->rules[i - 1].key != NULL &&
		    strcmp(p->rules[i].key, p->rules[i - 1].key) == 0) {
			char *k = os_diag_show(p->rules[i].key);
			char *f = xprintf("network_policies.%s", k);

			verror(&v, f, _("duplicate network policy key '%s'"), k);
			free(f);
			free(k);
		}
	}
	return v.nerrors;
}
