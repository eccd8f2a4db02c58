/* The openshell command: shared declarations of its subcommands. */
#ifndef CLI_H
#define CLI_H

#include "openshell.h"

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

int	 cli_policy(int, char **);

/* Reads a whole file; NULL and a message in err on failure. Caller frees. */
char	*cli_read_file(const char *path, size_t *len, struct os_error *err);
void	 cli_errx(const char *, ...) OS_PRINTF(1, 2);

#endif /* CLI_H */
