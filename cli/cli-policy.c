/*
 * openshell policy: validate, fmt and explain work on a local file; the
 * subcommands that talk to a gateway (set, get, list) live in
 * cli-revisions.c and share the table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int	policy_validate(int, char **);
static int	policy_fmt(int, char **);
static int	policy_explain(int, char **);

static const struct cli_command policy_commands[] = {
	{ "validate", N_("check a policy file and report every problem"),
	    policy_validate },
	{ "fmt", N_("print a policy file in canonical form"), policy_fmt },
	{ "explain", N_("describe in words what a policy file allows"),
	    policy_explain },
	{ "set", N_("replace a sandbox's base policy (a new revision)"),
	    cli_policy_set },
	{ "get", N_("show a sandbox's policy revision"), cli_policy_get },
	{ "list", N_("list a sandbox's policy revisions"), cli_policy_list },
};

static void
policy_usage(FILE *f)
{
	size_t	i;

	fprintf(f, _("usage: openshell policy validate|fmt|explain FILE\n"
	    "       openshell policy set NAME --policy FILE [--wait [--timeout SECONDS]]\n"
	    "       openshell policy get NAME [--version N] [--yaml | --json]\n"
	    "       openshell policy list NAME [--limit N] [--json]\n\n"
	    "subcommands:\n"));
	for (i = 0; i < OS_NELEM(policy_commands); i++)
		fprintf(f, "  %-10s %s\n", policy_commands[i].name,
		    _(policy_commands[i].summary));
	fprintf(f, _("\nFILE may be '-' for standard input. See "
	    "openshell-policy(5) for the format.\n"));
}

int
cli_policy(int argc, char **argv)
{
	return cli_dispatch(policy_commands, OS_NELEM(policy_commands), argc,
	    argv, policy_usage);
}

/*
 * The one FILE argument of a subcommand. Returns -1 with *path set, or the
 * exit status after printing help or a usage message.
 */
static int
policy_file_arg(int argc, char **argv, const char **path)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		policy_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0') {
		cli_errx(_("unknown option '%s'"), argv[1]);
		policy_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (argc != 2) {
		cli_errx(argc < 2 ? _("%s: missing FILE") :
		    _("%s takes one FILE"), argv[0]);
		policy_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	*path = argv[1];
	return -1;
}

/*
 * Reads and loads FILE, printing every diagnostic to stderr. Returns the
 * policy, or NULL when it could not be read or is invalid.
 */
static struct os_policy *
policy_load_file(const char *path)
{
	struct os_diags		 diags = OS_DIAGS_INIT;
	struct os_policy	*p = NULL;
	struct os_error		 err;
	const char		*label;
	size_t			 len;
	char			*text, *msgs;

	os_error_clear(&err);
	if ((text = cli_read_file(path, &len, &err)) == NULL) {
		cli_errx("%s", err.msg);
		return NULL;
	}
	label = strcmp(path, "-") == 0 ? "<stdin>" : path;
	(void)os_policy_load_yaml(text, len, label, &p, NULL, &diags);
	msgs = os_diags_format(&diags);
	fputs(msgs, stderr);
	free(msgs);
	if (p == NULL && diags.nerrors == 1)
		fprintf(stderr, _("%s: invalid (1 error)\n"), label);
	else if (p == NULL)
		fprintf(stderr, _("%s: invalid (%zu errors)\n"), label,
		    diags.nerrors);
	os_diags_free(&diags);
	free(text);
	return p;
}

static int
policy_validate(int argc, char **argv)
{
	struct os_policy	*p;
	const char		*path = NULL;
	char			 hash[65];
	int			 rc;

	if ((rc = policy_file_arg(argc, argv, &path)) >= 0)
		return rc;
	if ((p = policy_load_file(path)) == NULL)
		return CLI_EXIT_FAIL;
	os_policy_hash(p, hash);
	hash[12] = '\0';
	if (p->nrules == 1)
		printf(_("%s: valid (1 network policy, sha256:%s)\n"),
		    strcmp(path, "-") == 0 ? "<stdin>" : path, hash);
	else
		printf(_("%s: valid (%zu network policies, sha256:%s)\n"),
		    strcmp(path, "-") == 0 ? "<stdin>" : path, p->nrules, hash);
	os_policy_free(p);
	return CLI_EXIT_OK;
}

