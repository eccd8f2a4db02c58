/* openshell: the operator's command-line tool. Global options, dispatch. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct cli_globals cli_g;

static const struct cli_command cli_commands[] = {
	{ "gateway", N_("start, stop and inspect the control plane"), cli_gateway },
	{ "sandbox", N_("create, enter, list and delete sandboxes"), cli_sandbox },
	{ "policy", N_("validate, format, set and inspect policies"), cli_policy },
	{ "logs", N_("show a sandbox's decisions and events"), cli_logs },
	{ "settings", N_("list, show and change settings"), cli_settings },
};

void
cli_errx(const char *fmt, ...)
{
	struct os_buf	 b = OS_BUF_INIT;
	va_list		 ap;
	char		*msg, *safe;
	int		 n;

	/* One line, whatever the message quotes (a sandbox's error text). */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	va_start(ap, fmt);
	vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
	va_end(ap);
	safe = cli_safe(msg);
	os_buf_addf(&b, "openshell: %s\n", safe);
	fwrite(b.data, 1, b.len, stderr);
	os_buf_free(&b);
	free(safe);
	free(msg);
}

char *
cli_read_file(const char *path, size_t *len, struct os_error *err)
{
	struct os_buf	b = OS_BUF_INIT;
	char		chunk[65536];
	ssize_t		n;
	int		fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		os_error_set(err, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			os_error_set(err, -errno, "%s: %s", path, strerror(errno));
			if (fd != STDIN_FILENO)
				close(fd);
			os_buf_free(&b);
			return NULL;
		}
		if (n == 0)
			break;
		os_buf_add(&b, chunk, (size_t)n);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*len = b.len;
	if (b.data == NULL)
		return xstrdup("");
	return os_buf_steal(&b);
}

char *
cli_abspath(const char *path)
{
	char	cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	return xprintf("%s/%s", cwd, path);
}

char *
cli_state_dir(void)
{
	char	*d, *abs;

	d = cli_g.state_dir != NULL ? xstrdup(cli_g.state_dir) :
	    os_default_state_dir();
	abs = cli_abspath(d);
	free(d);
	return abs;
}

bool
cli_wants_help(int argc, char **argv)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

int
cli_dispatch(const struct cli_command *table, size_t n, int argc, char **argv,
    void (*usage)(FILE *))
{
	size_t	i;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(argv[1], table[i].name) == 0)
			return table[i].run(argc - 1, argv + 1);
	}
	cli_errx(_("unknown %s subcommand '%s'"), argv[0], argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}

static void
cli_usage(FILE *f)
{
	size_t	i;

	fprintf(f, _("usage: openshell [--state-dir DIR] [--gateway HOST:PORT] "
	    "[--tls-dir DIR] COMMAND [ARGS...]\n\ncommands:\n"));
	for (i = 0; i < OS_NELEM(cli_commands); i++)
		fprintf(f, "  %-10s %s\n", cli_commands[i].name,
		    _(cli_commands[i].summary));
	fprintf(f, _("\n'openshell COMMAND --help' lists a command's subcommands. "
	    "See openshell(1).\n"));
}

static void
cli_find_progdir(void)
{
	static char	self[PATH_MAX];
	char		*slash;
	ssize_t		 n;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	cli_g.progdir = self;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "tls-dir", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*e;
	size_t		 i;
	int		 c;

	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	{
		/* Catalogs from elsewhere, e.g. a build tree (tests). */
		const char *dir = secure_getenv("OPENSHELL_LOCALEDIR");

		bindtextdomain(PACKAGE, dir != NULL && *dir != '\0' ? dir :
		    LOCALEDIR);
	}
	textdomain(PACKAGE);
#endif
	/* A closed pipe (`openshell logs | head`) must not kill us mid-call. */
	signal(SIGPIPE, SIG_IGN);
	cli_find_progdir();
	if ((e = getenv("OPENSHELL_GATEWAY")) != NULL && *e != '\0')
		cli_g.gateway = e;
	if ((e = getenv("OPENSHELL_TLS_DIR")) != NULL && *e != '\0')
		cli_g.tls_dir = e;
	/* '+': stop at the command; its own options are its business. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cli_g.state_dir = optarg;
			break;
		case 'g':
			cli_g.gateway = optarg;
			break;
		case 't':
			cli_g.tls_dir = optarg;
			break;
		case 'h':
			cli_usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("openshell %s\n", PACKAGE_VERSION);
			return CLI_EXIT_OK;
		default:
			cli_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	optind = 0;     /* subcommands run getopt afresh */
	for (i = 0; i < OS_NELEM(cli_commands); i++) {
		if (strcmp(argv[0], cli_commands[i].name) == 0)
			return cli_commands[i].run(argc, argv);
	}
	cli_errx(_("unknown command '%s' (try 'openshell --help')"), argv[0]);
	return CLI_EXIT_USAGE;
}
