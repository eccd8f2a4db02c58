/* openshell: the operator's command-line tool. Dispatches subcommands. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const struct cli_command cli_commands[] = {
	{ "policy", N_("validate, format, set and inspect policies"), cli_policy },
};

void
cli_errx(const char *fmt, ...)
{
	va_list	ap;

	fputs("openshell: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
	return os_buf_steal(&b);
}

static void
cli_usage(FILE *f)
{
	size_t	i;

	fprintf(f, _("usage: openshell COMMAND [ARGS...]\n\ncommands:\n"));
	for (i = 0; i < OS_NELEM(cli_commands); i++)
		fprintf(f, "  %-10s %s\n", cli_commands[i].name,
		    _(cli_commands[i].summary));
	fprintf(f, _("\nSee openshell(1) for details.\n"));
}

int
main(int argc, char **argv)
{
	size_t	i;

	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	bindtextdomain(PACKAGE, LOCALEDIR);
	textdomain(PACKAGE);
#endif
	if (argc < 2) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("openshell %s\n", PACKAGE_VERSION);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < OS_NELEM(cli_commands); i++) {
		if (strcmp(argv[1], cli_commands[i].name) == 0)
			return cli_commands[i].run(argc - 1, argv + 1);
	}
	cli_errx(_("unknown command '%s' (try 'openshell --help')"), argv[1]);
	return CLI_EXIT_USAGE;
}
