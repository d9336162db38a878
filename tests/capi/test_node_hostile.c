/* Hostile peers against a running TLS node, written by hand from the byte
 * formats of docs/TRANSPORT.md (frames: a 4-byte big-endian length, then the
 * message; the handshake: message type 1, then protocol_version varint,
 * cluster_id string, node_name string, incarnation varint; strings are a
 * varint length and the bytes). After each attack the node has counted it
 * and still works: a legitimate node joins it and both see each other.
 * (The join also publishes a snapshot, which carries the counters sooner
 * than the once-a-second refresh would.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "node_harness.h"

#define PROTOCOL_VERSION 1
#define FRAME_BYTES_MAX 65536 /* the smallest transport.frame_bytes_max allowed */

/* ---- a raw peer: a TCP socket, optionally with TLS ------------------------ */

struct raw_peer {
  int fd;
  SSL_CTX* ctx;
  SSL* ssl;
};

/* Connects to "127.0.0.1:port"; reads and writes time out after 10 s. */
static struct raw_peer raw_connect(const char* address) {
  const char* colon = strrchr(address, ':');
  assert_non_null(colon);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(colon - address), address);
  assert_int_equal(inet_pton(AF_INET, host, &sin.sin_addr), 1);
  struct raw_peer p = {.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  assert_true(p.fd >= 0);
  const struct timeval limit = {10, 0};
  setsockopt(p.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(p.fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  assert_int_equal(connect(p.fd, (struct sockaddr*)&sin, sizeof sin), 0);
  return p;
}

/* Connects and runs a TLS 1.3 handshake presenting `files`; returns whether
 * SSL_connect succeeded (a server that refuses our certificate may tell us
 * only on the first read, as TLS 1.3 allows). */
static int raw_connect_tls(struct raw_peer* p, const char* address, const struct test_tls_files* files) {
  *p = raw_connect(address);
  p->ctx = SSL_CTX_new(TLS_client_method());
  assert_non_null(p->ctx);
  SSL_CTX_set_min_proto_version(p->ctx, TLS1_3_VERSION);
  assert_int_equal(SSL_CTX_use_certificate_chain_file(p->ctx, files->cert_file), 1);
  assert_int_equal(SSL_CTX_use_PrivateKey_file(p->ctx, files->key_file, SSL_FILETYPE_PEM), 1);
  assert_int_equal(SSL_CTX_load_verify_locations(p->ctx, files->ca_file, NULL), 1);
  SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, NULL);
  p->ssl = SSL_new(p->ctx);
  assert_non_null(p->ssl);
  SSL_set_fd(p->ssl, p->fd);
  const int connected = SSL_connect(p->ssl) == 1;
  ERR_clear_error();
  return connected;
}

static void raw_close(struct raw_peer* p) {
  if (p->ssl != NULL) SSL_free(p->ssl);
  if (p->ctx != NULL) SSL_CTX_free(p->ctx);
  close(p->fd);
  ERR_clear_error();
}

static void raw_write(struct raw_peer* p, const void* data, size_t len) {
  if (p->ssl != NULL) {
    assert_int_equal(SSL_write(p->ssl, data, (int)len), (int)len);
  } else {
    assert_int_equal(send(p->fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
  }
}

/* Bytes read, 0 at EOF or on a connection error, -1 on the 10 s timeout. */
static int raw_read(struct raw_peer* p, void* buf, size_t len) {
  errno = 0;
  if (p->ssl != NULL) {
    const int n = SSL_read(p->ssl, buf, (int)len);
    if (n > 0) return n;
    const int error = SSL_get_error(p->ssl, n);
    ERR_clear_error();
    if (error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
    if (error == SSL_ERROR_WANT_READ) return -1;
    return 0;
  }
  const ssize_t n = recv(p->fd, buf, len, 0);
  if (n > 0) return (int)n;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
  return 0;
}

static int raw_read_exact(struct raw_peer* p, uint8_t* buf, size_t len) {
  for (size_t got = 0; got < len;) {
    const int n = raw_read(p, buf + got, len - got);
    if (n <= 0) return 0;
    got += (size_t)n;
  }
  return 1;
}

/* True when the node closed the connection within the read timeout. */
static int raw_closed_by_node(struct raw_peer* p) {
  uint8_t sink[4096];
  for (int reads = 0; reads < 1000; ++reads) {
    const int n = raw_read(p, sink, sizeof sink);
    if (n == 0) return 1;
    if (n < 0) return 0;
  }
  return 0;
}

/* ---- the wire format, by hand ---------------------------------------------- */

struct message {
  uint8_t bytes[1024];
  size_t len;
};

static void put_varint(struct message* m, uint64_t v) {
  while (v >= 0x80) {
    m->bytes[m->len++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  m->bytes[m->len++] = (uint8_t)v;
}

static void put_string(struct message* m, const char* s) {
  const size_t n = strlen(s);
  put_varint(m, n);
  memcpy(m->bytes + m->len, s, n);
  m->len += n;
}

/* A frame: room for the length, filled in by finish_frame. */
static struct message begin_frame(void) {
  struct message m = {.len = 4};
  return m;
}

static struct message finish_frame(struct message m) {
  const uint32_t body = (uint32_t)(m.len - 4);
  m.bytes[0] = (uint8_t)(body >> 24);
  m.bytes[1] = (uint8_t)(body >> 16);
  m.bytes[2] = (uint8_t)(body >> 8);
  m.bytes[3] = (uint8_t)body;
  return m;
}

static struct message handshake_frame(uint64_t version, const char* cluster_id, const char* name) {
  struct message m = begin_frame();
  put_varint(&m, 1); /* message type: handshake */
  put_varint(&m, version);
  put_string(&m, cluster_id);
  put_string(&m, name);
  put_varint(&m, 1700000000); /* incarnation */
  return finish_frame(m);
}

/* Reads the node's handshake answer: type 1, version 1, our cluster, its name. */
static void expect_handshake_answer(struct raw_peer* p, const char* node_name) {
  uint8_t header[4];
  assert_true(raw_read_exact(p, header, 4));
  const uint32_t len = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 | header[3];
  assert_true(len > 0 && len < 512);
  uint8_t body[512];
  assert_true(raw_read_exact(p, body, len));
  assert_int_equal(body[0], 1);                /* handshake */
  assert_int_equal(body[1], PROTOCOL_VERSION); /* one-byte varint */
  assert_int_equal(body[2], 6);                /* "lashup" */
  assert_memory_equal(body + 3, "lashup", 6);
  assert_int_equal(body[9], strlen(node_name));
  assert_memory_equal(body + 10, node_name, strlen(node_name));
}

/* A TLS peer "evil" with a valid certificate that completed the handshake. */
static struct raw_peer established_evil_peer(struct node_env* env, lashup_node_t* target) {
  const struct test_tls_files evil = node_env_certificate(env, "evil");
  char* address = NULL;
  assert_int_equal(lashup_node_address(target, &address), LASHUP_OK);
  struct raw_peer p;
  assert_true(raw_connect_tls(&p, address, &evil));
  lashup_free(address);
  const struct message hello = handshake_frame(PROTOCOL_VERSION, "lashup", "evil");
  raw_write(&p, hello.bytes, hello.len);
  expect_handshake_answer(&p, "target");
  return p;
}

/* ---- the target node and the checks after each attack ----------------------- */

static lashup_node_t* start_target(struct node_env* env) {
  lashup_config_t* cfg = node_config(env, "target", 1, NULL);
  char frame_max[16];
  snprintf(frame_max, sizeof frame_max, "%d", FRAME_BYTES_MAX);
  config_set(cfg, "transport.frame_bytes_max", frame_max);
  /* A multicast payload must fit a frame with its header. */
  char payload_max[16];
  snprintf(payload_max, sizeof payload_max, "%d", FRAME_BYTES_MAX - 4096);
  config_set(cfg, "multicast.payload_bytes_max", payload_max);
  return start_node_from(cfg);
}

static char* target_address(lashup_node_t* target) {
  char* address = NULL;
  assert_int_equal(lashup_node_address(target, &address), LASHUP_OK);
  return address;
}

/* A legitimate node still joins the target, and the attacker is no member. */
static void target_still_works(struct node_env* env, lashup_node_t* target) {
  char contact[256];
  node_contact(target, contact, sizeof contact);
  lashup_node_t* legit = start_node(env, "legit", contact);
  lashup_node_t* nodes[] = {target, legit};
  wait_for_mesh(nodes, 2);
  uint64_t id = 0;
  assert_int_equal(lashup_node_health_check(target, "legit", &id), LASHUP_OK);
  lashup_event_t* ev = wait_for_event(target, LASHUP_EVENT_HEALTH_CHECK, "legit", 1, id, CONVERGE_MS);
  assert_non_null(ev);
  lashup_event_destroy(ev);
  assert_int_equal(member_state(target, "evil"), -1);
  assert_int_equal(node_stat(target, "members"), 2);
  lashup_node_destroy(legit);
}

/* ---- the attacks --------------------------------------------------------------- */

static void a_plaintext_peer_sending_junk_is_a_tls_failure(void** state) {
  struct node_env* env = *state;
  lashup_node_t* target = start_target(env);
  char* address = target_address(target);
  struct raw_peer p = raw_connect(address);
  static const char junk[] = "GET / HTTP/1.1\r\nHost: target\r\n\r\n\x00\xff\x13\x37 not a TLS record";
  raw_write(&p, junk, sizeof junk);
  assert_true(raw_closed_by_node(&p));
  raw_close(&p);
  target_still_works(env, target);
  ASSERT_EVENTUALLY(node_stat(target, "transport.tls_failures") >= 1, CONVERGE_MS);
  ASSERT_EVENTUALLY(node_stat(target, "transport.handshake_failures") >= 1, CONVERGE_MS);
  lashup_free(address);
  lashup_node_destroy(target);
}

static void a_certificate_of_another_ca_is_a_tls_failure(void** state) {
  struct node_env* env = *state;
  lashup_node_t* target = start_target(env);
  char* address = target_address(target);
  struct test_tls_files foreign;
  assert_int_equal(test_pki_issue(&env->pki, "evil", 1, &foreign), 0);
  struct raw_peer p;
  if (raw_connect_tls(&p, address, &foreign)) {
    const struct message hello = handshake_frame(PROTOCOL_VERSION, "lashup", "evil");
    SSL_write(p.ssl, hello.bytes, (int)hello.len); /* may fail: the node has refused us */
  }
  assert_true(raw_closed_by_node(&p));
  raw_close(&p);
  target_still_works(env, target);
  ASSERT_EVENTUALLY(node_stat(target, "transport.tls_failures") >= 1, CONVERGE_MS);
  lashup_free(address);
  lashup_node_destroy(target);
}

/* A TLS peer with a valid certificate whose handshake the node refuses:
 * closed unanswered, counted as a handshake failure, not a TLS failure. */
static void expect_handshake_refused(struct node_env* env, const struct message* hello) {
  lashup_node_t* target = start_target(env);
  char* address = target_address(target);
  const struct test_tls_files evil = node_env_certificate(env, "evil");
  struct raw_peer p;
  assert_true(raw_connect_tls(&p, address, &evil));
  raw_write(&p, hello->bytes, hello->len);
  assert_true(raw_closed_by_node(&p)); /* no handshake answer, just the close */
  raw_close(&p);
  target_still_works(env, target);
  ASSERT_EVENTUALLY(node_stat(target, "transport.handshake_failures") >= 1, CONVERGE_MS);
  assert_int_equal(node_stat(target, "transport.tls_failures"), 0);
  lashup_free(address);
  lashup_node_destroy(target);
}

static void a_peer_of_another_cluster_is_refused_at_the_handshake(void** state) {
  const struct message hello = handshake_frame(PROTOCOL_VERSION, "other-cluster", "evil");
  expect_handshake_refused(*state, &hello);
}

static void a_peer_of_an_unknown_protocol_version_is_refused_at_the_handshake(void** state) {
  const struct message hello = handshake_frame(PROTOCOL_VERSION + 998, "lashup", "evil");
  expect_handshake_refused(*state, &hello);
}

static void a_peer_claiming_a_name_its_certificate_does_not_carry_is_refused(void** state) {
  const struct message hello = handshake_frame(PROTOCOL_VERSION, "lashup", "legit");
  expect_handshake_refused(*state, &hello);
}

static void a_peer_sending_a_message_before_the_handshake_is_refused(void** state) {
  struct message m = begin_frame();
  put_varint(&m, 2); /* a ping where the handshake belongs */
  put_varint(&m, 1);
  m = finish_frame(m);
  expect_handshake_refused(*state, &m);
}

static void a_silent_peer_is_closed_at_the_handshake_timeout(void** state) {
  struct node_env* env = *state;
  lashup_config_t* cfg = node_config(env, "target", 1, NULL);
  config_set(cfg, "transport.handshake_timeout_ms", "300");
  lashup_node_t* target = start_node_from(cfg);
  char* address = target_address(target);
  const struct test_tls_files evil = node_env_certificate(env, "evil");
  struct raw_peer p;
  assert_true(raw_connect_tls(&p, address, &evil)); /* TLS, then nothing */
  assert_true(raw_closed_by_node(&p));
  raw_close(&p);
  target_still_works(env, target);
  ASSERT_EVENTUALLY(node_stat(target, "transport.handshake_failures") >= 1, CONVERGE_MS);
  lashup_free(address);
  lashup_node_destroy(target);
}

static void an_oversized_frame_after_the_handshake_is_a_malformed_frame(void** state) {
  struct node_env* env = *state;
  lashup_node_t* target = start_target(env);
  struct raw_peer p = established_evil_peer(env, target);
  const uint32_t len = FRAME_BYTES_MAX + 1;
  const uint8_t header[8] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, 4, 0, 0, 0};
  raw_write(&p, header, sizeof header);
  assert_true(raw_closed_by_node(&p));
  raw_close(&p);
  target_still_works(env, target);
  ASSERT_EVENTUALLY(node_stat(target, "transport.malformed_frames") >= 1, CONVERGE_MS);
  assert_int_equal(node_stat(target, "transport.handshake_failures"), 0);
  lashup_node_destroy(target);
}

static void an_empty_frame_after_the_handshake_is_a_malformed_frame(void** state) {
  struct node_env* env = *state;
  lashup_node_t* target = start_target(env);
  struct raw_peer p = established_evil_peer(env, target);
  static const uint8_t empty[4] = {0, 0, 0, 0};
  raw_write(&p, empty, sizeof empty);
  assert_true(raw_closed_by_node(&p));
  raw_close(&p);
  target_still_works(env, target);
  ASSERT_EVENTUALLY(node_stat(target, "transport.malformed_frames") >= 1, CONVERGE_MS);
  lashup_node_destroy(target);
}

/* Well-framed garbage is the core's business: it counts a malformed
 * message and closes the connection; the transport counts nothing. */
static void expect_malformed_message(struct node_env* env, const struct message* frame) {
  lashup_node_t* target = start_target(env);
  struct raw_peer p = established_evil_peer(env, target);
  raw_write(&p, frame->bytes, frame->len);
  assert_true(raw_closed_by_node(&p));
  raw_close(&p);
  target_still_works(env, target);
  ASSERT_EVENTUALLY(node_stat(target, "node.malformed_messages") >= 1, CONVERGE_MS);
  assert_int_equal(node_stat(target, "transport.malformed_frames"), 0);
  lashup_node_destroy(target);
}

static void a_message_of_an_unknown_type_is_a_malformed_message(void** state) {
  struct message m = begin_frame();
  put_varint(&m, 99);
  put_string(&m, "whatever follows");
  m = finish_frame(m);
  expect_malformed_message(*state, &m);
}

static void a_second_handshake_is_a_malformed_message(void** state) {
  const struct message hello = handshake_frame(PROTOCOL_VERSION, "lashup", "evil");
  expect_malformed_message(*state, &hello);
}

static void a_truncated_member_record_message_is_a_malformed_message(void** state) {
  struct message m = begin_frame();
  put_varint(&m, 12); /* member_records */
  put_varint(&m, 50); /* a count of records that never come */
  m = finish_frame(m);
  expect_malformed_message(*state, &m);
}

static void random_frames_never_take_the_node_down(void** state) {
  struct node_env* env = *state;
  lashup_node_t* target = start_target(env);
  unsigned seed = 12345;
  for (int connection = 0; connection < 20; ++connection) {
    struct raw_peer p = established_evil_peer(env, target);
    struct message m = begin_frame();
    const size_t body = 1 + (size_t)(rand_r(&seed) % 200);
    for (size_t i = 0; i < body; ++i) m.bytes[m.len++] = (uint8_t)rand_r(&seed);
    m.bytes[4] = (uint8_t)(1 + rand_r(&seed) % 17); /* a known type with a random body */
    m = finish_frame(m);
    raw_write(&p, m.bytes, m.len);
    raw_close(&p);
  }
  target_still_works(env, target);
  lashup_node_destroy(target);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_plaintext_peer_sending_junk_is_a_tls_failure),
      cmocka_unit_test(a_certificate_of_another_ca_is_a_tls_failure),
      cmocka_unit_test(a_peer_of_another_cluster_is_refused_at_the_handshake),
      cmocka_unit_test(a_peer_of_an_unknown_protocol_version_is_refused_at_the_handshake),
      cmocka_unit_test(a_peer_claiming_a_name_its_certificate_does_not_carry_is_refused),
      cmocka_unit_test(a_peer_sending_a_message_before_the_handshake_is_refused),
      cmocka_unit_test(a_silent_peer_is_closed_at_the_handshake_timeout),
      cmocka_unit_test(an_oversized_frame_after_the_handshake_is_a_malformed_frame),
      cmocka_unit_test(an_empty_frame_after_the_handshake_is_a_malformed_frame),
      cmocka_unit_test(a_message_of_an_unknown_type_is_a_malformed_message),
      cmocka_unit_test(a_second_handshake_is_a_malformed_message),
      cmocka_unit_test(a_truncated_member_record_message_is_a_malformed_message),
      cmocka_unit_test(random_frames_never_take_the_node_down),
  };
  return cmocka_run_group_tests(tests, node_env_setup, node_env_teardown);
}
