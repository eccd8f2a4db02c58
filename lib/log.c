/* Daemon and tool logging: one line per event, to stderr or a file. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "openshell.h"

static const char		*log_progname = "openshell";
static enum os_log_level	 log_level = OS_LOG_INFO;
static int			 log_fd = STDERR_FILENO;

void
os_log_init(const char *progname, enum os_log_level level)
{
	log_progname = progname;
	log_level = level;
}

void
os_log_set_fd(int fd)
{
	log_fd = fd;
}

const char *
os_log_level_name(enum os_log_level level)
{
	switch (level) {
	case OS_LOG_ERROR:
		return "error";
	case OS_LOG_WARN:
		return "warn";
	case OS_LOG_INFO:
		return "info";
	case OS_LOG_DEBUG:
		return "debug";
	}
	return "info";
}

int
os_log_level_parse(const char *s, enum os_log_level *out)
{
	static const struct {
		const char		*name;
		enum os_log_level	 level;
	} names[] = {
		{ "error", OS_LOG_ERROR }, { "warn", OS_LOG_WARN },
		{ "warning", OS_LOG_WARN }, { "info", OS_LOG_INFO },
		{ "debug", OS_LOG_DEBUG },
	};
	size_t	i;

	for (i = 0; i < OS_NELEM(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

void
os_log(enum os_log_level level, const char *fmt, ...)
{
	char		 line[4096];
	struct timespec	 ts;
	struct tm	 tm;
	va_list		 ap;
	int		 n, m, saved = errno;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, log_progname, (int)getpid(),
	    os_log_level_name(level));
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	(void)!write(log_fd, line, (size_t)n);
	errno = saved;
}
