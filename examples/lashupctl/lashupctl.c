/* lashupctl: the command-line client of a node's admin API (docs/ADMIN.md).
 *
 * A plain HTTP/1.1 client over the node's unix socket (admin.listen =
 * unix:PATH) or a loopback TCP port with a bearer token. Answers are JSON;
 * by default they are shown as tables, with --json as the node sent them.
 * Streams (kv watch, mc sub) print one line per event as it arrives.
 *
 * Exit status: 0 success; 1 the node refused the request (the message is
 * on stderr) or a health check found the node not alive; 2 bad command line;
 * 3 the node could not be reached or answered something unreadable. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static const char kUsage[] =
    "usage: lashupctl [--socket PATH | --url http://127.0.0.1:PORT --token-file FILE] [--json] COMMAND\n"
    "\n"
    "commands:\n"
    "  status                          the node, its member counts and every stat\n"
    "  members                         name, address, state, incarnation, last heard, distance\n"
    "  tree [--root NAME] [--dot]      the route tree from NAME (default: this node); --dot: Graphviz\n"
    "  links                           each member's overlay neighbours and link reports\n"
    "  kv get KEY                      the key's value on this node's replica\n"
    "  kv put KEY add PATH AMOUNT      adds AMOUNT to the counter at PATH (a/b/c: nested maps)\n"
    "  kv put KEY set PATH VALUE       writes VALUE to the register at PATH\n"
    "  kv del KEY                      deletes the key\n"
    "  kv keys [PREFIX] [--glob]       live keys starting with PREFIX (or matching it as a glob)\n"
    "  kv watch [PREFIX] [--glob] [--count N]   the keys, then each change, as they happen\n"
    "  mc pub TOPIC [PAYLOAD]          publishes PAYLOAD (none: stdin)\n"
    "  mc sub TOPIC [--count N]        prints the messages on TOPIC as they arrive\n"
    "  health NAME                     probes NAME directly; exit 1 when it does not answer\n"
    "\n"
    "The socket may also be given by the LASHUPCTL_SOCKET environment variable.\n";

static int json_output = 0;

static void die(int code, const char *format, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("lashupctl: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(code);
}

static void usage_error(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("lashupctl: ", stderr);
  vfprintf(stderr, format, args);
  fputs("\n\n", stderr);
  fputs(kUsage, stderr);
  va_end(args);
  exit(EXIT_USAGE);
}

static void *checked_alloc(void *p) {
  if (p == NULL) die(EXIT_UNREACHABLE, "out of memory");
  return p;
}

/* ---- growable strings ------------------------------------------------------ */

typedef struct buffer {
  char *data;
  size_t len;
  size_t cap;
} buffer;

static void buf_add(buffer *b, const char *data, size_t len) {
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < b->len + len + 1) cap *= 2;
    b->data = checked_alloc(realloc(b->data, cap));
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

static void buf_puts(buffer *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(buffer *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buffer *b, const char *format, ...) {
  char small[512];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(small, sizeof small, format, args);
  va_end(args);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    buf_add(b, small, (size_t)n);
    return;
  }
  char *big = checked_alloc(malloc((size_t)n + 1));
  va_start(args, format);
  vsnprintf(big, (size_t)n + 1, format, args);
  va_end(args);
  buf_add(b, big, (size_t)n);
  free(big);
}

/* Appends `text` percent-encoded for a query string. */
static void buf_url_encode(buffer *b, const char *text) {
  for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
    if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '/') {
      buf_add(b, (const char *)p, 1);
    } else {
      buf_printf(b, "%%%02X", *p);
    }
  }
}

/* ---- JSON ------------------------------------------------------------------
 * A small parser for the node's answers: objects keep their members in
 * order; numbers keep their text. */

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } json_type;

typedef struct json {
  json_type type;
  int boolean;
  char *text; /* number text or string (NUL-terminated; may hold NULs: len) */
  size_t len;
  struct json **items; /* array items or object values */
  char **keys;         /* object keys */
  size_t count;
} json;

typedef struct parser {
  const char *p;
  const char *end;
  int depth;
} parser;

