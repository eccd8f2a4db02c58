/*
 * libopenshell: the policy model and engine every OpenShell binary links,
 * plus the small utilities they share (allocation, buffers, diagnostics,
 * logging). The policy code does no I/O: it works on memory the caller
 * read, so the sandbox, gateway, CLI, console and fuzzers can all use it.
 *
 * Ownership: every struct owns the memory it points to. A function that
 * returns a pointer says who frees it; "caller frees" means free() for
 * strings and the matching *_free() for structs.
 */
#ifndef OPENSHELL_H
#define OPENSHELL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s) gettext(s)
#else
#define _(s) (s)
#endif
#define N_(s) (s)

#define OS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define OS_NORETURN __attribute__((noreturn))
#define OS_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------
 * Allocation (xmalloc.c). Out of memory is one path: a message and abort().
 */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
char *xprintf(const char *, ...) OS_PRINTF(1, 2);     /* caller frees */
char *xvprintf(const char *, va_list) OS_PRINTF(1, 0); /* caller frees */
void os_strv_free(char **, size_t);                   /* frees each and the array */
char **os_strv_dup(char *const *, size_t);

/* ------------------------------------------------------------------------
 * Growable byte buffer (buf.c). Always NUL-terminated after data[len].
 */
struct os_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
#define OS_BUF_INIT { NULL, 0, 0 }
void	 os_buf_add(struct os_buf *, const void *, size_t);
void	 os_buf_adds(struct os_buf *, const char *);
void	 os_buf_addc(struct os_buf *, char);
void	 os_buf_addf(struct os_buf *, const char *, ...) OS_PRINTF(2, 3);
void	 os_buf_vaddf(struct os_buf *, const char *, va_list) OS_PRINTF(2, 0);
void	 os_buf_reset(struct os_buf *);           /* len = 0, keeps memory */
void	 os_buf_free(struct os_buf *);
char	*os_buf_steal(struct os_buf *);           /* caller frees; buf is reset */
const char *os_buf_str(struct os_buf *);          /* "" when empty */
/* JSON string literal with quotes and escapes. */
void	 os_buf_json_str(struct os_buf *, const char *);
/* key=value for structured log lines: quoted when needed. */
void	 os_buf_kv(struct os_buf *, const char *key, const char *value);

/*
 * Reading key=value lines back (kv.c): the inverse of os_buf_kv. Bare
 * words are skipped; a value stops at a space unless quoted.
 */
struct os_kv_iter {
	const char	*p;     /* set to the line to start */
};
bool	 os_kv_next(struct os_kv_iter *, struct os_buf *key, struct os_buf *value);
/* The unquoted value of `key`; false (and value empty) when absent. */
bool	 os_kv_get(const char *line, const char *key, struct os_buf *value);

/* ------------------------------------------------------------------------
 * Errors (error.c): a code (negative errno or a status) and a message that
 * travels up the error path.
 */
struct os_error {
	int	code;
	char	msg[1024];
};
/* Sets the error and returns code, so `return os_error_set(e, -EINVAL, ...)`. */
int	 os_error_set(struct os_error *, int code, const char *, ...) OS_PRINTF(3, 4);
void	 os_error_clear(struct os_error *);
/* Prefix an existing message: "context: old message". */
void	 os_error_prefix(struct os_error *, const char *, ...) OS_PRINTF(2, 3);

/* ------------------------------------------------------------------------
 * Diagnostics (diag.c): every problem found in a policy or other input,
 * with where it is and what field and value it concerns.
 */
enum os_diag_level {
	OS_DIAG_ERROR,
	OS_DIAG_WARNING,
	OS_DIAG_NOTE,
};

struct os_diag {
	enum os_diag_level level;
	char		*file;     /* may be NULL (policy from the wire) */
	unsigned	 line;     /* 1-based; 0 = unknown */
	unsigned	 col;      /* 1-based; 0 = unknown */
	char		*field;    /* "network_policies.github.endpoints[0].port" */
	char		*message;  /* names the offending value */
};

struct os_diags {
	struct os_diag	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 nerrors;
};
#define OS_DIAGS_INIT { NULL, 0, 0, 0 }

