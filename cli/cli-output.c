/*
 * What the CLI prints: aligned tables for people, JSON for scripts (any
 * protobuf-c message, walked through its descriptor, so every command's
 * --json is the wire message with proto field names), and times.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "cli.h"

struct cli_table {
	size_t	  ncols;
	char	**cells;      /* rows * ncols */
	size_t	  nrows;
};

struct cli_table *
cli_table_new(const char *const *headers, size_t ncols)
{
	struct cli_table	*t;

	t = xcalloc(1, sizeof *t);
	t->ncols = ncols;
	cli_table_add(t, headers);
	return t;
}

/*
 * Text that came from a sandbox (log lines, load errors) is not trusted:
 * on a terminal a control character could forge a line (a newline) or
 * drive the operator's terminal (an escape sequence). C0 and C1 controls
 * and DEL are shown escaped; tabs and all other UTF-8 pass through.
 */
void
cli_buf_add_safe(struct os_buf *b, const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n')
			os_buf_adds(b, "\\n");
		else if (*p == '\r')
			os_buf_adds(b, "\\r");
		else if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			os_buf_addf(b, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			os_buf_addf(b, "\\u%04x", p[1]);
			p++;
		} else
			os_buf_addc(b, (char)*p);
	}
}

char *
cli_safe(const char *s)
{
	struct os_buf	b = OS_BUF_INIT;

	cli_buf_add_safe(&b, s);
	return os_buf_steal(&b);
}

void
cli_table_add(struct cli_table *t, const char *const *cells)
{
	size_t	i;

	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof *t->cells);
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] =
		    cli_safe(cells[i] != NULL && *cells[i] != '\0' ? cells[i] : "-");
	t->nrows++;
}

/* Display width: translated headers and names may be multibyte. */
static size_t
table_width(const char *s)
{
	size_t	n;
	int	w;

	n = mbstowcs(NULL, s, 0);
	if (n == (size_t)-1)
		return strlen(s);
	{
		wchar_t	*ws = xcalloc(n + 1, sizeof *ws);

		mbstowcs(ws, s, n + 1);
		w = wcswidth(ws, n);
		free(ws);
	}
	return w < 0 ? strlen(s) : (size_t)w;
}

void
cli_table_print(struct cli_table *t, FILE *f)
{
	size_t	*width, r, c, w;

	width = xcalloc(t->ncols, sizeof *width);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			w = table_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			fputs(s, f);
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", (int)(width[c] - table_width(s) + 2), "");
		}
		fputc('\n', f);
	}
	for (r = 0; r < t->nrows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	free(width);
	free(t);
}

