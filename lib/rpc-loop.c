/*
 * The bridge between gRPC's completion queue and a libuv loop: a thread
 * blocks in grpc_completion_queue_next() and queues each event for the
 * loop thread, which runs the tag callbacks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "os-rpc.h"

static void *
rpc_loop_thread(void *arg)
{
	struct os_rpc_loop	*l = arg;
	grpc_event		 ev;
	struct os_rpc_event	 e;

	for (;;) {
		ev = grpc_completion_queue_next(l->cq,
		    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (ev.type == GRPC_QUEUE_TIMEOUT)
			continue;
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			e.tag = NULL, e.ok = false;
		else
			e.tag = ev.tag, e.ok = ev.success != 0;
		pthread_mutex_lock(&l->mu);
		if (l->nq == l->capq) {
			l->capq = l->capq == 0 ? 64 : l->capq * 2;
			l->q = xreallocarray(l->q, l->capq, sizeof *l->q);
		}
		l->q[l->nq++] = e;
		pthread_mutex_unlock(&l->mu);
		uv_async_send(&l->async);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			return NULL;
	}
}

static void
rpc_loop_async(uv_async_t *a)
{
	struct os_rpc_loop	*l = a->data;
	struct os_rpc_event	*tmp;
	size_t			 n, i, cap;
	bool			 done = false;

	/* uv_async_send coalesces: take everything queued so far. */
	pthread_mutex_lock(&l->mu);
	tmp = l->q;
	n = l->nq;
	cap = l->capq;
	l->q = l->drain;
	l->capq = l->capdrain;
	l->nq = 0;
	l->drain = tmp;
	l->capdrain = cap;
	pthread_mutex_unlock(&l->mu);

	for (i = 0; i < n; i++) {
		if (l->drain[i].tag == NULL) {
			done = true;
			continue;
		}
		l->drain[i].tag->cb(l->drain[i].tag, l->drain[i].ok);
	}
	if (done)
		uv_close((uv_handle_t *)&l->async, NULL);
}

int
os_rpc_loop_init(struct os_rpc_loop *l, uv_loop_t *uv)
{
	int	r;

	memset(l, 0, sizeof *l);
	l->uv = uv;
	l->cq = grpc_completion_queue_create_for_next(NULL);
	pthread_mutex_init(&l->mu, NULL);
	if ((r = uv_async_init(uv, &l->async, rpc_loop_async)) != 0)
		return r;
	l->async.data = l;
	if ((r = pthread_create(&l->thread, NULL, rpc_loop_thread, l)) != 0) {
		uv_close((uv_handle_t *)&l->async, NULL);
		return -r;
	}
	return 0;
}

void
os_rpc_loop_shutdown(struct os_rpc_loop *l)
{
	if (l->shutdown)
		return;
	l->shutdown = true;
	grpc_completion_queue_shutdown(l->cq);
}

void
os_rpc_loop_destroy(struct os_rpc_loop *l)
{
	pthread_join(l->thread, NULL);
	grpc_completion_queue_destroy(l->cq);
	pthread_mutex_destroy(&l->mu);
	free(l->q);
	free(l->drain);
}
