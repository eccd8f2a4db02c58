/* Small shared helpers: clocks, durations, hashing, randomness, strings. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "openshell.h"

int64_t
os_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
os_mono_ms(void)
{
	return (int64_t)(os_mono_ns() / 1000000);
}

uint64_t
os_mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
os_parse_duration(const char *s, int64_t *seconds)
{
	char		*end;
	long long	 v;
	int64_t		 mult = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -EINVAL;
	if (*end != '\0') {
		switch (*end) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		default:
			return -EINVAL;
		}
		if (end[1] != '\0')
			return -EINVAL;
	}
	if (v > INT64_MAX / mult)
		return -EINVAL;
	*seconds = v * mult;
	return 0;
}

void
os_hex_encode(const void *p, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void
os_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	unsigned int	mdlen = sizeof md;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	os_hex_encode(md, sizeof md, out);
}

int
os_random_bytes(void *p, size_t n)
{
	unsigned char	*b = p;
	ssize_t		 r;

	while (n > 0) {
		r = getrandom(b, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

bool
os_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
os_str_has_suffix(const char *s, const char *suffix)
{
	size_t	ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

void
os_str_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

bool
os_name_valid(const char *s)
{
	size_t	i;

	if (s == NULL || *s == '\0' || *s == '-')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 63)
			return false;
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    s[i] == '-'))
			return false;
	}
	return true;
}

/*
 * The state directory: OPENSHELL_STATE_DIR, else /var/lib/openshell as
 * root, else $XDG_STATE_HOME/openshell (~/.local/state/openshell).
 * The gateway and the CLI must agree on it, so it lives here.
 */
char *
os_default_state_dir(void)
{
	const char	*e;

	if ((e = getenv("OPENSHELL_STATE_DIR")) != NULL && *e != '\0')
		return xstrdup(e);
	if (geteuid() == 0)
		return xstrdup("/var/lib/openshell");
	if ((e = getenv("XDG_STATE_HOME")) != NULL && *e == '/')
		return xprintf("%s/openshell", e);
	if ((e = getenv("HOME")) != NULL && *e == '/')
		return xprintf("%s/.local/state/openshell", e);
	return xstrdup("/tmp/openshell");
}