void	 os_diags_add(struct os_diags *, enum os_diag_level, const char *file,
	     unsigned line, unsigned col, const char *field, const char *fmt,
	     ...) OS_PRINTF(7, 8);
void	 os_diags_free(struct os_diags *);
/* "file:line:col: error: field: message"; parts that are unknown are left out. */
char	*os_diag_format(const struct os_diag *);  /* caller frees */
/* All diagnostics, one per line. */
char	*os_diags_format(const struct os_diags *); /* caller frees */
/* A value as messages quote it: control bytes as \xHH, cut after 120
 * characters with "...". NULL gives "". Caller frees. */
char	*os_diag_show(const char *);

/* ------------------------------------------------------------------------
 * Logging (log.c) for daemons and tools: to stderr or a file.
 */
enum os_log_level {
	OS_LOG_ERROR,
	OS_LOG_WARN,
	OS_LOG_INFO,
	OS_LOG_DEBUG,
};
void	 os_log_init(const char *progname, enum os_log_level);
void	 os_log_set_fd(int fd);
void	 os_log(enum os_log_level, const char *, ...) OS_PRINTF(2, 3);
#define log_error(...) os_log(OS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) os_log(OS_LOG_WARN, __VA_ARGS__)
#define log_info(...) os_log(OS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) os_log(OS_LOG_DEBUG, __VA_ARGS__)
const char *os_log_level_name(enum os_log_level);
int	 os_log_level_parse(const char *, enum os_log_level *);  /* 0 or -EINVAL */

/* ------------------------------------------------------------------------
 * Small utilities (util.c)
 */
int64_t	 os_now_ms(void);        /* wall clock, ms since the epoch */
int64_t	 os_mono_ms(void);       /* monotonic */
uint64_t os_mono_ns(void);
/* "30s", "5m", "1h", "2d", or plain seconds. 0 or -EINVAL. */
int	 os_parse_duration(const char *, int64_t *seconds);
/* SHA-256 of bytes as 64 lowercase hex digits and a NUL. */
void	 os_sha256_hex(const void *, size_t, char out[65]);
/* Fills with cryptographically random bytes. 0 or -errno. */
int	 os_random_bytes(void *, size_t);
void	 os_hex_encode(const void *, size_t, char *out); /* out: 2n+1 bytes */
bool	 os_str_has_prefix(const char *, const char *);
bool	 os_str_has_suffix(const char *, const char *);
void	 os_str_lower(char *);
/* OPENSHELL_STATE_DIR, /var/lib/openshell (root) or the XDG state dir. Caller frees. */
char	*os_default_state_dir(void);
/* A valid sandbox name: [a-z0-9][a-z0-9-]{0,62}. */
bool	 os_name_valid(const char *);

/* ------------------------------------------------------------------------
 * Globs (glob.c). `*` matches within one segment (never `delim`), `**`
 * matches across segments, `?` one non-delimiter character, `[...]` and
 * `[!...]` a character class. Paths and binaries use '/'; hosts use '.'.
 */
bool	 os_glob_match(const char *pattern, const char *s, char delim);
bool	 os_glob_has_magic(const char *);
/* Reports a malformed pattern (unterminated class); NULL if fine. */
const char *os_glob_check(const char *pattern);

/* ------------------------------------------------------------------------
 * The policy model (policy.c). Values are normalised on load: hosts are
 * lower-cased, ports sorted and unique, rules sorted by key, and a
 * protocol without an enforcement gets OS_ENFORCE_ENFORCE.
 */
enum os_protocol {
	OS_PROTOCOL_NONE,         /* L4 only */
	OS_PROTOCOL_REST,         /* L7 HTTP/1.1 inspection */
};

enum os_tls {
	OS_TLS_AUTO,              /* terminate when the endpoint is inspected */
	OS_TLS_TERMINATE,
	OS_TLS_SKIP,              /* relay opaquely */
};

enum os_enforcement {
	OS_ENFORCE_UNSET,         /* only before normalisation */
	OS_ENFORCE_ENFORCE,
	OS_ENFORCE_AUDIT,         /* log would-deny, forward anyway */
};

enum os_access {
	OS_ACCESS_NONE,
	OS_ACCESS_READ_ONLY,      /* GET HEAD OPTIONS */
	OS_ACCESS_READ_WRITE,     /* + POST PUT PATCH */
	OS_ACCESS_FULL,           /* any method */
};

