/* originalDst(fd): the original destination of a socket redirected by iptables (REDIRECT/DNAT), read
 * with getsockopt(SO_ORIGINAL_DST). Returns {address, port, family} or undefined when the socket was
 * not redirected (ENOENT); throws on any other error. IPv4 first (it also answers for IPv4 arriving on a
 * dual-stack socket), then IPv6 (SOL_IPV6, IP6T_SO_ORIGINAL_DST = 80). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s (errno %d)", what, strerror(err), err);
  napi_throw_error(env, "ERR_SO_ORIGINAL_DST", msg);
  return NULL;
}

static napi_value make_result(napi_env env, const char *address, int port, const char *family) {
  napi_value obj, v;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "address", v);
  napi_create_int32(env, port, &v);
  napi_set_named_property(env, obj, "port", v);
  napi_create_string_utf8(env, family, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "family", v);
  return obj;
}

static napi_value original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_value undef;
  char text[INET6_ADDRSTRLEN];

  napi_get_undefined(env, &undef);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "originalDst(fd): fd must be a non-negative integer");
    return NULL;
  }

  struct sockaddr_in v4;
  socklen_t len = sizeof v4;
  memset(&v4, 0, sizeof v4);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &v4, &len) == 0) {
    if (!inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text)) return throw_errno(env, "inet_ntop", errno);
    return make_result(env, text, ntohs(v4.sin_port), "IPv4");
  }
  int err = errno;
  /* ENOENT: no conntrack entry / not redirected. ENOPROTOOPT/EOPNOTSUPP: an IPv6 socket. */
  if (err != ENOENT && err != ENOPROTOOPT && err != EOPNOTSUPP)
    return throw_errno(env, "getsockopt(SOL_IP, SO_ORIGINAL_DST)", err);

  struct sockaddr_in6 v6;
  len = sizeof v6;
  memset(&v6, 0, sizeof v6);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &v6, &len) == 0) {
    if (!inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text)) return throw_errno(env, "inet_ntop", errno);
    return make_result(env, text, ntohs(v6.sin6_port), "IPv6");
  }
  int err6 = errno;
  /* Not redirected: the family that applies to this socket answered ENOENT. */
  if (err6 == ENOENT || (err == ENOENT && (err6 == ENOPROTOOPT || err6 == EOPNOTSUPP))) return undef;
  return throw_errno(env, "getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)", err6);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, original_dst, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "originalDst", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
