/*
 * The sandbox's network, made by its init inside the fresh network
 * namespace: only `lo`, up. The proxy's listener (127.0.0.1:3128) and the
 * DNS stub's socket (127.0.0.1:53/udp) are created here, in the sandbox's
 * namespace, and handed to the supervisor, which serves them from its own
 * namespace and dials out from there. No veth, no route: a connection
 * that skips the proxy has nowhere to go.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "isolate.h"

static int
net_lo_up(struct os_error *err)
{
	struct ifreq	ifr;
	int		fd, rc = 0;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return os_error_set(err, -errno, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof ifr);
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = os_error_set(err, -errno, "lo: %s", strerror(errno));
	else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			rc = os_error_set(err, -errno, _("bring lo up: %s"),
			    strerror(errno));
	}
	close(fd);
	return rc;
}

/*
 * Everything in this namespace is loopback, where congestion control has
 * nothing to do; a pacing algorithm (BBR, the default on some hosts) only
 * arms a timer for every burst the agent sends the proxy. The namespace's
 * default is its own (net.ipv4.tcp_congestion_control is per namespace),
 * so this leaves the host's choice for the real network alone. It covers
 * both ends: the agent's sockets, and those the proxy accepts on its
 * listener, which is made in this namespace below. Best effort: the
 * default is kept if neither is there.
 */
static void
net_unpaced(void)
{
	static const char *const	 algs[] = { "cubic", "reno" };
	size_t				 i;
	int				 fd;

	fd = open("/proc/sys/net/ipv4/tcp_congestion_control", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < sizeof algs / sizeof algs[0]; i++) {
		if (write(fd, algs[i], strlen(algs[i])) >= 0)
			break;
	}
	close(fd);
}

static int
net_socket(int type, uint16_t port, struct os_error *err)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) < 0)
		return os_error_set(err, -errno, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1024) < 0)) {
		os_error_set(err, -errno, _("127.0.0.1:%u in the sandbox: %s"),
		    (unsigned)port, strerror(errno));
		close(fd);
		return err->code;
	}
	return fd;
}

int
iso_network(const IsoSetup *s, int *proxy_fd, int *dns_fd, struct os_error *err)
{
	int	rc;

	*proxy_fd = *dns_fd = -1;
	if (!s->isolate)
		return 0;
	if ((rc = net_lo_up(err)) != 0)
		return rc;
	net_unpaced();
	if (s->proxy_port != 0 &&
	    (*proxy_fd = net_socket(SOCK_STREAM, (uint16_t)s->proxy_port, err)) < 0)
		return *proxy_fd;
	if (s->dns_stub && (*dns_fd = net_socket(SOCK_DGRAM, 53, err)) < 0) {
		rc = *dns_fd;
		close(*proxy_fd);
		*proxy_fd = *dns_fd = -1;
		return rc;
	}
	return 0;
}
