/*
 * Name resolution for the proxy and the gateway: --hosts-file overrides
 * first, then DNS with a hard timeout, or never DNS (--dns hosts-only,
 * which every test uses).
 *
 * The hosts table keeps names in first-seen order (so shipping it to a
 * sandbox is stable) with an open-addressing index beside it, because a
 * lookup happens on every connection. Names are stored lower-case
 * without a trailing dot; addresses in file order, deduplicated, with
 * IPv4-mapped IPv6 stored as the IPv4 address it is.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "openshell.h"

/* More than this for one name is a mistake, and would make dedup slow. */
#define HOSTS_MAX_ADDRS		64
/* Longer lines are reported and skipped, not read piecemeal. */
#define HOSTS_MAX_LINE		4096
/* Values in messages are cut after this many bytes. */
#define HOSTS_SHOW_MAX		64
#define HOSTS_NAME_MAX		253
#define HOSTS_LABEL_MAX		63

struct hosts_entry {
	char		*name;
	size_t		 namelen;
	struct os_ip	*addrs;
	size_t		 naddrs;
	size_t		 cap;
};

struct os_hosts {
	struct hosts_entry	*v;
	size_t			 n;
	size_t			 cap;
	uint32_t		*index;   /* entry number + 1; 0 = empty slot */
	size_t			 nindex;  /* a power of two, at least 2n */
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* FNV-1a of the lower-cased name. */
static uint64_t
hosts_hash(const char *s, size_t n)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)lower((unsigned char)s[i]);
		h *= 1099511628211ULL;
	}
	return h;
}

/* A name as looked up: one trailing dot does not make another name. */
static size_t
hosts_name_len(const char *s, size_t n)
{
	return n > 1 && s[n - 1] == '.' ? n - 1 : n;
}

static struct hosts_entry *
hosts_find(const struct os_hosts *h, const char *name, size_t n)
{
	const struct hosts_entry	*e;
	size_t				 slot, mask, i;

	if (h == NULL || h->nindex == 0)
		return NULL;
	mask = h->nindex - 1;
	slot = (size_t)hosts_hash(name, n) & mask;
	for (;;) {
		if (h->index[slot] == 0)
			return NULL;
		e = &h->v[h->index[slot] - 1];
		if (e->namelen == n) {
			for (i = 0; i < n; i++) {
				if (e->name[i] != lower((unsigned char)name[i]))
					break;
			}
			if (i == n)
				return (struct hosts_entry *)e;
		}
		slot = (slot + 1) & mask;
	}
}

static void
hosts_reindex(struct os_hosts *h, size_t nindex)
{
	size_t	i, slot, mask = nindex - 1;

	free(h->index);
	h->index = xcalloc(nindex, sizeof *h->index);
	h->nindex = nindex;
	for (i = 0; i < h->n; i++) {
		slot = (size_t)hosts_hash(h->v[i].name, h->v[i].namelen) & mask;
		while (h->index[slot] != 0)
			slot = (slot + 1) & mask;
		h->index[slot] = (uint32_t)(i + 1);
	}
}

/* The entry for a name (n bytes, already without a trailing dot), made
 * if it is new. */
static struct hosts_entry *
hosts_intern(struct os_hosts *h, const char *name, size_t n)
{
	struct hosts_entry	*e;
	size_t			 i;

	if ((e = hosts_find(h, name, n)) != NULL)
		return e;
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 16 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	e = &h->v[h->n++];
	memset(e, 0, sizeof *e);
	e->name = xstrndup(name, n);
	e->namelen = n;
	for (i = 0; i < n; i++)
		e->name[i] = (char)lower((unsigned char)e->name[i]);
	if (h->n * 2 > h->nindex)
		hosts_reindex(h, h->nindex == 0 ? 32 : h->nindex * 2);
	else {
		size_t mask = h->nindex - 1;
		size_t slot = (size_t)hosts_hash(e->name, n) & mask;

		while (h->index[slot] != 0)
			slot = (slot + 1) & mask;
		h->index[slot] = (uint32_t)h->n;
	}
	return e;
}