enum os_landlock_compat {
	OS_LANDLOCK_BEST_EFFORT,
	OS_LANDLOCK_HARD_REQUIREMENT,
};

/* A query parameter matcher: every value of `key` must match one glob. */
struct os_query_matcher {
	char	 *key;
	char	**globs;
	size_t	  nglobs;
	bool	  any;            /* written as {any: [...]} rather than one glob */
};

struct os_l7_rule {
	char			*method;  /* upper-case, or "*" */
	char			*path;    /* glob, '/' delimited */
	struct os_query_matcher	*query;
	size_t			 nquery;
};

struct os_endpoint {
	char			*host;     /* lower-case; "" = any host (needs allowed_ips) */
	uint16_t		*ports;    /* sorted, unique, at least one when valid */
	size_t			 nports;
	enum os_protocol	 protocol;
	enum os_tls		 tls;
	enum os_enforcement	 enforcement;
	enum os_access		 access;
	struct os_l7_rule	*rules;
	size_t			 nrules;
	struct os_l7_rule	*deny_rules;
	size_t			 ndeny_rules;
	char		       **allowed_ips;  /* CIDR or bare address, as written */
	size_t			 nallowed_ips;
	bool			 advisor_proposed;
};

struct os_binary {
	char	*path;            /* absolute path or glob */
	bool	 advisor_proposed;
};

struct os_rule {
	char			*key;      /* the network_policies map key */
	char			*name;     /* display name; NULL = key */
	struct os_endpoint	*endpoints;
	size_t			 nendpoints;
	struct os_binary	*binaries;
	size_t			 nbinaries;
};

struct os_fs_policy {
	bool	  include_workdir;
	char	**read_only;
	size_t	  nread_only;
	char	**read_write;
	size_t	  nread_write;
};

struct os_policy {
	uint32_t		 version;
	bool			 has_filesystem;
	struct os_fs_policy	 filesystem;
	bool			 has_landlock;
	enum os_landlock_compat	 landlock;
	bool			 has_process;
	char			*run_as_user;    /* NULL = default */
	char			*run_as_group;   /* NULL = default */
	struct os_rule		*rules;          /* sorted by key, keys unique */
	size_t			 nrules;
};

struct os_policy *os_policy_new(void);                 /* empty, version 1 */
void	 os_policy_free(struct os_policy *);
struct os_policy *os_policy_dup(const struct os_policy *);
bool	 os_policy_equal(const struct os_policy *, const struct os_policy *);
/* The restrictive default: static sections filled, no network policies. */
struct os_policy *os_policy_default(void);
/* Display name of a rule: name, or key when there is none. */
const char *os_rule_display_name(const struct os_rule *);
void	 os_rule_clear(struct os_rule *);        /* frees what it points to */
void	 os_rule_copy(struct os_rule *dst, const struct os_rule *src);
void	 os_endpoint_clear(struct os_endpoint *);
void	 os_endpoint_copy(struct os_endpoint *dst, const struct os_endpoint *src);
void	 os_l7_rule_clear(struct os_l7_rule *);
void	 os_l7_rule_copy(struct os_l7_rule *dst, const struct os_l7_rule *src);
/* Finds a rule by key (binary search). */
struct os_rule *os_policy_find_rule(const struct os_policy *, const char *key);
/* Keeps rules sorted; takes over the contents of *rule (zeroed after). */
void	 os_policy_put_rule(struct os_policy *, struct os_rule *rule);
/* Sort and dedupe ports, lower-case hosts, default enforcement. */
void	 os_policy_normalize(struct os_policy *);
bool	 os_endpoint_has_port(const struct os_endpoint *, uint16_t);
bool	 os_endpoint_is_wildcard(const struct os_endpoint *);
const char *os_protocol_name(enum os_protocol);
const char *os_tls_name(enum os_tls);
const char *os_enforcement_name(enum os_enforcement);
const char *os_access_name(enum os_access);

/* ------------------------------------------------------------------------
 * YAML (policy-yaml.c, policy-emit.c) and validation (policy-validate.c)
 */

