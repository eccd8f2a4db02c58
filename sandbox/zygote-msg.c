/*
 * Framing between the supervisor and the sandbox's init: one protobuf
 * message per SOCK_SEQPACKET record (the socket keeps the boundaries),
 * with file descriptors riding along as SCM_RIGHTS.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox.h"

#define ZMSG_MAX (1024 * 1024)
#define ZMSG_MAXFDS 8

int
zmsg_send(int fd, const ProtobufCMessage *m, const int *fds, size_t nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		char		buf[CMSG_SPACE(sizeof (int) * ZMSG_MAXFDS)];
		struct cmsghdr	align;
	} u;
	uint8_t		*buf;
	size_t		 len;
	ssize_t		 n;

	if (nfds > ZMSG_MAXFDS)
		return -EINVAL;
	len = protobuf_c_message_get_packed_size(m);
	if (len > ZMSG_MAX)
		return -EMSGSIZE;
	buf = xmalloc(len + 1);
	protobuf_c_message_pack(m, buf);
	memset(&mh, 0, sizeof mh);
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof (int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof (int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof (int) * nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	free(buf);
	if (n < 0)
		return -errno;
	return 0;
}

int
zmsg_recv(int fd, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out,
    int *fds, size_t maxfds, size_t *nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		char		buf[CMSG_SPACE(sizeof (int) * ZMSG_MAXFDS)];
		struct cmsghdr	align;
	} u;
	uint8_t		*buf;
	ssize_t		 n;
	size_t		 got = 0, i, k;
	int		*p;

	*out = NULL;
	if (nfds != NULL)
		*nfds = 0;
	buf = xmalloc(ZMSG_MAX);
	memset(&mh, 0, sizeof mh);
	iov.iov_base = buf;
	iov.iov_len = ZMSG_MAX;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof u.buf;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		free(buf);
		return n == 0 ? 0 : -errno;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof (int);
		p = (int *)CMSG_DATA(cm);
		for (i = 0; i < k; i++) {
			if (fds != NULL && got < maxfds)
				fds[got++] = p[i];
			else
				close(p[i]);     /* more than the caller expects */
		}
	}
	if (nfds != NULL)
		*nfds = got;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (*out = protobuf_c_message_unpack(d, NULL, (size_t)n, buf)) == NULL) {
		free(buf);
		for (i = 0; i < got; i++)
			close(fds[i]);
		if (nfds != NULL)
			*nfds = 0;
		return -EBADMSG;
	}
	free(buf);
	return 1;
}