static void skip_space(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static void put_utf8(buffer *b, unsigned code) {
  char out[4];
  size_t n;
  if (code < 0x80) {
    out[0] = (char)code;
    n = 1;
  } else if (code < 0x800) {
    out[0] = (char)(0xC0 | (code >> 6));
    out[1] = (char)(0x80 | (code & 0x3F));
    n = 2;
  } else if (code < 0x10000) {
    out[0] = (char)(0xE0 | (code >> 12));
    out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[2] = (char)(0x80 | (code & 0x3F));
    n = 3;
  } else {
    out[0] = (char)(0xF0 | (code >> 18));
    out[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    n = 4;
  }
  buf_add(b, out, n);
}

static int parse_hex4(parser *ps, unsigned *out) {
  if (ps->end - ps->p < 4) return 0;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = ps->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  ps->p += 4;
  *out = v;
  return 1;
}

static char *parse_string_text(parser *ps, size_t *len) {
  if (ps->p >= ps->end || *ps->p != '"') return NULL;
  ps->p++;
  buffer b = {0};
  buf_add(&b, "", 0);
  while (ps->p < ps->end && *ps->p != '"') {
    char c = *ps->p++;
    if (c != '\\') {
      buf_add(&b, &c, 1);
      continue;
    }
    if (ps->p >= ps->end) break;
    char e = *ps->p++;
    switch (e) {
      case 'n': buf_add(&b, "\n", 1); break;
      case 't': buf_add(&b, "\t", 1); break;
      case 'r': buf_add(&b, "\r", 1); break;
      case 'b': buf_add(&b, "\b", 1); break;
      case 'f': buf_add(&b, "\f", 1); break;
      case 'u': {
        unsigned code;
        if (!parse_hex4(ps, &code)) {
          free(b.data);
          return NULL;
        }
        if (code >= 0xD800 && code < 0xDC00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
          unsigned low;
          ps->p += 2;
          if (parse_hex4(ps, &low) && low >= 0xDC00 && low < 0xE000) code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        put_utf8(&b, code);
        break;
      }
      default: buf_add(&b, &e, 1); break;
    }
  }
  if (ps->p >= ps->end) {
    free(b.data);
    return NULL;
  }
  ps->p++;
  *len = b.len;
  return b.data;
}

static void json_free(json *v) {
  if (v == NULL) return;
  free(v->text);
  for (size_t i = 0; i < v->count; i++) {
    json_free(v->items[i]);
    if (v->keys != NULL) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v);
}

static json *parse_value(parser *ps) {
  skip_space(ps);
  if (ps->p >= ps->end || ++ps->depth > 64) return NULL;
  json *v = checked_alloc(calloc(1, sizeof *v));
  char c = *ps->p;
  if (c == '{' || c == '[') {
    const int object = c == '{';
    v->type = object ? J_OBJECT : J_ARRAY;
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
      ps->p++;
      ps->depth--;
      return v;
    }
    for (;;) {
      char *key = NULL;
      size_t key_len = 0;
      if (object) {
        skip_space(ps);
        key = parse_string_text(ps, &key_len);
        skip_space(ps);
        if (key == NULL || ps->p >= ps->end || *ps->p != ':') {
          free(key);
          json_free(v);
          return NULL;
        }
        ps->p++;
      }
      json *item = parse_value(ps);
      if (item == NULL) {
        free(key);
        json_free(v);
        return NULL;
      }
      v->items = checked_alloc(realloc(v->items, (v->count + 1) * sizeof *v->items));
      if (object) v->keys = checked_alloc(realloc(v->keys, (v->count + 1) * sizeof *v->keys));
      v->items[v->count] = item;
      if (object) v->keys[v->count] = key;
      v->count++;
      skip_space(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        continue;
      }
      if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
        ps->p++;
        break;
      }
      json_free(v);
      return NULL;
    }
  } else if (c == '"') {
    v->type = J_STRING;
    v->text = parse_string_text(ps, &v->len);
    if (v->text == NULL) {
      json_free(v);
      return NULL;
    }
  } else if (ps->end - ps->p >= 4 && strncmp(ps->p, "true", 4) == 0) {
    v->type = J_BOOL;
    v->boolean = 1;
    ps->p += 4;
  } else if (ps->end - ps->p >= 5 && strncmp(ps->p, "false", 5) == 0) {
    v->type = J_BOOL;
    ps->p += 5;
  } else if (ps->end - ps->p >= 4 && strncmp(ps->p, "null", 4) == 0) {
    v->type = J_NULL;
    ps->p += 4;
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    const char *start = ps->p;
    while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p) != NULL) ps->p++;
    v->type = J_NUMBER;
    v->len = (size_t)(ps->p - start);
    v->text = checked_alloc(strndup(start, v->len));
  } else {
    json_free(v);
    return NULL;
  }
  ps->depth--;
  return v;
}

static json *json_parse(const char *text, size_t len) {
  parser ps = {text, text + len, 0};
  json *v = parse_value(&ps);
  skip_space(&ps);
  if (v != NULL && ps.p != ps.end) {
    json_free(v);
    return NULL;
  }
  return v;
}

static const json *json_get(const json *object, const char *key) {
  if (object == NULL || object->type != J_OBJECT) return NULL;
  for (size_t i = 0; i < object->count; i++) {
    if (strcmp(object->keys[i], key) == 0) return object->items[i];
  }
  return NULL;
}

/* The value as text: strings as they are, numbers as written, others as
 * true/false/null; "" for a missing value. */
static const char *json_text(const json *v) {
  if (v == NULL) return "";
  switch (v->type) {
    case J_STRING:
    case J_NUMBER: return v->text;
    case J_BOOL: return v->boolean ? "true" : "false";
    case J_NULL: return "-";
    default: return "...";
  }
}

