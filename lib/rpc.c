/* gRPC helpers: protobuf-c <-> byte buffers, deadlines, metadata, logging. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <grpc/support/log.h>

#include "os-rpc.h"

grpc_byte_buffer *
os_rpc_pack(const ProtobufCMessage *m)
{
	grpc_byte_buffer	*bb;
	grpc_slice		 s;
	size_t			 len;

	len = protobuf_c_message_get_packed_size(m);
	s = grpc_slice_malloc(len);
	protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);  /* takes its own ref */
	grpc_slice_unref(s);
	return bb;
}

ProtobufCMessage *
os_rpc_unpack(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader	 r;
	ProtobufCMessage	*m;
	grpc_slice		 s;

	if (bb == NULL || !grpc_byte_buffer_reader_init(&r, bb))
		return NULL;
	s = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(s),
	    GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	return m;
}

char *
os_rpc_method_path(const ProtobufCServiceDescriptor *sd, const char *method)
{
	return xprintf("/%s/%s", sd->name, method);
}

gpr_timespec
os_rpc_deadline_ms(int64_t ms)
{
	if (ms <= 0)
		return gpr_inf_future(GPR_CLOCK_MONOTONIC);
	return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
	    gpr_time_from_millis(ms, GPR_TIMESPAN));
}

const char *
os_rpc_status_name(grpc_status_code code)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
		"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
		"UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
	};

	if ((unsigned)code < OS_NELEM(names))
		return names[code];
	return "UNKNOWN";
}

char *
os_rpc_metadata_get(const grpc_metadata_array *md, const char *key)
{
	size_t	i;

	if (md == NULL)
		return NULL;
	for (i = 0; i < md->count; i++) {
		if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0) {
			return xstrndup(
			    (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value),
			    GRPC_SLICE_LENGTH(md->metadata[i].value));
		}
	}
	return NULL;
}

char *
os_rpc_bearer_token(const grpc_metadata_array *md)
{
	char	*v, *t;

	if ((v = os_rpc_metadata_get(md, "authorization")) == NULL)
		return NULL;
	if (strncasecmp(v, "Bearer ", 7) != 0) {
		free(v);
		return NULL;
	}
	t = xstrdup(v + 7);
	free(v);
	return t;
}

static void
rpc_log(gpr_log_func_args *args)
{
	/* gRPC logs handshake failures and the like at ERROR: they are
	 * about a peer, not about us, so they are warnings here. */
	switch (args->severity) {
	case GPR_LOG_SEVERITY_ERROR:
		log_warn("grpc: %s", args->message);
		break;
	case GPR_LOG_SEVERITY_INFO:
		log_debug("grpc: %s", args->message);
		break;
	default:
		log_debug("grpc: %s", args->message);
		break;
	}
}

void
os_rpc_log_init(void)
{
	gpr_set_log_function(rpc_log);
	if (getenv("GRPC_VERBOSITY") == NULL)
		gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
}