/* Where each field's value was found: "network_policies.k.endpoints[0].host". */
struct os_srcmap;
void	 os_srcmap_free(struct os_srcmap *);
/* Position of `field` or its nearest recorded parent. false if none. */
bool	 os_srcmap_lookup(const struct os_srcmap *, const char *field,
	     unsigned *line, unsigned *col);

/*
 * Loads and validates a policy. Every problem is added to `diags`, errors
 * and notes alike (the loader keeps going after an error so that all of
 * them are reported). `file` is used in diagnostics and may be NULL.
 * Returns 0 and *out on success (no errors), -EINVAL and *out = NULL when
 * there was any error. `srcmap` may be NULL; else *srcmap is set on
 * success (caller frees with os_srcmap_free).
 */
int	 os_policy_load_yaml(const char *text, size_t len, const char *file,
	     struct os_policy **out, struct os_srcmap **srcmap,
	     struct os_diags *diags);

/*
 * The semantic checks, on a model from any source. `srcmap` (may be NULL)
 * turns field paths into line and column. Returns the number of errors
 * added.
 */
size_t	 os_policy_validate(const struct os_policy *, const char *file,
	     const struct os_srcmap *, struct os_diags *);

/* Canonical YAML: stable order, normalised values. Caller frees. */
char	*os_policy_to_yaml(const struct os_policy *);
/* One network rule as YAML (a mapping with name/endpoints/binaries). */
char	*os_rule_to_yaml(const struct os_rule *);
/* Parses the YAML os_rule_to_yaml writes; errors in diags. 0 or -EINVAL. */
int	 os_rule_load_yaml(const char *text, size_t len, const char *file,
	     const char *key, struct os_rule *out, struct os_diags *);
/* SHA-256 of the canonical YAML, 64 hex digits. */
void	 os_policy_hash(const struct os_policy *, char out[65]);

/* ------------------------------------------------------------------------
 * Compiled matcher (match.c). Built once per policy revision, then
 * read-only; a decision allocates nothing. Reference-counted so that a
 * connection can pin the revision it was admitted under.
 */
struct os_matcher;

/* The policy must have validated. The matcher keeps its own copy. */
struct os_matcher *os_matcher_new(const struct os_policy *, uint64_t generation);
struct os_matcher *os_matcher_ref(struct os_matcher *);
void	 os_matcher_unref(struct os_matcher *);
const struct os_policy *os_matcher_policy(const struct os_matcher *);
uint64_t os_matcher_generation(const struct os_matcher *);

struct os_l4_request {
	const char		 *host;        /* as requested; compared case-insensitively */
	uint16_t		  port;
	const char		 *binary;      /* kernel-resolved exe path; may be NULL */
	const char *const	 *ancestors;   /* parent's exe first */
	size_t			  nancestors;
};

enum os_l4_verdict {
	OS_L4_ALLOW,
	OS_L4_DENY_NO_ENDPOINT,   /* no policy has an endpoint for host:port */
	OS_L4_DENY_BINARY,        /* an endpoint matches, the binary does not */
};

#define OS_MATCH_MAX 16
struct os_match {
	const struct os_rule		*rule;
	const struct os_endpoint	*endpoint;
	const struct os_binary		*binary;   /* the binary entry that matched */
};

struct os_l4_decision {
	enum os_l4_verdict	 verdict;
	/* ALLOW: every (rule, endpoint, binary) that admits the request, rule
	 * keys ascending; matches[0] is the reported policy. DENY_BINARY: the
	 * (rule, endpoint) pairs whose binaries did not match (binary NULL). */
	struct os_match		 matches[OS_MATCH_MAX];
	size_t			 nmatches;
	bool			 truncated;     /* more than OS_MATCH_MAX matched */
	bool			 inspect;       /* some match has protocol rest: L7 applies */
	bool			 tls_skip;      /* relay TLS opaquely */
};

void	 os_matcher_l4(const struct os_matcher *, const struct os_l4_request *,
	     struct os_l4_decision *);
/*
 * The deny reason: "no matching network policy", or "binary '/usr/bin/python3'
 * not allowed in policy 'github-api' (allows /usr/bin/curl)". Returns the
 * length it would write, like snprintf.
 */
size_t	 os_l4_reason(const struct os_l4_request *, const struct os_l4_decision *,
	     char *buf, size_t len);

