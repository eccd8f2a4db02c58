/* Diagnostics: problems in an input, each with its place, field and value. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "openshell.h"

void
os_diags_add(struct os_diags *d, enum os_diag_level level, const char *file,
    unsigned line, unsigned col, const char *field, const char *fmt, ...)
{
	struct os_diag	*g;
	va_list		 ap;

	if (d == NULL)
		return;
	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 8 : d->cap * 2;
		d->v = xreallocarray(d->v, d->cap, sizeof *d->v);
	}
	g = &d->v[d->n++];
	g->level = level;
	g->file = file != NULL ? xstrdup(file) : NULL;
	g->line = line;
	g->col = col;
	g->field = field != NULL && *field != '\0' ? xstrdup(field) : NULL;
	va_start(ap, fmt);
	g->message = xvprintf(fmt, ap);
	va_end(ap);
	if (level == OS_DIAG_ERROR)
		d->nerrors++;
}

void
os_diags_free(struct os_diags *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].field);
		free(d->v[i].message);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

static const char *
diag_level_name(enum os_diag_level level)
{
	switch (level) {
	case OS_DIAG_ERROR:
		return _("error");
	case OS_DIAG_WARNING:
		return _("warning");
	case OS_DIAG_NOTE:
		return _("note");
	}
	return "?";
}

char *
os_diag_format(const struct os_diag *g)
{
	struct os_buf	b = OS_BUF_INIT;

	if (g->file != NULL) {
		os_buf_adds(&b, g->file);
		if (g->line != 0) {
			os_buf_addf(&b, ":%u", g->line);
			if (g->col != 0)
				os_buf_addf(&b, ":%u", g->col);
		}
		os_buf_adds(&b, ": ");
	} else if (g->line != 0) {
		/* TRANSLATORS: a place with no file name: line:column. */
		os_buf_addf(&b, _("line %u:%u"), g->line, g->col);
		os_buf_adds(&b, ": ");
	}
	os_buf_addf(&b, "%s: ", diag_level_name(g->level));
	if (g->field != NULL)
		os_buf_addf(&b, "%s: ", g->field);
	os_buf_adds(&b, g->message);
	return os_buf_steal(&b);
}

char *
os_diags_format(const struct os_diags *d)
{
	struct os_buf	 b = OS_BUF_INIT;
	char		*s;
	size_t		 i;

	for (i = 0; i < d->n; i++) {
		s = os_diag_format(&d->v[i]);
		os_buf_adds(&b, s);
		os_buf_addc(&b, '\n');
		free(s);
	}
	return os_buf_steal(&b);
}

/* Values quoted in messages: control bytes escaped, long ones cut. */
#define DIAG_SHOW_MAX 120

char *
os_diag_show(const char *s)
{
	struct os_buf	b = OS_BUF_INIT;
	size_t		i;

	if (s == NULL)
		return xstrdup("");
	for (i = 0; s[i] != '\0'; i++) {
		if (i == DIAG_SHOW_MAX) {
			os_buf_adds(&b, "...");
			break;
		}
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			os_buf_addf(&b, "\\x%02x", (unsigned char)s[i]);
		else
			os_buf_addc(&b, s[i]);
	}
	if (b.data == NULL)
		return xstrdup("");
	return os_buf_steal(&b);
}