/* Writes a value back as compact JSON (for values shown inside tables). */
static void json_write(buffer *b, const json *v) {
  switch (v->type) {
    case J_NULL: buf_puts(b, "null"); break;
    case J_BOOL: buf_puts(b, v->boolean ? "true" : "false"); break;
    case J_NUMBER: buf_puts(b, v->text); break;
    case J_STRING:
      buf_puts(b, "\"");
      for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->text[i];
        if (c == '"' || c == '\\') {
          buf_printf(b, "\\%c", c);
        } else if (c < 0x20) {
          buf_printf(b, "\\u%04x", c);
        } else {
          buf_add(b, (const char *)&c, 1);
        }
      }
      buf_puts(b, "\"");
      break;
    case J_ARRAY:
    case J_OBJECT:
      buf_puts(b, v->type == J_ARRAY ? "[" : "{");
      for (size_t i = 0; i < v->count; i++) {
        if (i > 0) buf_puts(b, ",");
        if (v->type == J_OBJECT) {
          json key = {.type = J_STRING, .text = v->keys[i], .len = strlen(v->keys[i])};
          json_write(b, &key);
          buf_puts(b, ":");
        }
        json_write(b, v->items[i]);
      }
      buf_puts(b, v->type == J_ARRAY ? "]" : "}");
      break;
  }
}

/* ---- HTTP ------------------------------------------------------------------ */

typedef struct target {
  const char *socket_path; /* unix socket, or */
  char host[256];          /* a TCP host and port */
  int port;
  char *token;             /* bearer token, TCP only */
} target;

static int connect_target(const target *t) {
  if (t->socket_path != NULL) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(t->socket_path) >= sizeof addr.sun_path) die(EXIT_USAGE, "socket path too long: %s", t->socket_path);
    strcpy(addr.sun_path, t->socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      die(EXIT_UNREACHABLE, "cannot connect to %s: %s", t->socket_path, strerror(errno));
    }
    return fd;
  }
  struct addrinfo hints, *found = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  char port[16];
  snprintf(port, sizeof port, "%d", t->port);
  int rc = getaddrinfo(t->host, port, &hints, &found);
  if (rc != 0) die(EXIT_UNREACHABLE, "%s: %s", t->host, gai_strerror(rc));
  int fd = -1;
  for (struct addrinfo *a = found; a != NULL && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) die(EXIT_UNREACHABLE, "cannot connect to %s:%d: %s", t->host, t->port, strerror(errno));
  return fd;
}

static void write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(EXIT_UNREACHABLE, "write to the node failed: %s", strerror(errno));
    data += n;
    len -= (size_t)n;
  }
}

/* A response being read: what was received and not yet consumed. */
typedef struct reader {
  int fd;
  char buf[65536];
  size_t start, end;
} reader;

