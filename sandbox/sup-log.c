/*
 * The sandbox's event log: every decision and lifecycle event as one
 * structured line, written to /var/log/openshell.log inside the sandbox
 * (<dir>/log/openshell.log from here) and pushed to the gateway in
 * batches. While the gateway is away lines queue up to a bound; the
 * oldest are dropped first and the drop is itself logged. A push the
 * gateway could not store (its disk is full) is sent again, less and less
 * often; lines the file could not take are counted, and said in it once
 * it takes lines again. The file is rotated at a size (one older kept).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#define LOG_QUEUE_MAX 20000
/*
 * A push carries up to LOG_BATCH lines and LOG_BATCH_BYTES of them: the
 * gateway refuses messages over 16 MiB, and a batch it refuses would be
 * sent again and again while every later line waited behind it. (An L7
 * denial of a 16 KiB path is a 32 KiB line.) Fewer, larger pushes cost
 * both ends less per line: 2000 against 500 cut the gateway's CPU per
 * line by a sixth at 15k lines a second.
 */
#define LOG_BATCH 2000
#define LOG_BATCH_BYTES (4 * 1024 * 1024)
#define LOG_FLUSH_MS 100
#define LOG_RETRY_MAX_MS 5000
#define LOG_FILE_BUF (64 * 1024)
/* The file is rotated at this size (setting sandbox_log_file_mb): it is
 * on the host's disk, and a DNS flood alone writes megabytes a second. */
#define LOG_FILE_MAX_DEFAULT ((uint64_t)64 << 20)

struct sup_log_entry {
	int64_t			 ts_ms;
	enum os_log_level	 level;
	char			*target;
	char			*line;
	size_t			 size;       /* about what it takes on the wire */
};

struct sup_log {
	int			 fd;
	char			*path;        /* <dir>/log/openshell.log */
	uint64_t		 file_size;
	uint64_t		 file_max;    /* rotated beyond this */
	struct os_buf		 file;       /* lines not yet written to fd */
	struct sup_log_entry	*q;          /* ring */
	size_t			 head;
	size_t			 len;
	size_t			 inflight;   /* first `inflight` entries are being pushed */
	size_t			 bytes;      /* sum of the entries' sizes */
	uint64_t		 refused;    /* lines of batches the gateway refused */
	char			*refused_why;
	uint64_t		 dropped;
	int64_t			 retry_at;    /* no push before (ms), after a failed one */
	int64_t			 retry_ms;    /* the wait after the next failure */
	uint64_t		 file_lost;   /* lines the file did not take */
	int			 file_errno;  /* why, while writes fail */
	bool			 file_midline; /* a short write ended mid-line */
	time_t			 stamp_t;     /* the second stamp[] spells */
	char			 stamp[64];   /* "YYYY-MM-DDTHH:MM:SS" */
	uv_timer_t		 timer;
	bool			 timer_live;
	enum os_log_level	 push_level;
};

static void
log_entry_clear(struct sup_log_entry *e)
{
	free(e->target);
	free(e->line);
	memset(e, 0, sizeof *e);
}

static struct sup_log_entry *
log_at(struct sup_log *l, size_t i)
{
	return &l->q[(l->head + i) % LOG_QUEUE_MAX];
}

static void
log_drop_front(struct sup_log *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n && l->len > 0; i++) {
		l->bytes -= log_at(l, 0)->size;
		log_entry_clear(log_at(l, 0));
		l->head = (l->head + 1) % LOG_QUEUE_MAX;
		l->len--;
	}
}

static void	log_flush(uv_timer_t *);
static void	log_push(struct sup *);
static void	log_queue(struct sup *, int64_t, enum os_log_level,
		    const char *, const char *);

/* 0, or -errno with *done saying how much went before it failed. */
static int
log_write_all(int fd, const char *p, size_t n, size_t *done)
{
	ssize_t	w;

	for (*done = 0; *done < n; *done += (size_t)w) {
		w = write(fd, p + *done, n - *done);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
	}
	return 0;
}