/* A clean copy: unmapped, no stray bytes past the family's length. */
static bool
hosts_clean_ip(const struct os_ip *in, struct os_ip *out)
{
	if (in->family != AF_INET && in->family != AF_INET6)
		return false;
	memset(out, 0, sizeof *out);
	out->family = in->family;
	memcpy(out->addr, in->addr, in->family == AF_INET ? 4 : 16);
	os_ip_unmap(out);
	return true;
}

enum hosts_put {
	HOSTS_PUT_ADDED,
	HOSTS_PUT_DUPLICATE,
	HOSTS_PUT_FULL,
};

static enum hosts_put
hosts_put(struct hosts_entry *e, const struct os_ip *ip)
{
	size_t	i;

	for (i = 0; i < e->naddrs; i++) {
		if (memcmp(&e->addrs[i], ip, sizeof *ip) == 0)
			return HOSTS_PUT_DUPLICATE;
	}
	if (e->naddrs == HOSTS_MAX_ADDRS)
		return HOSTS_PUT_FULL;
	if (e->naddrs == e->cap) {
		e->cap = e->cap == 0 ? 2 : e->cap * 2;
		e->addrs = xreallocarray(e->addrs, e->cap, sizeof *e->addrs);
	}
	e->addrs[e->naddrs++] = *ip;
	return HOSTS_PUT_ADDED;
}

void
os_hosts_free(struct os_hosts *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].addrs);
	}
	free(h->v);
	free(h->index);
	free(h);
}

size_t
os_hosts_lookup(const struct os_hosts *h, const char *name, struct os_ip *out,
    size_t max)
{
	const struct hosts_entry	*e;
	size_t				 n;

	if (name == NULL)
		return 0;
	n = hosts_name_len(name, strlen(name));
	if ((e = hosts_find(h, name, n)) == NULL)
		return 0;
	n = e->naddrs < max ? e->naddrs : max;
	if (n > 0)
		memcpy(out, e->addrs, n * sizeof *out);
	return n;
}

size_t
os_hosts_count(const struct os_hosts *h)
{
	return h != NULL ? h->n : 0;
}

const char *
os_hosts_entry(const struct os_hosts *h, size_t i, const struct os_ip **addrs,
    size_t *naddrs)
{
	if (h == NULL || i >= h->n) {
		if (addrs != NULL)
			*addrs = NULL;
		if (naddrs != NULL)
			*naddrs = 0;
		return NULL;
	}
	if (addrs != NULL)
		*addrs = h->v[i].addrs;
	if (naddrs != NULL)
		*naddrs = h->v[i].naddrs;
	return h->v[i].name;
}

/*
 * Callers build tables from lists already checked elsewhere (the
 * sandbox's config from the gateway), so a bad pair is dropped rather
 * than reported: an empty name, an address of no family, or addresses
 * past HOSTS_MAX_ADDRS for one name.
 */
void
os_hosts_add(struct os_hosts **hp, const char *name, const struct os_ip *ip)
{
	struct os_ip	a;
	size_t		n;

	if (name == NULL || ip == NULL || !hosts_clean_ip(ip, &a))
		return;
	if ((n = hosts_name_len(name, strlen(name))) == 0 || name[0] == '.')
		return;
	if (*hp == NULL)
		*hp = xcalloc(1, sizeof **hp);
	(void)hosts_put(hosts_intern(*hp, name, n), &a);
}

/* ------------------------------------------------------------------------
 * The hosts file
 */

struct hosts_parse {
	struct os_hosts	*h;
	const char	*file;
	struct os_diags	*diags;
	size_t		 nerrors;
	unsigned	 line;
};

/* A value for a message: control and non-ASCII bytes as \xNN, cut long. */
static char *
hosts_show(const char *s, size_t n)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == HOSTS_SHOW_MAX) {
			os_buf_adds(&b, "...");
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			os_buf_addf(&b, "\\x%02x", c);
		else
			os_buf_addc(&b, (char)c);
	}
	return os_buf_steal(&b);
}

static void OS_PRINTF(4, 5)
hosts_diag(struct hosts_parse *p, enum os_diag_level level, unsigned col,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	os_diags_add(p->diags, level, p->file, p->line, col, NULL, "%s", msg);
	free(msg);
	if (level == OS_DIAG_ERROR)
		p->nerrors++;
}