struct os_l7_request {
	const char	*method;
	const char	*path;     /* canonical path, no query */
	const char	*query;    /* raw query string without '?'; may be NULL */
};

enum os_l7_verdict {
	OS_L7_ALLOW,
	OS_L7_DENY,          /* enforce: answer 403 */
	OS_L7_AUDIT,         /* audit: would deny, forwarded and logged */
};

struct os_l7_decision {
	enum os_l7_verdict		 verdict;
	const struct os_rule		*rule;       /* deciding policy */
	const struct os_endpoint	*endpoint;
	const struct os_l7_rule		*matched;    /* the allow or deny rule, if any */
	bool				 by_deny_rule;
};

/* L7 decision over the inspected matches of an allowed L4 decision, which
 * l4 (the request it decided) lets see beyond its first OS_MATCH_MAX. */
void	 os_matcher_l7(const struct os_matcher *, const struct os_l4_request *l4,
	     const struct os_l4_decision *, const struct os_l7_request *,
	     struct os_l7_decision *);
/* "POST /repos/x/issues not permitted by policy" or "... blocked by deny rule". */
size_t	 os_l7_reason(const struct os_l7_request *, const struct os_l7_decision *,
	     char *buf, size_t len);
/* "GET /v1/..." for the rule that matched, or "". */
size_t	 os_l7_rule_describe(const struct os_l7_rule *, char *buf, size_t len);
/* Methods an access preset allows, NULL-terminated. */
const char *const *os_access_methods(enum os_access);

/* ------------------------------------------------------------------------
 * Addresses and SSRF (net.c, ssrf.c)
 */
struct os_ip {
	int	family;           /* AF_INET or AF_INET6 */
	uint8_t	addr[16];         /* network order; IPv4 in the first 4 bytes */
};

struct os_cidr {
	struct os_ip	ip;
	unsigned	prefix;
};

int	 os_ip_parse(const char *, struct os_ip *);      /* 0 or -EINVAL */
void	 os_ip_format(const struct os_ip *, char *buf, size_t len);
/* "10.0.0.0/8", "::1/128", or a bare address (full length). 0 or -EINVAL. */
int	 os_cidr_parse(const char *, struct os_cidr *);
bool	 os_cidr_contains(const struct os_cidr *, const struct os_ip *);
bool	 os_cidr_overlaps(const struct os_cidr *, const struct os_cidr *);
/* An IPv4-mapped IPv6 address becomes IPv4. */
void	 os_ip_unmap(struct os_ip *);

enum os_ipclass {
	OS_IPCLASS_PUBLIC,
	OS_IPCLASS_LOOPBACK,
	OS_IPCLASS_LINK_LOCAL,
	OS_IPCLASS_METADATA,       /* cloud metadata services */
	OS_IPCLASS_UNSPECIFIED,
	OS_IPCLASS_PRIVATE,        /* RFC 1918 */
	OS_IPCLASS_CGNAT,          /* 100.64.0.0/10 */
	OS_IPCLASS_ULA,            /* fc00::/7 */
	OS_IPCLASS_DOCUMENTATION,  /* TEST-NETs, 2001:db8::/32 */
	OS_IPCLASS_BENCHMARK,      /* 198.18.0.0/15 */
	OS_IPCLASS_MULTICAST,
	OS_IPCLASS_RESERVED,       /* broadcast, 240/4, 192.0.0.0/24, ... */
};
enum os_ipclass os_ip_classify(const struct os_ip *);
const char *os_ipclass_name(enum os_ipclass);
/* Never dialled, whatever the policy says: loopback, link-local, metadata, unspecified, multicast. */
bool	 os_ipclass_always_blocked(enum os_ipclass);
bool	 os_host_is_metadata_name(const char *host);

struct os_ssrf_context {
	const char			*host;      /* as requested */
	const struct os_l4_decision	*decision;  /* the allowing decision */
	const struct os_cidr		*trusted;   /* sandbox trusted CIDRs */
	size_t				 ntrusted;
};

/*
 * May `addr` (an address `host` resolved to) be dialled? 0 = yes;
 * -EACCES = no, with `why` naming the check that failed, e.g.
 * "api.internal resolves to private address 10.0.0.5 (not in allowed_ips,
 * not a trusted CIDR, host not declared by the operator)".
 */