/* Ensures at least one unread byte; 0 at the end of the connection. */
static int fill(reader *r) {
  if (r->start < r->end) return 1;
  r->start = r->end = 0;
  for (;;) {
    ssize_t n = read(r->fd, r->buf, sizeof r->buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(EXIT_UNREACHABLE, "read from the node failed: %s", strerror(errno));
    r->end = (size_t)n;
    return n > 0;
  }
}

/* One line (without CRLF) into `line`; 0 at the end of the connection. */
static int read_line(reader *r, buffer *line) {
  line->len = 0;
  buf_add(line, "", 0);
  for (;;) {
    if (!fill(r)) return line->len > 0;
    char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
    size_t take = nl != NULL ? (size_t)(nl - (r->buf + r->start)) : r->end - r->start;
    buf_add(line, r->buf + r->start, take);
    r->start += take;
    if (nl != NULL) {
      r->start++;
      if (line->len > 0 && line->data[line->len - 1] == '\r') line->data[--line->len] = '\0';
      return 1;
    }
    if (line->len > 65536) die(EXIT_UNREACHABLE, "a header line over 64 KiB");
  }
}

static void read_bytes(reader *r, buffer *out, size_t len) {
  while (len > 0) {
    if (!fill(r)) die(EXIT_UNREACHABLE, "the node closed the connection mid-response");
    size_t take = r->end - r->start < len ? r->end - r->start : len;
    buf_add(out, r->buf + r->start, take);
    r->start += take;
    len -= take;
  }
}

/* Called with each complete line of a streamed body; returns 0 to stop. */
typedef int (*line_handler)(const char *line, size_t len, void *userdata);

typedef struct response {
  int status;
  buffer body;
} response;

/* Where a body goes: collected, or handed over line by line. */
typedef struct body_sink {
  int streaming;
  buffer *body;
  buffer pending; /* a streamed line not complete yet */
  int go_on;
  line_handler on_line;
  void *userdata;
} body_sink;

static void consume(body_sink *sink, const char *bytes, size_t count) {
  if (!sink->streaming) {
    buf_add(sink->body, bytes, count);
    return;
  }
  buf_add(&sink->pending, bytes, count);
  char *nl;
  while (sink->go_on && (nl = memchr(sink->pending.data, '\n', sink->pending.len)) != NULL) {
    size_t n = (size_t)(nl - sink->pending.data);
    sink->go_on = sink->on_line(sink->pending.data, n, sink->userdata);
    memmove(sink->pending.data, nl + 1, sink->pending.len - n - 1);
    sink->pending.len -= n + 1;
  }
}

/* Sends a request and reads the answer. With `on_line` and a 200 answer the
 * body is handed over line by line as it arrives (a stream); otherwise it is
 * collected into response->body. */
static response request(const target *t, const char *method, const char *path_and_query, const char *body,
                        size_t body_len, line_handler on_line, void *userdata) {
  int fd = connect_target(t);
  buffer req = {0};
  buf_printf(&req, "%s %s HTTP/1.1\r\nHost: lashup\r\nConnection: close\r\nUser-Agent: lashupctl\r\n", method,
             path_and_query);
  if (t->token != NULL) buf_printf(&req, "Authorization: Bearer %s\r\n", t->token);
  if (body != NULL) buf_printf(&req, "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n", body_len);
  buf_puts(&req, "\r\n");
  if (body != NULL) buf_add(&req, body, body_len);
  write_all(fd, req.data, req.len);
  free(req.data);

  reader *r = checked_alloc(calloc(1, sizeof *r));
  r->fd = fd;
  response resp = {0};
  buffer line = {0};
  if (!read_line(r, &line) || sscanf(line.data, "HTTP/1.%*d %d", &resp.status) != 1) {
    die(EXIT_UNREACHABLE, "not an HTTP answer: \"%.80s\"", line.data != NULL ? line.data : "");
  }
  long long content_length = -1;
  int chunked = 0;
  while (read_line(r, &line) && line.len > 0) {
    if (strncasecmp(line.data, "Content-Length:", 15) == 0) content_length = strtoll(line.data + 15, NULL, 10);
    if (strncasecmp(line.data, "Transfer-Encoding:", 18) == 0 && strcasestr(line.data, "chunked") != NULL) chunked = 1;
  }
  body_sink sink = {on_line != NULL && resp.status == 200, &resp.body, {0}, 1, on_line, userdata};
  buf_add(&resp.body, "", 0);
  if (chunked) {
    buffer chunk = {0};
    while (sink.go_on && read_line(r, &line)) {
      char *end = NULL;
      unsigned long long size = strtoull(line.data, &end, 16);
      if (end == line.data) die(EXIT_UNREACHABLE, "malformed chunk size");
      if (size == 0) break;
      chunk.len = 0;
      read_bytes(r, &chunk, (size_t)size);
      consume(&sink, chunk.data, chunk.len);
      read_line(r, &line); /* the chunk's CRLF */
    }
    free(chunk.data);
  } else if (content_length >= 0) {
    buffer all = {0};
    read_bytes(r, &all, (size_t)content_length);
    if (all.len > 0) consume(&sink, all.data, all.len);
    free(all.data);
  } else {
    while (sink.go_on && fill(r)) {
      consume(&sink, r->buf + r->start, r->end - r->start);
      r->start = r->end;
    }
  }
  if (sink.streaming && sink.go_on && sink.pending.len > 0) on_line(sink.pending.data, sink.pending.len, userdata);
  free(sink.pending.data);
  free(line.data);
  free(r);
  close(fd);
  return resp;
}

/* Exits with the node's error message for a non-200 answer. */
static json *expect_ok(response *resp) {
  json *v = json_parse(resp->body.data, resp->body.len);
  if (resp->status != 200) {
    const json *error = json_get(v, "error");
    die(EXIT_REFUSED, "%d: %s", resp->status, error != NULL ? json_text(error) : resp->body.data);
  }
  if (v == NULL) die(EXIT_UNREACHABLE, "the node's answer is not JSON: %.200s", resp->body.data);
  return v;
}

/* GET (or another method) whose JSON answer is printed raw with --json, or
 * parsed and handed back. NULL when it was printed. */
static json *call(const target *t, const char *method, const char *path, const char *body, size_t body_len) {
  response resp = request(t, method, path, body, body_len, NULL, NULL);
  json *v = expect_ok(&resp);
  if (json_output) {
    fputs(resp.body.data, stdout);
    if (resp.body.len == 0 || resp.body.data[resp.body.len - 1] != '\n') putchar('\n');
    json_free(v);
    v = NULL;
  }
  free(resp.body.data);
  return v;
}

/* ---- tables ---------------------------------------------------------------- */

typedef struct table {
  size_t columns;
  size_t rows;
  char **cells; /* rows * columns, row-major; row 0 is the header */
} table;

static void table_add(table *tb, const char *const *cells) {
  tb->cells = checked_alloc(realloc(tb->cells, (tb->rows + 1) * tb->columns * sizeof *tb->cells));
  for (size_t c = 0; c < tb->columns; c++) tb->cells[tb->rows * tb->columns + c] = checked_alloc(strdup(cells[c]));
  tb->rows++;
}

static void table_print(table *tb) {
  size_t *width = checked_alloc(calloc(tb->columns, sizeof *width));
  for (size_t i = 0; i < tb->rows * tb->columns; i++) {
    size_t w = strlen(tb->cells[i]);
    if (w > width[i % tb->columns]) width[i % tb->columns] = w;
  }
  for (size_t r = 0; r < tb->rows; r++) {
    for (size_t c = 0; c < tb->columns; c++) {
      const char *cell = tb->cells[r * tb->columns + c];
      if (c + 1 == tb->columns) {
        printf("%s\n", cell);
      } else {
        printf("%-*s  ", (int)width[c], cell);
      }
    }
  }
  for (size_t i = 0; i < tb->rows * tb->columns; i++) free(tb->cells[i]);
  free(tb->cells);
  free(width);
}

static char *join_names(const json *array) {
  buffer b = {0};
  buf_add(&b, "", 0);
  for (size_t i = 0; array != NULL && array->type == J_ARRAY && i < array->count; i++) {
    if (i > 0) buf_puts(&b, ",");
    buf_puts(&b, json_text(array->items[i]));
  }
  if (b.len == 0) buf_puts(&b, "-");
  return b.data;
}

/* ---- commands -------------------------------------------------------------- */

static int cmd_status(const target *t) {
  json *v = call(t, "GET", "/v1/status", NULL, 0);
  if (v == NULL) return 0;
  printf("node         %s\n", json_text(json_get(v, "node")));
  printf("address      %s\n", json_text(json_get(v, "address")));
  printf("incarnation  %s\n", json_text(json_get(v, "incarnation")));
  printf("members      %s (others: %s reachable, %s unreachable, %s left)\n", json_text(json_get(v, "members")),
         json_text(json_get(v, "reachable")), json_text(json_get(v, "unreachable")), json_text(json_get(v, "left")));
  const json *stats = json_get(v, "stats");
  table tb = {.columns = 2};
  table_add(&tb, (const char *const[]){"STAT", "VALUE"});
  for (size_t i = 0; stats != NULL && i < stats->count; i++) {
    table_add(&tb, (const char *const[]){stats->keys[i], json_text(stats->items[i])});
  }
  putchar('\n');
  table_print(&tb);
  json_free(v);
  return 0;
}

static int cmd_members(const target *t) {
  json *v = call(t, "GET", "/v1/members", NULL, 0);
  if (v == NULL) return 0;
  const json *members = json_get(v, "members");
  table tb = {.columns = 6};
  table_add(&tb, (const char *const[]){"NAME", "ADDRESS", "STATE", "INCARNATION", "LAST_HEARD_MS", "DISTANCE"});
  for (size_t i = 0; members != NULL && i < members->count; i++) {
    const json *m = members->items[i];
    const json *self = json_get(m, "self");
    char name[300];
    snprintf(name, sizeof name, "%s%s", json_text(json_get(m, "name")), self != NULL && self->boolean ? " *" : "");
    table_add(&tb, (const char *const[]){name, json_text(json_get(m, "address")), json_text(json_get(m, "state")),
                                         json_text(json_get(m, "incarnation")), json_text(json_get(m, "last_heard_ms")),
                                         json_text(json_get(m, "distance"))});
  }
  table_print(&tb);
  json_free(v);
  return 0;
}

/* The children of `parent` (NULL: the root, whose parent is null). */
static void print_subtree(const json *nodes, const char *parent, int depth) {
  for (size_t i = 0; i < nodes->count; i++) {
    const json *n = nodes->items[i];
    const json *p = json_get(n, "parent");
    const int is_root = p == NULL || p->type == J_NULL;
    if (parent == NULL ? !is_root : (is_root || strcmp(json_text(p), parent) != 0)) continue;
    printf("%*s%s\n", depth * 2, "", json_text(json_get(n, "node")));
    if (depth < 256) print_subtree(nodes, json_text(json_get(n, "node")), depth + 1);
  }
}

static int cmd_tree(const target *t, const char *root, int dot) {
  buffer path = {0};
  buf_puts(&path, "/v1/tree");
  if (root != NULL) {
    buf_puts(&path, "?root=");
    buf_url_encode(&path, root);
  }
  if (dot) {
    int saved = json_output;
    json_output = 0;
    json *v = call(t, "GET", path.data, NULL, 0);
    json_output = saved;
    const json *nodes = json_get(v, "nodes");
    printf("digraph route_tree {\n  label=\"route tree from %s\";\n", json_text(json_get(v, "root")));
    for (size_t i = 0; nodes != NULL && i < nodes->count; i++) {
      const json *n = nodes->items[i];
      const json *parent = json_get(n, "parent");
      if (parent == NULL || parent->type == J_NULL) {
        printf("  \"%s\" [shape=doublecircle];\n", json_text(json_get(n, "node")));
      } else {
        printf("  \"%s\" -> \"%s\";\n", json_text(parent), json_text(json_get(n, "node")));
      }
    }
    printf("}\n");
    json_free(v);
    free(path.data);
    return 0;
  }
  json *v = call(t, "GET", path.data, NULL, 0);
  free(path.data);
  if (v == NULL) return 0;
  const json *nodes = json_get(v, "nodes");
  if (nodes != NULL) print_subtree(nodes, NULL, 0);
  json_free(v);
  return 0;
}

static int cmd_links(const target *t) {
  json *v = call(t, "GET", "/v1/links", NULL, 0);
  if (v == NULL) return 0;
  const json *members = json_get(v, "members");
  table tb = {.columns = 4};
  table_add(&tb, (const char *const[]){"NAME", "STATE", "NEIGHBORS", "CANNOT_REACH"});
  for (size_t i = 0; members != NULL && i < members->count; i++) {
    const json *m = members->items[i];
    char *neighbors = join_names(json_get(m, "neighbors"));
    char *reports = join_names(json_get(m, "link_reports"));
    table_add(&tb, (const char *const[]){json_text(json_get(m, "name")), json_text(json_get(m, "state")), neighbors,
                                         reports});
    free(neighbors);
    free(reports);
  }
  table_print(&tb);
  json_free(v);
  return 0;
}

/* A KV value as "path  type  value" rows. */
static void add_value_rows(table *tb, const json *value, const char *prefix) {
  for (size_t i = 0; value != NULL && value->type == J_OBJECT && i < value->count; i++) {
    const json *types = value->items[i];
    for (size_t k = 0; types->type == J_OBJECT && k < types->count; k++) {
      char path[1024];
      snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] != '\0' ? "/" : "", value->keys[i]);
      if (strcmp(types->keys[k], "map") == 0) {
        add_value_rows(tb, types->items[k], path);
        continue;
      }
      buffer text = {0};
      json_write(&text, types->items[k]);
      table_add(tb, (const char *const[]){path, types->keys[k], text.data});
      free(text.data);
    }
  }
}