static int
policy_fmt(int argc, char **argv)
{
	struct os_policy	*p;
	const char		*path = NULL;
	char			*y;
	int			 rc;

	if ((rc = policy_file_arg(argc, argv, &path)) >= 0)
		return rc;
	if ((p = policy_load_file(path)) == NULL)
		return CLI_EXIT_FAIL;
	y = os_policy_to_yaml(p);
	fputs(y, stdout);
	free(y);
	os_policy_free(p);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------
 * explain
 */

/* Strings from a policy, safe on a terminal. */
static void
put_safe(const char *s)
{
	char	*e;

	if (s == NULL)
		return;
	e = cli_safe(s);
	fputs(e, stdout);
	free(e);
}

static const char *
access_methods(enum os_access a)
{
	switch (a) {
	case OS_ACCESS_READ_ONLY:
		return "GET, HEAD, OPTIONS";
	case OS_ACCESS_READ_WRITE:
		return "GET, HEAD, OPTIONS, POST, PUT, PATCH";
	case OS_ACCESS_FULL:
		return _("any method");
	case OS_ACCESS_NONE:
		break;
	}
	return "";
}

static void
explain_l7_rule(const struct os_l7_rule *r)
{
	size_t	i, j;

	printf("          ");
	put_safe(r->method != NULL && strcmp(r->method, "*") != 0 ?
	    r->method : _("any method"));
	putchar(' ');
	put_safe(r->path != NULL && strcmp(r->path, "**") != 0 &&
	    strcmp(r->path, "/**") != 0 ? r->path : _("any path"));
	for (i = 0; i < r->nquery; i++) {
		printf(i == 0 ? _(" where ") : _(" and "));
		put_safe(r->query[i].key);
		printf(r->query[i].nglobs > 1 ? _(" matches one of ") :
		    _(" matches "));
		for (j = 0; j < r->query[i].nglobs; j++) {
			if (j != 0)
				printf(", ");
			putchar('\'');
			put_safe(r->query[i].globs[j]);
			putchar('\'');
		}
	}
	putchar('\n');
}

static void
explain_endpoint(const struct os_endpoint *e)
{
	size_t	i;

	printf("      ");
	if (e->host == NULL || *e->host == '\0')
		printf(_("any host"));
	else
		put_safe(e->host);
	printf(e->nports == 1 ? _(" port ") : _(" ports "));
	for (i = 0; i < e->nports; i++)
		printf("%s%u", i == 0 ? "" : ",", (unsigned)e->ports[i]);
	if (e->advisor_proposed)
		printf(_(" (proposed by the advisor)"));
	putchar('\n');
	if (os_endpoint_is_wildcard(e))
		printf(_("        matches every name one label below '%s' (not "
		    "the domain itself)\n"), e->host + 2);
	if (e->protocol == OS_PROTOCOL_NONE) {
		printf(_("        L4 only: once connected, traffic is not "
		    "inspected\n"));
		if (e->tls == OS_TLS_SKIP)
			printf(_("        TLS is relayed as is (not terminated)\n"));
		else if (e->tls == OS_TLS_TERMINATE)
			printf(_("        TLS is terminated by the proxy\n"));
	} else {
		printf(_("        TLS is terminated; every HTTP request is "
		    "inspected (L7)\n"));
		if (e->enforcement == OS_ENFORCE_AUDIT)
			printf(_("        audit: requests the rules do not allow "
			    "are logged but still forwarded\n"));
		else
			printf(_("        enforce: requests the rules do not allow "
			    "are refused (403)\n"));
		if (e->access != OS_ACCESS_NONE)
			printf(_("        access %s: %s on any path\n"),
			    os_access_name(e->access), access_methods(e->access));
		if (e->nrules != 0)
			printf(_("        allows:\n"));
		for (i = 0; i < e->nrules; i++)
			explain_l7_rule(&e->rules[i]);
	}
	if (e->ndeny_rules != 0)
		printf(_("        denies (always, even if allowed above):\n"));
	for (i = 0; i < e->ndeny_rules; i++)
		explain_l7_rule(&e->deny_rules[i]);
	if (e->nallowed_ips != 0) {
		printf(_("        may connect to private addresses in: "));
		for (i = 0; i < e->nallowed_ips; i++) {
			if (i != 0)
				printf(", ");
			put_safe(e->allowed_ips[i]);
		}
		putchar('\n');
	}
}

static void
explain_rule(const struct os_rule *r)
{
	size_t	i;

	printf("  ");
	put_safe(os_rule_display_name(r));
	if (r->name != NULL && *r->name != '\0') {
		printf(" [");
		put_safe(r->key);
		putchar(']');
	}
	putchar('\n');
	printf(_("    binaries: "));
	for (i = 0; i < r->nbinaries; i++) {
		if (i != 0)
			printf(", ");
		if (strcmp(r->binaries[i].path, "/**") == 0)
			printf(_("any binary"));
		else
			put_safe(r->binaries[i].path);
		if (r->binaries[i].advisor_proposed)
			printf(_(" (proposed by the advisor)"));
	}
	printf(_("\n    may connect to:\n"));
	for (i = 0; i < r->nendpoints; i++)
		explain_endpoint(&r->endpoints[i]);
}

static void
explain_paths(const char *label, char *const *v, size_t n, bool workdir)
{
	size_t	i;

	printf("  %s", label);
	if (n == 0 && !workdir)
		printf(_("(none)"));
	for (i = 0; i < n; i++) {
		if (i != 0)
			putchar(' ');
		put_safe(v[i]);
	}
	if (workdir)
		printf(n != 0 ? _(" (and the working directory)") :
		    _("the working directory"));
	putchar('\n');
}

static int
policy_explain(int argc, char **argv)
{
	struct os_policy	*p;
	const char		*path = NULL;
	char			 hash[65];
	size_t			 i;
	int			 rc;

	if ((rc = policy_file_arg(argc, argv, &path)) >= 0)
		return rc;
	if ((p = policy_load_file(path)) == NULL)
		return CLI_EXIT_FAIL;
	os_policy_hash(p, hash);
	hash[12] = '\0';
	printf(_("%s: policy version %u, sha256:%s\n\n"),
	    strcmp(path, "-") == 0 ? "<stdin>" : path, (unsigned)p->version,
	    hash);

	printf(_("Static sections (changing them needs a new sandbox):\n"));
	if (p->has_filesystem) {
		printf(_("  Filesystem (Landlock): everything else is out of "
		    "reach\n"));
		explain_paths(_("  read-only:  "), p->filesystem.read_only,
		    p->filesystem.nread_only, false);
		explain_paths(_("  read-write: "), p->filesystem.read_write,
		    p->filesystem.nread_write, p->filesystem.include_workdir);
	} else
		printf(_("  Filesystem: not set (the sandbox defaults)\n"));
	if (p->has_landlock)
		printf(p->landlock == OS_LANDLOCK_HARD_REQUIREMENT ?
		    _("  Landlock: hard requirement (the sandbox refuses to "
		    "start without it)\n") :
		    _("  Landlock: best effort (used where the kernel has "
		    "it)\n"));
	else
		printf(_("  Landlock: not set (best effort)\n"));
	if (p->has_process && (p->run_as_user != NULL ||
	    p->run_as_group != NULL)) {
		printf(_("  Process: runs as user "));
		put_safe(p->run_as_user != NULL ? p->run_as_user :
		    _("(default)"));
		printf(_(", group "));
		put_safe(p->run_as_group != NULL ? p->run_as_group :
		    _("(default)"));
		putchar('\n');
	} else
		printf(_("  Process: not set (the sandbox user; never root)\n"));

	printf(_("\nNetwork (default deny: nothing else may connect out):\n"));
	if (p->nrules == 0)
		printf(_("  no network policies: every connection is denied\n"));
	for (i = 0; i < p->nrules; i++)
		explain_rule(&p->rules[i]);
	os_policy_free(p);
	return CLI_EXIT_OK;
}
