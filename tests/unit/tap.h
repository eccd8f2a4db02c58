/*
 * A minimal TAP producer for unit tests: one TAP line per test function,
 * failing with file:line and the values compared. Automake's tap-driver
 * turns the lines into PASS/FAIL counts.
 *
 *	static void t_glob(void) { CHECK(os_glob_match("a*", "ab", '/')); }
 *	int main(void) { TAP_RUN(t_glob); return tap_done(); }
 */
#ifndef TAP_H
#define TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	tap_n;
static int	tap_failed_total;
static int	tap_case_failed;
static const char *tap_case;

static void
tap_fail_at(const char *file, int line, const char *what)
{
	if (!tap_case_failed)
		printf("not ok %d - %s\n", ++tap_n, tap_case);
	tap_case_failed = 1;
	printf("#   %s:%d: %s\n", file, line, what);
	fflush(stdout);
}

#define CHECK(cond) do {						\
	if (!(cond))							\
		tap_fail_at(__FILE__, __LINE__, "CHECK(" #cond ")");	\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ != w_) {							\
		char m_[512];						\
		snprintf(m_, sizeof m_, "%s == %lld, want %lld",	\
		    #got, g_, w_);					\
		tap_fail_at(__FILE__, __LINE__, m_);			\
	}								\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) {\
		char *m_ = NULL;					\
		if (asprintf(&m_, "%s:\n#     got:  \"%s\"\n#     want: \"%s\"", \
		    #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)") < 0)	\
			m_ = NULL;					\
		tap_fail_at(__FILE__, __LINE__, m_ ? m_ : #got);	\
		free(m_);						\
	}								\
} while (0)

/* Substring check, for messages that embed other detail. */
#define CHECK_CONTAINS(hay, needle) do {				\
	const char *h_ = (hay), *n_ = (needle);				\
	if (h_ == NULL || strstr(h_, n_) == NULL) {			\
		char *m_ = NULL;					\
		if (asprintf(&m_, "%s does not contain \"%s\":\n#     %s", \
		    #hay, n_, h_ ? h_ : "(null)") < 0)			\
			m_ = NULL;					\
		tap_fail_at(__FILE__, __LINE__, m_ ? m_ : #hay);	\
		free(m_);						\
	}								\
} while (0)

#define TAP_RUN(fn) do {						\
	tap_case = #fn;							\
	tap_case_failed = 0;						\
	fn();								\
	if (!tap_case_failed)						\
		printf("ok %d - %s\n", ++tap_n, #fn);			\
	else								\
		tap_failed_total++;					\
	fflush(stdout);							\
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed_total != 0;
}

#endif /* TAP_H */