int	 os_ssrf_check(const struct os_ssrf_context *, const struct os_ip *addr,
	     char *why, size_t len);

/* ------------------------------------------------------------------------
 * Resolver (resolve.c): --hosts-file overrides first, then DNS with a
 * hard timeout, or never DNS in hosts-only mode.
 */
struct os_hosts;
/* /etc/hosts syntax. Bad lines are diagnostics; 0 or -EINVAL. */
int	 os_hosts_parse(const char *text, size_t len, const char *file,
	     struct os_hosts **out, struct os_diags *);
void	 os_hosts_free(struct os_hosts *);
size_t	 os_hosts_lookup(const struct os_hosts *, const char *name,
	     struct os_ip *out, size_t max);
size_t	 os_hosts_count(const struct os_hosts *);
/* Iteration for shipping the table elsewhere: name and its addresses. */
const char *os_hosts_entry(const struct os_hosts *, size_t i,
	     const struct os_ip **addrs, size_t *naddrs);
/* Builds a table from (name, address) pairs. */
void	 os_hosts_add(struct os_hosts **, const char *name, const struct os_ip *);

enum os_dns_mode {
	OS_DNS_SYSTEM,
	OS_DNS_HOSTS_ONLY,
};

struct os_resolver {
	const struct os_hosts	*hosts;       /* may be NULL */
	enum os_dns_mode	 mode;
	unsigned		 timeout_ms;  /* DNS hard timeout; 0 = 5000 */
};

enum os_resolve_result {
	OS_RESOLVE_DONE,      /* IP literal or hosts-file entry: out filled */
	OS_RESOLVE_NEED_DNS,  /* ask DNS (the caller may do it asynchronously) */
	OS_RESOLVE_FAILED,    /* hosts-only and not found: err says so */
};
/* No I/O: literals and the hosts table only. */
enum os_resolve_result os_resolve_local(const struct os_resolver *,
	     const char *host, struct os_ip *out, size_t max, size_t *n,
	     struct os_error *);
/* Blocking DNS with the hard timeout (getaddrinfo_a). 0 or negative errno. */
int	 os_resolve_dns(const struct os_resolver *, const char *host,
	     struct os_ip *out, size_t max, size_t *n, struct os_error *);

/* ------------------------------------------------------------------------
 * Composition (compose.c): effective policy = base + approved chunks.
 */
struct os_chunk_input {
	const char		*id;
	const char		*rule_name;    /* network_policies key it proposes */
	const struct os_rule	*rule;
	const char		*supersedes;   /* id of the chunk it refines, or NULL */
};

/*
 * Composes in order. A chunk superseded by a later chunk in the list
 * contributes nothing. A chunk that would give one host:port two different
 * L7 contracts, or that does not validate, is left out and reported in
 * `conflicts` with field = the chunk id. Static sections come from `base`
 * only. Returns 0 and *out (caller frees).
 */
int	 os_policy_compose(const struct os_policy *base,
	     const struct os_chunk_input *, size_t n, struct os_policy **out,
	     struct os_diags *conflicts);
/* Does `policy` already allow everything `rule` would? */
bool	 os_policy_covers(const struct os_policy *, const struct os_rule *);
/* Unified diff of two texts, 3 lines of context; "" when equal. Caller frees. */
char	*os_diff_unified(const char *a, const char *b, const char *label_a,
	     const char *label_b);

/* ------------------------------------------------------------------------
 * Certificates (x509.c): ECDSA P-256 keys, PEM in and out. Used for the
 * gateway's mTLS material and the sandbox's TLS-terminating CA.
 */
struct os_cert_request {
	const char		*cn;         /* NULL: none (64 characters at most) */
	const char *const	*dns;        /* subjectAltName DNS names */
	size_t			 ndns;
	const char *const	*ips;        /* subjectAltName addresses */
	size_t			 nips;
	bool			 ca;         /* a CA that may sign leaves */
	bool			 server;     /* extendedKeyUsage serverAuth */
	bool			 client;     /* extendedKeyUsage clientAuth */
	int			 days;       /* validity; starts an hour ago */
	bool			 leaves_only; /* CA: pathlen:0, no sub-CAs */
};