static void kv_path(buffer *path, const char *endpoint, const char *key) {
  buf_puts(path, endpoint);
  buf_puts(path, "?key=");
  buf_url_encode(path, key);
}

static int print_value(json *v) {
  if (v == NULL) return 0;
  table tb = {.columns = 3};
  table_add(&tb, (const char *const[]){"FIELD", "TYPE", "VALUE"});
  add_value_rows(&tb, json_get(v, "value"), "");
  table_print(&tb);
  json_free(v);
  return 0;
}

static int cmd_kv_get(const target *t, const char *key) {
  buffer path = {0};
  kv_path(&path, "/v1/kv", key);
  json *v = call(t, "GET", path.data, NULL, 0);
  free(path.data);
  return print_value(v);
}

static int cmd_kv_put(const target *t, const char *key, const char *op, const char *field, const char *value) {
  if (strcmp(op, "add") != 0 && strcmp(op, "set") != 0) usage_error("kv put: add or set, not \"%s\"", op);
  buffer path = {0};
  kv_path(&path, "/v1/kv", key);
  buf_puts(&path, "&op=");
  buf_puts(&path, op);
  buf_puts(&path, "&path=");
  buf_url_encode(&path, field);
  /* The value travels as the body: any bytes, any length the node takes. */
  json *v = call(t, "POST", path.data, value, strlen(value));
  free(path.data);
  return print_value(v);
}

