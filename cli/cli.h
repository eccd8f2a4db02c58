/* The openshell command: shared declarations of its subcommands. */
#ifndef CLI_H
#define CLI_H

#include "os-rpc.h"

/* Exit codes of the CLI (openshell(1)). */
#define CLI_EXIT_OK		0
#define CLI_EXIT_FAIL		1
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_TIMEOUT	124

struct cli_command {
	const char	*name;
	const char	*summary;
	int		(*run)(int argc, char **argv);
};

/*
 * Options that come before the command (openshell [--state-dir DIR]
 * [--gateway HOST:PORT] [--tls-dir DIR] COMMAND ...), or from the
 * environment (OPENSHELL_STATE_DIR, OPENSHELL_GATEWAY, OPENSHELL_TLS_DIR).
 */
struct cli_globals {
	const char	*state_dir;
	const char	*gateway;     /* NULL = the local unix socket */
	const char	*tls_dir;     /* NULL = <state-dir>/tls */
	const char	*progdir;     /* directory of this executable */
};
extern struct cli_globals cli_g;

int	 cli_policy(int, char **);
int	 cli_policy_set(int, char **);     /* cli-revisions.c */
int	 cli_policy_get(int, char **);
int	 cli_policy_list(int, char **);
int	 cli_gateway(int, char **);
int	 cli_sandbox(int, char **);
int	 cli_logs(int, char **);
int	 cli_settings(int, char **);

/* Runs the subcommand of `table` named by argv[1]; usage() on none. */
int	 cli_dispatch(const struct cli_command *, size_t, int, char **,
	     void (*usage)(FILE *));
/* -h/--help as the only argument: print usage and return true. */
bool	 cli_wants_help(int, char **);

/* Reads a whole file; NULL and a message in err on failure. Caller frees. */
char	*cli_read_file(const char *path, size_t *len, struct os_error *err);
void	 cli_errx(const char *, ...) OS_PRINTF(1, 2);
/* The state directory in effect, absolute (caller frees). */
char	*cli_state_dir(void);
/* Paths handed to daemons must not depend on our working directory. */
char	*cli_abspath(const char *);

/* ------------------------------------------------------------------------
 * Talking to the gateway (cli-conn.c)
 */
struct cli_conn {
	grpc_channel	*ch;
	char		*target;      /* "unix:/var/lib/openshell/gateway.sock" */
	char		*token;       /* operator token; NULL over mTLS */
	char		*state_dir;
};

/* Connects (lazily; the first call fails if nobody listens). Prints the
 * reason and returns CLI_EXIT_FAIL when the credentials are unreadable. */
int	 cli_connect(struct cli_conn *);
void	 cli_conn_close(struct cli_conn *);
/*
 * A unary call to /openshell.v1.OpenShell/<method>. On failure prints a
 * one-line error (saying how to start a gateway when none is running) and
 * returns CLI_EXIT_FAIL; on success CLI_EXIT_OK with *resp set (free with
 * protobuf_c_message_free_unpacked).
 */
int	 cli_call(struct cli_conn *, const char *method,
	     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *,
	     ProtobufCMessage **resp);
/* As cli_call but quiet: the status, and err filled on failure. */
grpc_status_code cli_call_quiet(struct cli_conn *, const char *method,
	     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *,
	     ProtobufCMessage **resp, int64_t timeout_ms, struct os_error *);
/* Prints a failed call's error the way cli_call does. */
void	 cli_report_call_error(const struct cli_conn *, const struct os_error *);
char	*cli_method(const char *method);   /* full path; caller frees */

/*
 * A WatchSandbox stream run to its end on a private loop: `on_event`
 * returns 1 to stop (success), -1 to stop (failure), 0 to go on.
 * Returns CLI_EXIT_OK, CLI_EXIT_FAIL (stream error, printed), or
 * CLI_EXIT_TIMEOUT when `timeout_ms` (> 0) passed first; the value
 * on_event stopped with decides between OK and FAIL.
 */
int	 cli_watch(struct cli_conn *, const Openshell__V1__WatchSandboxRequest *,
	     int (*on_event)(const Openshell__V1__SandboxStreamEvent *, void *),
	     void *arg, int64_t timeout_ms);

/* ------------------------------------------------------------------------
 * Exec sessions (cli-exec.c)
 */
struct cli_exec_opts {
	const char	 *sandbox;
	char *const	 *argv;        /* NULL/0 = a login shell */
	size_t		  argc;
	bool		  tty;         /* a PTY, raw local terminal */
	const char	 *workdir;
	char *const	 *env;         /* KEY=VALUE */
	size_t		  nenv;
};
/* Runs the session; returns the remote exit status (128+signal when
 * killed) or CLI_EXIT_FAIL after printing why it could not run. */
int	 cli_exec_run(struct cli_conn *, const struct cli_exec_opts *);

/* ------------------------------------------------------------------------
 * Output (cli-output.c): tables, times, JSON from any message.
 */
struct cli_table;
struct cli_table *cli_table_new(const char *const *headers, size_t ncols);
void	 cli_table_add(struct cli_table *, const char *const *cells);
void	 cli_table_print(struct cli_table *, FILE *);   /* and frees */
/* Untrusted text for a terminal: controls escaped (\n, \x1b, \u009b). */
void	 cli_buf_add_safe(struct os_buf *, const char *);
char	*cli_safe(const char *);                         /* caller frees */
/* "2026-12-01 09:19:45" in local time; "-" for 0. */
void	 cli_fmt_time(int64_t ms, char *buf, size_t len);
/* "3m ago", "in 2h", "-" for 0. */
void	 cli_fmt_ago(int64_t ms, char *buf, size_t len);
/* "1h 2m 3s" style. */
void	 cli_fmt_duration(int64_t ms, char *buf, size_t len);
/* Any protobuf-c message as one JSON object (proto field names). */
void	 cli_json_message(struct os_buf *, const ProtobufCMessage *);
/* Prints the message as JSON and a newline. */
void	 cli_print_json(const ProtobufCMessage *);
const char *cli_phase_name(Openshell__V1__SandboxPhase);
const char *cli_policy_status_name(Openshell__V1__PolicyStatus);

#endif /* CLI_H */