static bool
hosts_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* NULL when the n bytes at s are a usable host name, else why not. */
static const char *
hosts_name_problem(const char *s, size_t n, char *buf, size_t len)
{
	size_t	i, label = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
			continue;
		if (c >= 0x20 && c < 0x7f)
			snprintf(buf, len, _("invalid character '%c'"), c);
		else
			snprintf(buf, len, _("invalid byte 0x%02x"), c);
		return buf;
	}
	n = hosts_name_len(s, n);
	if (n > HOSTS_NAME_MAX)
		return _("the name is longer than 253 characters");
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (i == label)
			return _("empty label");
		if (i - label > HOSTS_LABEL_MAX)
			return _("a label is longer than 63 characters");
		if (s[label] == '-' || s[i - 1] == '-')
			return _("a label starts or ends with '-'");
		label = i + 1;
	}
	return NULL;
}

/* One line without its newline; tokens are separated by blanks. */
static void
hosts_parse_line(struct hosts_parse *p, const char *s, size_t n)
{
	struct hosts_entry	*e;
	struct os_ip		 ip, tmp;
	const char		*why, *hash;
	char			 abuf[64], wbuf[128], *show;
	size_t			 i = 0, start, len, nnames = 0, acol = 0;
	bool			 have_ip = false;

	if (n > HOSTS_MAX_LINE) {
		hosts_diag(p, OS_DIAG_ERROR, HOSTS_MAX_LINE + 1,
		    _("line is longer than %d bytes"), HOSTS_MAX_LINE);
		return;
	}
	if ((hash = memchr(s, '#', n)) != NULL)
		n = (size_t)(hash - s);
	for (;;) {
		while (i < n && hosts_blank(s[i]))
			i++;
		if (i == n)
			break;
		start = i;
		while (i < n && !hosts_blank(s[i]))
			i++;
		len = i - start;
		if (acol == 0) {
			/* The address. A NUL would end it early for
			 * inet_pton, so it makes the token bad. */
			acol = start + 1;
			if (len < sizeof abuf && memchr(s + start, '\0', len) == NULL) {
				memcpy(abuf, s + start, len);
				abuf[len] = '\0';
				have_ip = os_ip_parse(abuf, &tmp) == 0 &&
				    hosts_clean_ip(&tmp, &ip);
			}
			if (!have_ip) {
				show = hosts_show(s + start, len);
				hosts_diag(p, OS_DIAG_ERROR, (unsigned)acol,
				    _("not an IP address: '%s'"), show);
				free(show);
				return;
			}
			continue;
		}
		nnames++;
		if ((why = hosts_name_problem(s + start, len, wbuf,
		    sizeof wbuf)) != NULL) {
			show = hosts_show(s + start, len);
			hosts_diag(p, OS_DIAG_ERROR, (unsigned)start + 1,
			    _("invalid host name '%s': %s"), show, why);
			free(show);
			continue;
		}
		if (len < sizeof abuf) {
			memcpy(abuf, s + start, len);
			abuf[len] = '\0';
			if (os_ip_parse(abuf, &tmp) == 0) {
				/* Literals never reach the table: the resolver
				 * answers them itself. */
				hosts_diag(p, OS_DIAG_WARNING, (unsigned)start + 1,
				    _("host name '%s' is an IP address; it is "
				    "never looked up"), abuf);
				continue;
			}
		}
		e = hosts_intern(p->h, s + start, hosts_name_len(s + start, len));
		if (hosts_put(e, &ip) == HOSTS_PUT_FULL) {
			show = hosts_show(s + start, len);
			hosts_diag(p, OS_DIAG_ERROR, (unsigned)start + 1,
			    _("too many addresses for '%s' (at most %d)"), show,
			    HOSTS_MAX_ADDRS);
			free(show);
		}
	}
	if (acol != 0 && nnames == 0) {
		os_ip_format(&ip, abuf, sizeof abuf);
		hosts_diag(p, OS_DIAG_ERROR, (unsigned)acol,
		    _("address '%s' has no host names"), abuf);
	}
}