static int cmd_kv_del(const target *t, const char *key) {
  buffer path = {0};
  kv_path(&path, "/v1/kv", key);
  json *v = call(t, "DELETE", path.data, NULL, 0);
  free(path.data);
  if (v != NULL) printf("deleted %s\n", key);
  json_free(v);
  return 0;
}

static int cmd_kv_keys(const target *t, const char *prefix, int glob) {
  buffer path = {0};
  buf_puts(&path, "/v1/kv/keys?prefix=");
  buf_url_encode(&path, prefix);
  if (glob) buf_puts(&path, "&glob=1");
  json *v = call(t, "GET", path.data, NULL, 0);
  free(path.data);
  if (v == NULL) return 0;
  const json *keys = json_get(v, "keys");
  for (size_t i = 0; keys != NULL && i < keys->count; i++) printf("%s\n", json_text(keys->items[i]));
  json_free(v);
  return 0;
}

typedef struct stream_state {
  long remaining; /* events still to print; negative: no limit */
  int failed;
} stream_state;

/* One line of a stream: printed raw (--json) or as text. */
static int on_stream_line(const char *line, size_t len, void *userdata) {
  stream_state *st = userdata;
  if (len == 0) return 1; /* the node's keep-alive */
  json *v = json_parse(line, len);
  const char *event = json_text(json_get(v, "event"));
  const int counted = strcmp(event, "kv_changed") == 0 || strcmp(event, "mc_message") == 0;
  if (strcmp(event, "error") == 0) {
    fprintf(stderr, "lashupctl: %s\n", json_text(json_get(v, "error")));
    st->failed = 1;
  } else if (json_output) {
    fwrite(line, 1, len, stdout);
    putchar('\n');
  } else if (strcmp(event, "kv_changed") == 0) {
    const json *initial = json_get(v, "initial");
    const json *deleted = json_get(v, "deleted");
    buffer text = {0};
    if (deleted != NULL && deleted->boolean) {
      buf_puts(&text, "deleted");
    } else if (json_get(v, "value") != NULL) {
      json_write(&text, json_get(v, "value"));
    }
    printf("%s %s %s\n", initial != NULL && initial->boolean ? "current" : "changed", json_text(json_get(v, "key")),
           text.data != NULL ? text.data : "");
    free(text.data);
  } else if (strcmp(event, "kv_dump_done") == 0) {
    printf("-- %s keys; watching for changes\n", json_text(json_get(v, "keys")));
  } else if (strcmp(event, "mc_message") == 0) {
    printf("%s #%s %s: %s\n", json_text(json_get(v, "origin")), json_text(json_get(v, "sequence")),
           json_text(json_get(v, "topic")), json_text(json_get(v, "payload")));
  } else if (strcmp(event, "subscribed") == 0) {
    printf("-- subscribed to %s\n", json_text(json_get(v, "topic")));
  } else if (strcmp(event, "dropped") == 0) {
    printf("-- %s events dropped (this client was too slow)\n", json_text(json_get(v, "count")));
  }
  fflush(stdout);
  json_free(v);
  if (st->failed) return 0;
  if (counted && st->remaining > 0 && --st->remaining == 0) return 0;
  return 1;
}