void
cli_fmt_time(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t;

	if (ms <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	t = (time_t)(ms / 1000);
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void
cli_fmt_duration(int64_t ms, char *buf, size_t len)
{
	int64_t	s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
}

void
cli_fmt_ago(int64_t ms, char *buf, size_t len)
{
	char	d[64];
	int64_t	delta;

	if (ms <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	delta = os_now_ms() - ms;
	cli_fmt_duration(delta < 0 ? -delta : delta, d, sizeof d);
	if (delta < 0)
		snprintf(buf, len, _("in %s"), d);
	else
		snprintf(buf, len, _("%s ago"), d);
}

const char *
cli_phase_name(Openshell__V1__SandboxPhase p)
{
	switch (p) {
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_PROVISIONING:
		return "provisioning";
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_READY:
		return "ready";
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_ERROR:
		return "error";
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_STOPPED:
		return "stopped";
	case OPENSHELL__V1__SANDBOX_PHASE__SANDBOX_PHASE_DELETING:
		return "deleting";
	default:
		return "unknown";
	}
}

const char *
cli_policy_status_name(Openshell__V1__PolicyStatus s)
{
	switch (s) {
	case OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_PENDING:
		return "pending";
	case OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_LOADED:
		return "loaded";
	case OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_FAILED:
		return "failed";
	case OPENSHELL__V1__POLICY_STATUS__POLICY_STATUS_SUPERSEDED:
		return "superseded";
	default:
		return "unknown";
	}
}

/* ------------------------------------------------------------------------
 * JSON
 */
static void json_value(struct os_buf *, const ProtobufCFieldDescriptor *,
	     const void *);

static void
json_base64(struct os_buf *b, const ProtobufCBinaryData *d)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		i;
	uint32_t	v;

	os_buf_addc(b, '"');
	for (i = 0; i + 2 < d->len; i += 3) {
		v = (uint32_t)d->data[i] << 16 | (uint32_t)d->data[i + 1] << 8 |
		    d->data[i + 2];
		os_buf_addc(b, tab[v >> 18 & 63]);
		os_buf_addc(b, tab[v >> 12 & 63]);
		os_buf_addc(b, tab[v >> 6 & 63]);
		os_buf_addc(b, tab[v & 63]);
	}
	if (d->len - i == 1) {
		v = (uint32_t)d->data[i] << 16;
		os_buf_addc(b, tab[v >> 18 & 63]);
		os_buf_addc(b, tab[v >> 12 & 63]);
		os_buf_adds(b, "==");
	} else if (d->len - i == 2) {
		v = (uint32_t)d->data[i] << 16 | (uint32_t)d->data[i + 1] << 8;
		os_buf_addc(b, tab[v >> 18 & 63]);
		os_buf_addc(b, tab[v >> 12 & 63]);
		os_buf_addc(b, tab[v >> 6 & 63]);
		os_buf_addc(b, '=');
	}
	os_buf_addc(b, '"');
}

/* protoc-c turns map<K,V> into repeated FooEntry {key = 1; value = 2}. */
static bool
json_is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor	*d = f->descriptor;

	return f->type == PROTOBUF_C_TYPE_MESSAGE &&
	    f->label == PROTOBUF_C_LABEL_REPEATED && d->n_fields == 2 &&
	    os_str_has_suffix(d->name, "Entry") &&
	    strcmp(d->fields[0].name, "key") == 0 &&
	    strcmp(d->fields[1].name, "value") == 0;
}

static size_t
json_elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

static void
json_value(struct os_buf *b, const ProtobufCFieldDescriptor *f, const void *p)
{
	const ProtobufCEnumValue	*ev;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		os_buf_addf(b, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		os_buf_addf(b, "%u", *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		os_buf_addf(b, "%lld", (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		os_buf_addf(b, "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		os_buf_addf(b, "%g", (double)*(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		os_buf_addf(b, "%g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		os_buf_adds(b, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor,
		    *(const int *)p);
		if (ev != NULL)
			os_buf_json_str(b, ev->name);
		else
			os_buf_addf(b, "%d", *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		os_buf_json_str(b, *(char *const *)p != NULL ? *(char *const *)p : "");
		break;
	case PROTOBUF_C_TYPE_BYTES:
		json_base64(b, p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		if (*(ProtobufCMessage *const *)p == NULL)
			os_buf_adds(b, "null");
		else
			cli_json_message(b, *(ProtobufCMessage *const *)p);
		break;
	}
}

/* proto3: scalars at their default are left out, as the JSON mapping does. */
static bool
json_is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)p == NULL || **(char *const *)p == '\0';
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p == NULL;
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	default: {
		static const char zero[8];

		return memcmp(p, zero, json_elem_size(f)) == 0;
	}
	}
}

void
cli_json_message(struct os_buf *b, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor	*d = m->descriptor;
	const ProtobufCFieldDescriptor		*f;
	const char				*base = (const char *)m;
	bool					 first = true;
	size_t					 i, j, n;

	os_buf_addc(b, '{');
	for (i = 0; i < d->n_fields; i++) {
		f = &d->fields[i];
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			const char *arr = *(char *const *)(base + f->offset);

			n = *(const size_t *)(base + f->quantifier_offset);
			if (n == 0)
				continue;
			if (!first)
				os_buf_addc(b, ',');
			first = false;
			os_buf_json_str(b, f->name);
			os_buf_addc(b, ':');
			if (json_is_map(f)) {
				const ProtobufCFieldDescriptor *kf, *vf;

				kf = &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[0];
				vf = &((const ProtobufCMessageDescriptor *)f->descriptor)->fields[1];
				os_buf_addc(b, '{');
				for (j = 0; j < n; j++) {
					const char *e = ((char *const *)arr)[j];

					if (j != 0)
						os_buf_addc(b, ',');
					if (kf->type == PROTOBUF_C_TYPE_STRING)
						json_value(b, kf, e + kf->offset);
					else {
						os_buf_addc(b, '"');
						json_value(b, kf, e + kf->offset);
						os_buf_addc(b, '"');
					}
					os_buf_addc(b, ':');
					json_value(b, vf, e + vf->offset);
				}
				os_buf_addc(b, '}');
				continue;
			}
			os_buf_addc(b, '[');
			for (j = 0; j < n; j++) {
				if (j != 0)
					os_buf_addc(b, ',');
				json_value(b, f, arr + j * json_elem_size(f));
			}
			os_buf_addc(b, ']');
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
		} else if (json_is_default(f, base + f->offset))
			continue;
		if (!first)
			os_buf_addc(b, ',');
		first = false;
		os_buf_json_str(b, f->name);
		os_buf_addc(b, ':');
		json_value(b, f, base + f->offset);
	}
	os_buf_addc(b, '}');
}

void
cli_print_json(const ProtobufCMessage *m)
{
	struct os_buf	b = OS_BUF_INIT;

	cli_json_message(&b, m);
	os_buf_addc(&b, '\n');
	fwrite(b.data, 1, b.len, stdout);
	os_buf_free(&b);
}