/* Issues a certificate and a new key. issuer_* NULL = self-signed;
 * otherwise validity is narrowed to the issuer's.
 * Caller frees *cert_pem and *key_pem. 0 or -EINVAL/-EIO with err. */
int	 os_x509_issue(const struct os_cert_request *, const char *issuer_cert_pem,
	     const char *issuer_key_pem, char **cert_pem, char **key_pem,
	     struct os_error *);

/*
 * The same on OpenSSL objects, for callers that mint many certificates
 * and keep keys in memory only (the sandbox's TLS-terminating CA).
 * Declared on OpenSSL's struct tags so this header needs no OpenSSL.
 */
struct x509_st;
struct evp_pkey_st;
/* A new P-256 key (EVP_PKEY_free), or NULL with err. */
struct evp_pkey_st *os_x509_key_new(struct os_error *);
/* A certificate for `key` (X509_free), signed by issuer/issuer_key, or
 * self-signed when both are NULL; or NULL with err. Borrows its
 * arguments. With an issuer, validity is narrowed to the issuer's. */
struct x509_st *os_x509_issue_key(const struct os_cert_request *,
	     struct evp_pkey_st *key, struct x509_st *issuer,
	     struct evp_pkey_st *issuer_key, struct os_error *);
/* Many leaves for one key: a copy of tmpl (issued by issuer, with the
 * key and extensions wanted) with a new serial, the validity, CN and
 * subjectAltName of the request, signed again. X509_free, or NULL with
 * err. Skips encoding the public key again, which with OpenSSL 3.0 is
 * most of os_x509_issue_key's cost (~40% less CPU per leaf). */
struct x509_st *os_x509_reissue(struct x509_st *tmpl,
	     const struct os_cert_request *, struct x509_st *issuer,
	     struct evp_pkey_st *issuer_key, struct os_error *);

/* ------------------------------------------------------------------------
 * The denial table (denials.c): what the proxy denied, or would have
 * (audit, permissive), grouped by (host, port, binary, stage) with counts,
 * first and last time and up to OS_DENIAL_SAMPLES distinct L7 samples
 * (method, path, decision). It is bounded: past max_groups, denials of
 * new groups are only counted (dropped). This is what the denial
 * aggregator turns into proposed policy chunks. No I/O.
 */
#define OS_DENIAL_SAMPLES	16

/* One denial as the proxy reports it; borrowed by os_denials_add. */
struct os_denial_event {
	const char	*host;
	uint16_t	 port;
	const char	*binary;      /* "" when unknown */
	const char	*stage;       /* "l4_deny", "l7_deny", "l7_audit", "ssrf", ... */
	const char	*reason;
	const char	*method;      /* L7 only, else NULL */
	const char	*path;        /* L7 only: the canonical path */
	const char	*decision;    /* L7 only: "deny", "audit", "allow_permissive" */
	bool		 permissive;  /* logged and allowed */
	int64_t		 ts_ms;
};

struct os_denial_sample {
	char		*method;
	char		*path;
	char		*decision;
	uint64_t	 count;
};

struct os_denial_group {
	char			*host;
	uint16_t		 port;
	char			*binary;
	char			*stage;
	char			*reason;      /* the latest */
	uint64_t		 count;
	int64_t			 first_ms;
	int64_t			 last_ms;
	bool			 permissive;  /* the latest was allowed anyway */
	struct os_denial_sample	 samples[OS_DENIAL_SAMPLES];
	size_t			 nsamples;
	uint64_t		 unsampled;   /* L7 denials past the distinct samples kept */
};

/* Owns its groups and their strings: os_denials_free. */
struct os_denials {
	struct os_denial_group	*groups;      /* in order of first denial */
	size_t			 n;
	size_t			 cap;
	size_t			 max_groups;
	uint64_t		 dropped;     /* denials of groups past max_groups */
};

void	 os_denials_init(struct os_denials *, size_t max_groups);
/* Counts a denial in its group (made if needed); copies what it keeps. */
void	 os_denials_add(struct os_denials *, const struct os_denial_event *);
void	 os_denials_free(struct os_denials *);

#endif /* OPENSHELL_H */