static int run_stream(const target *t, const char *path, long count) {
  stream_state st = {count > 0 ? count : -1, 0};
  response resp = request(t, "GET", path, NULL, 0, on_stream_line, &st);
  if (resp.status != 200) {
    json *v = expect_ok(&resp); /* exits */
    json_free(v);
  }
  free(resp.body.data);
  return st.failed ? EXIT_REFUSED : 0;
}

static long parse_count(const char *text) {
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1) usage_error("--count: a positive number, not \"%s\"", text);
  return v;
}

static int cmd_kv_watch(const target *t, int argc, char **argv) {
  const char *prefix = "";
  int glob = 0;
  long count = -1;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--glob") == 0) {
      glob = 1;
    } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = parse_count(argv[++i]);
    } else if (argv[i][0] != '-') {
      prefix = argv[i];
    } else {
      usage_error("kv watch: unexpected %s", argv[i]);
    }
  }
  buffer path = {0};
  buf_puts(&path, "/v1/kv/watch?prefix=");
  buf_url_encode(&path, prefix);
  if (glob) buf_puts(&path, "&glob=1");
  int rc = run_stream(t, path.data, count);
  free(path.data);
  return rc;
}

static int cmd_mc_pub(const target *t, const char *topic, const char *payload) {
  buffer data = {0};
  buf_add(&data, "", 0);
  if (payload != NULL) {
    buf_puts(&data, payload);
  } else {
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) buf_add(&data, chunk, n);
  }
  buffer path = {0};
  buf_puts(&path, "/v1/mc/publish?topic=");
  buf_url_encode(&path, topic);
  json *v = call(t, "POST", path.data, data.data, data.len);
  if (v != NULL) printf("published %s bytes on %s\n", json_text(json_get(v, "bytes")), topic);
  json_free(v);
  free(path.data);
  free(data.data);
  return 0;
}

static int cmd_mc_sub(const target *t, int argc, char **argv) {
  const char *topic = NULL;
  long count = -1;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = parse_count(argv[++i]);
    } else if (argv[i][0] != '-' && topic == NULL) {
      topic = argv[i];
    } else {
      usage_error("mc sub: unexpected %s", argv[i]);
    }
  }
  if (topic == NULL) usage_error("mc sub needs a TOPIC");
  buffer path = {0};
  buf_puts(&path, "/v1/mc/subscribe?topic=");
  buf_url_encode(&path, topic);
  int rc = run_stream(t, path.data, count);
  free(path.data);
  return rc;
}

static int cmd_health(const target *t, const char *name) {
  buffer path = {0};
  buf_puts(&path, "/v1/health?name=");
  buf_url_encode(&path, name);
  response resp = request(t, "GET", path.data, NULL, 0, NULL, NULL);
  free(path.data);
  json *v = expect_ok(&resp);
  const json *alive = json_get(v, "alive");
  const int up = alive != NULL && alive->boolean;
  if (json_output) {
    fputs(resp.body.data, stdout);
  } else if (up) {
    printf("%s alive, round trip %s us\n", name, json_text(json_get(v, "rtt_us")));
  } else {
    printf("%s not alive\n", name);
  }
  json_free(v);
  free(resp.body.data);
  return up ? 0 : EXIT_REFUSED;
}

/* ---- main ------------------------------------------------------------------ */