static uint64_t
log_count_lines(const char *p, size_t n)
{
	const char	*end = p + n;
	uint64_t	 k = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

/* `<time> <level> <target>: <line>` and a newline, appended to out. */
static void
log_format_file(struct sup_log *l, struct os_buf *out, int64_t ts,
    enum os_log_level level, const char *target, const char *line)
{
	time_t		t = (time_t)(ts / 1000);
	int		ms = (int)(ts % 1000);
	const char	*name = os_log_level_name(level);
	char		frac[8];
	size_t		w;

	/* A busy relay logs thousands of lines a second: the date is
	 * formatted once per second, the rest is appended as it is. */
	if (t != l->stamp_t || l->stamp[0] == '\0') {
		struct tm	tm;

		gmtime_r(&t, &tm);
		snprintf(l->stamp, sizeof l->stamp, "%04d-%02d-%02dT%02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		l->stamp_t = t;
	}
	frac[0] = '.';
	frac[1] = (char)('0' + ms / 100);
	frac[2] = (char)('0' + ms / 10 % 10);
	frac[3] = (char)('0' + ms % 10);
	frac[4] = 'Z';
	frac[5] = ' ';
	frac[6] = '\0';
	os_buf_adds(out, l->stamp);
	os_buf_adds(out, frac);
	os_buf_adds(out, name);
	for (w = strlen(name); w < 5; w++)    /* as %-5s */
		os_buf_addc(out, ' ');
	os_buf_addc(out, ' ');
	os_buf_adds(out, target);
	os_buf_adds(out, ": ");
	os_buf_adds(out, line);
	os_buf_addc(out, '\n');
}

/* `event=log_file_dropped count=N reason="..."`: the lines the file
 * missed, said in it before the lines that follow them. */
static void
log_file_note(struct sup_log *l, struct os_buf *kv)
{
	char	num[24];

	snprintf(num, sizeof num, "%llu", (unsigned long long)l->file_lost);
	os_buf_kv(kv, "event", "log_file_dropped");
	os_buf_kv(kv, "count", num);
	os_buf_kv(kv, "reason", strerror(l->file_errno));
}

/*
 * openshell.log becomes openshell.log.1 (replacing the one before) and a
 * new file starts, its first line saying so (into prefix). If the new
 * file cannot be made, the old one stays where it was.
 */
static void
log_file_rotate(struct sup_log *l, int64_t ts, struct os_buf *prefix)
{
	struct os_buf	 note = OS_BUF_INIT;
	char		*old, num[24];
	int		 fd = -1;

	old = xprintf("%s.1", l->path);
	if (rename(l->path, old) < 0) {
		free(old);
		return;
	}
	if ((fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) < 0) {
		(void)rename(old, l->path);
		free(old);
		return;
	}
	close(l->fd);
	l->fd = fd;
	l->file_size = 0;
	l->file_midline = false;
	snprintf(num, sizeof num, "%llu",
	    (unsigned long long)(l->file_max >> 20));
	os_buf_kv(&note, "event", "log_file_rotated");
	os_buf_kv(&note, "previous", "/var/log/openshell.log.1");
	os_buf_kv(&note, "max_mb", num);
	log_format_file(l, prefix, ts, OS_LOG_INFO, "supervisor",
	    os_buf_str(&note));
	os_buf_free(&note);
	free(old);
}

/*
 * Written out on the flush timer, or sooner when much is waiting: one
 * write(2) per batch, not per decision line, rotated at file_max. When
 * writes fail (a full disk), the lines are counted and the gateway is
 * told once; the file is told how many it missed when it takes lines
 * again.
 */
static void
log_file_flush(struct sup *s)
{
	struct sup_log	*l = s->log;
	struct os_buf	 all = OS_BUF_INIT, note = OS_BUF_INIT;
	struct os_buf	 b = OS_BUF_INIT, *out = &l->file;
	int64_t		 ts = os_now_ms();
	size_t		 done, pre, from;
	int		 rc;

	if (l->fd < 0 || l->file.len == 0) {
		os_buf_reset(&l->file);
		return;
	}
	if (l->file_max > 0 && l->file_size > 0 &&
	    l->file_size + l->file.len > l->file_max)
		log_file_rotate(l, ts, &all);
	if (l->file_lost > 0) {
		log_file_note(l, &note);
		if (l->file_midline)
			os_buf_addc(&all, '\n');
		log_format_file(l, &all, ts, OS_LOG_WARN, "supervisor",
		    os_buf_str(&note));
	}
	if (all.len > 0) {
		os_buf_add(&all, l->file.data, l->file.len);
		out = &all;
	}
	pre = out->len - l->file.len;
	rc = log_write_all(l->fd, out->data, out->len, &done);
	l->file_size += done;
	if (rc == 0) {
		if (l->file_lost > 0)
			log_queue(s, ts, OS_LOG_WARN, "supervisor",
			    os_buf_str(&note));
		l->file_lost = 0;
		l->file_errno = 0;
		l->file_midline = false;
	} else {
		if (done > 0)
			l->file_midline = out->data[done - 1] != '\n';
		/* Lines not written whole are lost; a note that did not go
		 * is written again next time, with them in its count. */
		from = done > pre ? done - pre : 0;
		l->file_lost += log_count_lines(l->file.data + from,
		    l->file.len - from);
		if (l->file_errno == 0) {
			os_buf_kv(&b, "event", "log_file_failed");
			os_buf_kv(&b, "path", "/var/log/openshell.log");
			os_buf_kv(&b, "error", strerror(-rc));
			log_queue(s, ts, OS_LOG_WARN, "supervisor", os_buf_str(&b));
			os_buf_free(&b);
		}
		l->file_errno = -rc;
	}
	os_buf_free(&note);
	os_buf_free(&all);
	os_buf_reset(&l->file);
}

static void
log_write_file(struct sup *s, int64_t ts, enum os_log_level level,
    const char *target, const char *line)
{
	struct sup_log	*l = s->log;

	if (l->fd < 0)
		return;
	log_format_file(l, &l->file, ts, level, target, line);
	if (l->file.len >= LOG_FILE_BUF)
		log_file_flush(s);
}

int
sup_log_open(struct sup *s, struct os_error *err)
{
	struct sup_log	*l;
	struct stat	 st;
	char		*dir, *path;
	int		 rc;

	l = xcalloc(1, sizeof *l);
	l->q = xcalloc(LOG_QUEUE_MAX, sizeof *l->q);
	l->push_level = OS_LOG_INFO;
	l->fd = -1;
	l->file_max = LOG_FILE_MAX_DEFAULT;
	s->log = l;
	dir = sup_path(s, "log");
	/* Agents may read their own log (it is their /var/log). */
	rc = sup_mkdir(dir, 0755, err);
	path = xprintf("%s/openshell.log", dir);
	free(dir);
	if (rc == 0 && (l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0644)) < 0)
		rc = os_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (rc == 0 && fstat(l->fd, &st) == 0)
		l->file_size = (uint64_t)st.st_size;
	l->path = path;
	return rc;
}

/* Queued for the gateway alone. */
static void
log_queue(struct sup *s, int64_t ts, enum os_log_level level,
    const char *target, const char *line)
{
	struct sup_log		*l = s->log;
	struct sup_log_entry	*e;

	if (level > l->push_level)
		return;
	if (l->len == LOG_QUEUE_MAX) {
		l->dropped++;
		/* What is on the wire stays; otherwise the oldest line goes. */
		if (l->inflight > 0)
			return;
		log_drop_front(l, 1);
	}
	e = log_at(l, l->len++);
	e->ts_ms = ts;
	e->level = level;
	e->target = xstrdup(target);
	e->line = xstrdup(line);
	e->size = strlen(target) + strlen(line) + 32;
	l->bytes += e->size;
	if (!l->timer_live) {
		uv_timer_init(s->uv, &l->timer);
		l->timer.data = s;
		l->timer_live = true;
		uv_timer_start(&l->timer, log_flush, LOG_FLUSH_MS, LOG_FLUSH_MS);
	}
}

void
sup_log_line(struct sup *s, enum os_log_level level, const char *target,
    const char *line)
{
	int64_t	ts = os_now_ms();

	if (s->log == NULL)
		return;
	log_write_file(s, ts, level, target, line);
	log_debug("%s: %s", target, line);
	log_queue(s, ts, level, target, line);
}

void
sup_logf(struct sup *s, enum os_log_level level, const char *target,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	va_start(ap, fmt);
	line = xvprintf(fmt, ap);
	va_end(ap);
	sup_log_line(s, level, target, line);
	free(line);
}

static void
log_push_done(struct os_rpc_ccall *c, grpc_status_code st, const char *details,
    void *arg)
{
	struct sup	*s = arg;
	struct sup_log	*l = s->log;

	if (l == NULL)
		return;
	if (st == GRPC_STATUS_OK) {
		log_drop_front(l, l->inflight);
		l->retry_ms = 0;
	} else if (st == GRPC_STATUS_INVALID_ARGUMENT ||
	    st == GRPC_STATUS_RESOURCE_EXHAUSTED) {
		/* Sent again it would be refused again, with every later
		 * line queued behind it: it goes, and says so. */
		l->refused += l->inflight;
		free(l->refused_why);
		l->refused_why = xprintf("%s: %s", os_rpc_status_name(st),
		    details != NULL ? details : "");
		log_drop_front(l, l->inflight);
	} else {
		/* The gateway could not take them (say its disk is full): they
		 * wait, and so does the next try, up to a few seconds. */
		l->retry_ms = l->retry_ms == 0 ? LOG_FLUSH_MS :
		    sup_backoff_next(l->retry_ms, LOG_RETRY_MAX_MS);
		l->retry_at = os_now_ms() + l->retry_ms;
		log_debug("log push failed (%s: %s); will retry in %lld ms",
		    os_rpc_status_name(st), details, (long long)l->retry_ms);
	}
	l->inflight = 0;
	/* A full batch waiting goes now: a busy sandbox logs faster than one
	 * batch per flush interval. Smaller rests wait for the timer. */
	if (st == GRPC_STATUS_OK &&
	    (l->len >= LOG_BATCH || l->bytes >= LOG_BATCH_BYTES))
		log_push(s);
}

static void
log_push_message(struct os_rpc_ccall *c, const ProtobufCMessage *m, void *arg)
{
}

static void
log_flush(uv_timer_t *t)
{
	struct sup	*s = t->data;

	log_file_flush(s);
	log_push(s);
}

/* `event=log_dropped count=N reason="..."`, itself a line to push. */
static void
log_note_dropped(struct sup *s, uint64_t count, const char *reason)
{
	struct os_buf	b = OS_BUF_INIT;
	char		num[24];

	snprintf(num, sizeof num, "%llu", (unsigned long long)count);
	os_buf_kv(&b, "event", "log_dropped");
	os_buf_kv(&b, "count", num);
	os_buf_kv(&b, "reason", reason);
	sup_log_line(s, OS_LOG_WARN, "supervisor", os_buf_str(&b));
	os_buf_free(&b);
}

static void
log_push(struct sup *s)
{
	static const struct os_rpc_ccall_ops ops = {
		log_push_message, log_push_done, NULL,
	};
	struct sup_log				*l = s->log;
	Openshell__V1__PushSandboxLogsRequest	 req =
	    OPENSHELL__V1__PUSH_SANDBOX_LOGS_REQUEST__INIT;
	Openshell__V1__SandboxLogLine		*lines, **ptrs;
	struct os_rpc_ccall			*c;
	size_t					 n, i, bytes;
	uint64_t				 count;
	char					*msg;

	/* A refused batch may have taken every line with it: its note
	 * still goes. */
	if (l->inflight > 0 || !s->connected ||
	    (l->len == 0 && l->dropped == 0 && l->refused == 0) ||
	    (l->retry_ms > 0 && os_now_ms() < l->retry_at))
		return;
	/* Room for both notes, made first so that the lines that go for
	 * them are in the first note's count, not in a note of their own. */
	if (l->dropped > 0 || l->refused > 0) {
		while (l->len > LOG_QUEUE_MAX - 2) {
			log_drop_front(l, 1);
			l->dropped++;
		}
	}
	if ((count = l->dropped) > 0) {
		l->dropped = 0;
		log_note_dropped(s, count, "the queue was full: the gateway "
		    "was unreachable or took lines slower than the sandbox wrote "
		    "them");
	}
	if ((count = l->refused) > 0) {
		l->refused = 0;
		msg = xprintf("the gateway refused the batch (%s)",
		    l->refused_why != NULL ? l->refused_why : "");
		log_note_dropped(s, count, msg);
		free(msg);
	}
	/* The notes are warnings: a push level of error leaves them out. */
	if (l->len == 0)
		return;
	/* At least one line, however long. */
	for (n = 1, bytes = log_at(l, 0)->size; n < l->len && n < LOG_BATCH &&
	    bytes + log_at(l, n)->size <= LOG_BATCH_BYTES; n++)
		bytes += log_at(l, n)->size;
	lines = xcalloc(n, sizeof *lines);
	ptrs = xcalloc(n, sizeof *ptrs);
	for (i = 0; i < n; i++) {
		struct sup_log_entry *e = log_at(l, i);

		/* The request names the sandbox; each line need not. */
		openshell__v1__sandbox_log_line__init(&lines[i]);
		lines[i].timestamp_ms = e->ts_ms;
		lines[i].level = (char *)os_log_level_name(e->level);
		lines[i].target = e->target;
		lines[i].message = e->line;
		lines[i].source = (char *)"sandbox";
		ptrs[i] = &lines[i];
	}
	req.sandbox_id = s->id;
	req.lines = ptrs;
	req.n_lines = n;
	l->inflight = n;
	c = os_rpc_ccall_start(&s->loop, s->ch,
	    "/openshell.v1.OpenShell/PushSandboxLogs", s->token, 10000,
	    &openshell__v1__push_sandbox_logs_response__descriptor, &ops, s);
	os_rpc_ccall_send(c, &req.base);
	os_rpc_ccall_close_send(c);
	free(ptrs);
	free(lines);
}

void
sup_log_set_push_level(struct sup *s, const char *level)
{
	enum os_log_level	l;

	if (s->log != NULL && os_log_level_parse(level, &l) == 0)
		s->log->push_level = l;
}

void
sup_log_set_file_max(struct sup *s, uint64_t bytes)
{
	if (s->log != NULL)
		s->log->file_max = bytes;
}

void
sup_log_close(struct sup *s)
{
	struct sup_log	*l = s->log;

	if (l == NULL)
		return;
	if (l->timer_live) {
		uv_timer_stop(&l->timer);
		uv_close((uv_handle_t *)&l->timer, NULL);
	}
	log_file_flush(s);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	/* Entries stay until the loop is gone: a push may still be in flight. */
}

void
sup_log_free(struct sup *s)
{
	struct sup_log	*l = s->log;

	if (l == NULL)
		return;
	log_drop_front(l, l->len);
	free(l->refused_why);
	free(l->path);
	os_buf_free(&l->file);
	free(l->q);
	free(l);
	s->log = NULL;
}