int
os_hosts_parse(const char *text, size_t len, const char *file,
    struct os_hosts **out, struct os_diags *diags)
{
	struct hosts_parse	 p;
	const char		*nl;
	size_t			 off = 0, n;

	*out = NULL;
	memset(&p, 0, sizeof p);
	p.h = xcalloc(1, sizeof *p.h);
	p.file = file;
	p.diags = diags;
	while (off < len) {
		p.line++;
		if ((nl = memchr(text + off, '\n', len - off)) != NULL)
			n = (size_t)(nl - (text + off));
		else
			n = len - off;
		hosts_parse_line(&p, text + off, n);
		off += n + (nl != NULL);
	}
	if (p.nerrors > 0) {
		os_hosts_free(p.h);
		return -EINVAL;
	}
	*out = p.h;
	return 0;
}

/* ------------------------------------------------------------------------
 * Resolution
 */

/* A host for a message: escaped and cut like a hosts-file value. */
static char *
resolve_show(const char *host)
{
	return hosts_show(host, strnlen(host, HOSTS_NAME_MAX + 1));
}

/* An IP literal, bare or as "[v6]" (the way URLs and CONNECT write it). */
static bool
resolve_literal(const char *host, struct os_ip *ip)
{
	char	tmp[64];
	size_t	n;

	if (os_ip_parse(host, ip) == 0)
		return true;
	n = strlen(host);
	if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof tmp)
		return false;
	memcpy(tmp, host + 1, n - 2);
	tmp[n - 2] = '\0';
	return os_ip_parse(tmp, ip) == 0 && ip->family == AF_INET6;
}

enum os_resolve_result
os_resolve_local(const struct os_resolver *r, const char *host,
    struct os_ip *out, size_t max, size_t *n, struct os_error *err)
{
	struct os_ip	 ip;
	char		*s;

	*n = 0;
	if (host == NULL || *host == '\0') {
		os_error_set(err, -EINVAL, _("empty host name"));
		return OS_RESOLVE_FAILED;
	}
	if (resolve_literal(host, &ip)) {
		os_ip_unmap(&ip);
		if (max > 0) {
			out[0] = ip;
			*n = 1;
		}
		return OS_RESOLVE_DONE;
	}
	if (r != NULL && (*n = os_hosts_lookup(r->hosts, host, out, max)) > 0)
		return OS_RESOLVE_DONE;
	if (r != NULL && r->mode == OS_DNS_HOSTS_ONLY) {
		s = resolve_show(host);
		os_error_set(err, -ENOENT, _("%s: not in the hosts file and DNS "
		    "is disabled (--dns hosts-only)"), s);
		free(s);
		return OS_RESOLVE_FAILED;
	}
	return OS_RESOLVE_NEED_DNS;
}

/*
 * One DNS request. getaddrinfo_a runs it on a glibc thread; when our
 * timeout fires first and the request is already running, gai_cancel
 * cannot stop it and the thread will still write into the gaicb. So the
 * request is shared: the caller holds one reference, the completion
 * notification (SIGEV_THREAD) the other, and the last one frees it.
 */
struct dns_job {
	struct gaicb	 cb;
	struct addrinfo	 hints;
	char		*host;
	atomic_int	 refs;
};

static void
dns_job_unref(struct dns_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	if (j->cb.ar_result != NULL)
		freeaddrinfo(j->cb.ar_result);
	free(j->host);
	free(j);
}

static void
dns_job_done(union sigval sv)
{
	dns_job_unref(sv.sival_ptr);
}