static char *read_token(const char *file) {
  FILE *f = fopen(file, "r");
  if (f == NULL) die(EXIT_USAGE, "--token-file %s: %s", file, strerror(errno));
  char line[1024] = "";
  if (fgets(line, sizeof line, f) == NULL) line[0] = '\0';
  fclose(f);
  line[strcspn(line, "\r\n")] = '\0';
  if (line[0] == '\0') die(EXIT_USAGE, "--token-file %s: empty", file);
  return checked_alloc(strdup(line));
}

static void parse_url(const char *url, target *t) {
  const char *rest = url;
  if (strncmp(rest, "http://", 7) == 0) rest += 7;
  const char *colon = strrchr(rest, ':');
  if (colon == NULL || colon == rest || (size_t)(colon - rest) >= sizeof t->host) {
    usage_error("--url: http://HOST:PORT, not \"%s\"", url);
  }
  memcpy(t->host, rest, (size_t)(colon - rest));
  t->host[colon - rest] = '\0';
  if (t->host[0] == '[') { /* [::1] */
    memmove(t->host, t->host + 1, strlen(t->host));
    t->host[strcspn(t->host, "]")] = '\0';
  }
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || (*end != '\0' && *end != '/') || port < 1 || port > 65535) {
    usage_error("--url: bad port in \"%s\"", url);
  }
  t->port = (int)port;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  target t;
  memset(&t, 0, sizeof t);
  const char *url = NULL, *token_file = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(kUsage, stdout);
      return 0;
    } else if (strcmp(argv[i], "--json") == 0) {
      json_output = 1;
    } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
      t.socket_path = argv[++i];
    } else if (strcmp(argv[i], "--url") == 0 && i + 1 < argc) {
      url = argv[++i];
    } else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
      token_file = argv[++i];
    } else {
      usage_error("unknown option %s", argv[i]);
    }
  }
  if (t.socket_path == NULL && url == NULL) t.socket_path = getenv("LASHUPCTL_SOCKET");
  if ((t.socket_path == NULL) == (url == NULL)) usage_error("give either --socket PATH or --url URL");
  if (url != NULL) {
    parse_url(url, &t);
    if (token_file == NULL) usage_error("--url needs --token-file");
    t.token = read_token(token_file);
  }
  if (i >= argc) usage_error("no command");
  const char *command = argv[i++];
  int rest = argc - i;
  char **args = argv + i;
  int rc;
  if (strcmp(command, "status") == 0 && rest == 0) {
    rc = cmd_status(&t);
  } else if (strcmp(command, "members") == 0 && rest == 0) {
    rc = cmd_members(&t);
  } else if (strcmp(command, "tree") == 0) {
    const char *root = NULL;
    int dot = 0;
    for (int k = 0; k < rest; k++) {
      if (strcmp(args[k], "--dot") == 0) {
        dot = 1;
      } else if (strcmp(args[k], "--root") == 0 && k + 1 < rest) {
        root = args[++k];
      } else {
        usage_error("tree: unexpected %s", args[k]);
      }
    }
    rc = cmd_tree(&t, root, dot);
  } else if (strcmp(command, "links") == 0 && rest == 0) {
    rc = cmd_links(&t);
  } else if (strcmp(command, "kv") == 0 && rest >= 1) {
    const char *sub = args[0];
    if (strcmp(sub, "get") == 0 && rest == 2) {
      rc = cmd_kv_get(&t, args[1]);
    } else if (strcmp(sub, "put") == 0 && rest == 5) {
      rc = cmd_kv_put(&t, args[1], args[2], args[3], args[4]);
    } else if ((strcmp(sub, "del") == 0 || strcmp(sub, "delete") == 0) && rest == 2) {
      rc = cmd_kv_del(&t, args[1]);
    } else if (strcmp(sub, "keys") == 0 && rest <= 3) {
      const char *prefix = "";
      int glob = 0;
      for (int k = 1; k < rest; k++) {
        if (strcmp(args[k], "--glob") == 0) glob = 1;
        else prefix = args[k];
      }
      rc = cmd_kv_keys(&t, prefix, glob);
    } else if (strcmp(sub, "watch") == 0) {
      rc = cmd_kv_watch(&t, rest - 1, args + 1);
    } else {
      usage_error("kv: get KEY | put KEY add|set PATH VALUE | del KEY | keys [PREFIX] | watch [PREFIX]");
    }
  } else if (strcmp(command, "mc") == 0 && rest >= 2) {
    if (strcmp(args[0], "pub") == 0 && rest <= 3) {
      rc = cmd_mc_pub(&t, args[1], rest == 3 ? args[2] : NULL);
    } else if (strcmp(args[0], "sub") == 0) {
      rc = cmd_mc_sub(&t, rest - 1, args + 1);
    } else {
      usage_error("mc: pub TOPIC [PAYLOAD] | sub TOPIC [--count N]");
    }
  } else if (strcmp(command, "health") == 0 && rest == 1) {
    rc = cmd_health(&t, args[0]);
  } else {
    usage_error("unknown command or wrong arguments: %s", command);
  }
  free(t.token);
  return rc;
}