static void
dns_collect(const struct addrinfo *res, struct os_ip *out, size_t max,
    size_t *n)
{
	const struct addrinfo	*ai;
	struct os_ip		 ip;
	size_t			 k;

	for (ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
		memset(&ip, 0, sizeof ip);
		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen >= sizeof (struct sockaddr_in)) {
			ip.family = AF_INET;
			memcpy(ip.addr, &((const struct sockaddr_in *)
			    (const void *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6 &&
		    ai->ai_addrlen >= sizeof (struct sockaddr_in6)) {
			ip.family = AF_INET6;
			memcpy(ip.addr, &((const struct sockaddr_in6 *)
			    (const void *)ai->ai_addr)->sin6_addr, 16);
		} else
			continue;
		os_ip_unmap(&ip);
		for (k = 0; k < *n; k++) {
			if (memcmp(&out[k], &ip, sizeof ip) == 0)
				break;
		}
		if (k == *n)
			out[(*n)++] = ip;
	}
}

/*
 * Literals and the hosts table answer first, as in os_resolve_local, so
 * that any caller gets the same view, and in hosts-only mode that is all:
 * the answer is os_resolve_local's error. No AI_ADDRCONFIG: which family to
 * dial is the caller's choice, and a sandbox-side namespace with only
 * loopback would otherwise get no answer at all.
 */
int
os_resolve_dns(const struct os_resolver *r, const char *host,
    struct os_ip *out, size_t max, size_t *n, struct os_error *err)
{
	struct os_error		 local;
	struct dns_job		*j;
	struct gaicb		*list[1];
	struct sigevent		 sev;
	struct timespec		 ts;
	int64_t			 deadline, left;
	unsigned		 ms;
	char			*s;
	int			 rc, gai;

	*n = 0;
	os_error_clear(&local);
	switch (os_resolve_local(r, host, out, max, n, &local)) {
	case OS_RESOLVE_DONE:
		return 0;
	case OS_RESOLVE_FAILED:
		/* An empty host, or hosts-only mode: DNS is never asked. */
		return os_error_set(err, local.code, "%s", local.msg);
	case OS_RESOLVE_NEED_DNS:
		break;
	}
	ms = r != NULL && r->timeout_ms != 0 ? r->timeout_ms : 5000;
	s = resolve_show(host);

	j = xcalloc(1, sizeof *j);
	j->host = xstrdup(host);
	j->hints.ai_family = AF_UNSPEC;
	j->hints.ai_socktype = SOCK_STREAM;
	j->cb.ar_name = j->host;
	j->cb.ar_request = &j->hints;
	atomic_init(&j->refs, 2);
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = dns_job_done;
	sev.sigev_value.sival_ptr = j;
	list[0] = &j->cb;
	if ((gai = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) != 0) {
		atomic_store(&j->refs, 1);
		dns_job_unref(j);
		rc = os_error_set(err, -EIO, _("%s: cannot start a DNS lookup: "
		    "%s"), s, gai_strerror(gai));
		free(s);
		return rc;
	}

	deadline = os_mono_ms() + ms;
	while ((gai = gai_error(&j->cb)) == EAI_INPROGRESS) {
		if ((left = deadline - os_mono_ms()) <= 0)
			break;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		/* Woken early by a signal or another request: loop. */
		(void)gai_suspend((const struct gaicb *const *)list, 1, &ts);
	}
	if (gai == EAI_INPROGRESS) {
		switch (gai_cancel(&j->cb)) {
		case EAI_CANCELED:
			/* Never started: no notification will come. */
			atomic_fetch_sub(&j->refs, 1);
			dns_job_unref(j);
			rc = os_error_set(err, -ETIMEDOUT, _("%s: DNS lookup "
			    "timed out after %u ms"), s, ms);
			free(s);
			return rc;
		case EAI_ALLDONE:
			/* Finished just now: use the answer. */
			gai = gai_error(&j->cb);
			break;
		default:
			/* Running: the notification frees it when it ends. */
			dns_job_unref(j);
			rc = os_error_set(err, -ETIMEDOUT, _("%s: DNS lookup "
			    "timed out after %u ms"), s, ms);
			free(s);
			return rc;
		}
	}
	switch (gai) {
	case 0:
		dns_collect(j->cb.ar_result, out, max, n);
		rc = 0;
		if (*n == 0 && max > 0)
			rc = os_error_set(err, -ENOENT, _("%s: DNS returned no "
			    "addresses"), s);
		break;
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		rc = os_error_set(err, -ENOENT, _("%s: no such host"), s);
		break;
	default:
		rc = os_error_set(err, -EIO, _("%s: DNS lookup failed: %s"), s,
		    gai_strerror(gai));
		break;
	}
	dns_job_unref(j);
	free(s);
	return rc;
}
