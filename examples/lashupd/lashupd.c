/* lashupd: a daemon running one lashup node, printing its events as JSON
 * lines on stdout, plus a development CA to make the TLS material
 * (README.md beside this file). Written against the public header only. */
#define _GNU_SOURCE /* pipe2 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <lashup/lashup.h>

#include "devca.h"

enum {
  EXIT_RUNTIME_FAILURE = 1, /* the node could not start or stopped on its own */
  EXIT_USAGE = 2            /* bad command line or configuration */
};

/* With --leave-on-exit, the time the leave announcement gets to reach the
 * neighbours before the connections close. */
static const int kLeaveGraceMs = 200;

static const char kUsage[] =
    "usage:\n"
    "  lashupd [run] [--config FILE] [options]   run one node\n"
    "  lashupd ca init  --dir DIR [--force]       create DIR/ca.pem and DIR/ca.key\n"
    "  lashupd ca issue --dir DIR --name NAME [--name NAME ...]\n"
    "                                             create DIR/NAME.pem and DIR/NAME.key\n"
    "\n"
    "run options:\n"
    "  --config FILE            load a configuration file (key = value lines)\n"
    "  --name NAME              node_name\n"
    "  --listen HOST:PORT       listen_address\n"
    "  --advertise HOST:PORT    advertise_address\n"
    "  --contacts LIST          contact_nodes (comma-separated name@host:port)\n"
    "  --data-dir DIR           data_dir\n"
    "  --cluster-id ID          cluster_id\n"
    "  --tls-dir DIR            tls.ca_file=DIR/ca.pem, tls.cert_file=DIR/<name>.pem,\n"
    "                           tls.key_file=DIR/<name>.key\n"
    "  --admin unix:PATH|HOST:PORT  admin.listen: the admin API for lashupctl\n"
    "  --metrics HOST:PORT      metrics.listen: Prometheus metrics at /metrics\n"
    "  --set KEY=VALUE          any configuration key (repeatable; applied last, in order)\n"
    "  --status-interval-ms N   print a status line every N ms (0: never, the default)\n"
    "  --leave-on-exit          on SIGTERM/SIGINT, leave the cluster before stopping\n"
    "  --subscribe TOPIC        subscribe to a multicast topic from the start (repeatable)\n"
    "  --stdin-commands         read commands from stdin, one per line:\n"
    "                             publish TOPIC [PAYLOAD]\n"
    "                             burst TOPIC COUNT BYTES [RATE_PER_S]\n"
    "                             subscribe TOPIC | unsubscribe TOPIC | status\n"
    "                             kv-add KEY PATH AMOUNT | kv-set KEY PATH VALUE\n"
    "                             kv-get KEY | kv-delete KEY | kv-keys PREFIX\n"
    "                             kv-subscribe PREFIX | kv-unsubscribe ID\n"
    "  -h, --help               this text\n"
    "\n"
    "Events are printed on stdout, one JSON object per line. SIGUSR1 prints a\n"
    "status line; SIGTERM and SIGINT stop the node.\n";

static void usage_error(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("lashupd: ", stderr);
  vfprintf(stderr, format, args);
  fputs("\n(lashupd --help lists the options)\n", stderr);
  va_end(args);
  exit(EXIT_USAGE);
}

static uint64_t monotonic_now_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

/* ---- Command line --------------------------------------------------------- */

/* If argv[*index] is `flag` ("--flag VALUE" or "--flag=VALUE"), stores the
 * value, advances *index past it and returns 1; otherwise returns 0. */
static int take_value(int argc, char **argv, int *index, const char *flag, const char **value) {
  const char *arg = argv[*index];
  size_t flag_len = strlen(flag);
  if (strncmp(arg, flag, flag_len) != 0) return 0;
  if (arg[flag_len] == '=') {
    *value = arg + flag_len + 1;
    return 1;
  }
  if (arg[flag_len] != '\0') return 0;
  if (*index + 1 >= argc) usage_error("%s needs a value", flag);
  *index += 1;
  *value = argv[*index];
  return 1;
}

static int is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

typedef struct run_options {
  const char *config_file;
  const char *node_name;
  const char *listen_address;
  const char *advertise_address;
  const char *contact_nodes;
  const char *data_dir;
  const char *cluster_id;
  const char *tls_dir;
  const char *admin_listen;
  const char *metrics_listen;
  const char **sets; /* "KEY=VALUE" strings of argv, in order */
  size_t set_count;
  const char **topics; /* --subscribe values, in order */
  size_t topic_count;
  long status_interval_ms;
  int leave_on_exit;
  int stdin_commands;
} run_options;

static long parse_interval_ms(const char *text) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  /* An int: poll() takes the timeout as one. */
  if (errno != 0 || end == text || *end != '\0' || value < 0 || value > INT32_MAX) {
    usage_error("--status-interval-ms: \"%s\" is not a number of milliseconds in [0, %" PRId32 "]", text, INT32_MAX);
  }
  return value;
}

static void parse_run_options(int argc, char **argv, int first, run_options *options) {
  memset(options, 0, sizeof *options);
  options->sets = calloc((size_t)argc, sizeof *options->sets);
  options->topics = calloc((size_t)argc, sizeof *options->topics);
  if (options->sets == NULL || options->topics == NULL) {
    fputs("lashupd: out of memory\n", stderr);
    exit(EXIT_RUNTIME_FAILURE);
  }
  for (int i = first; i < argc; i++) {
    const char *arg = argv[i];
    const char *value = NULL;
    if (is_help(arg)) {
      fputs(kUsage, stdout);
      exit(0);
    } else if (strcmp(arg, "--leave-on-exit") == 0) {
      options->leave_on_exit = 1;
    } else if (strcmp(arg, "--stdin-commands") == 0) {
      options->stdin_commands = 1;
    } else if (take_value(argc, argv, &i, "--subscribe", &value)) {
      options->topics[options->topic_count++] = value;
    } else if (take_value(argc, argv, &i, "--config", &options->config_file) ||
               take_value(argc, argv, &i, "--name", &options->node_name) ||
               take_value(argc, argv, &i, "--listen", &options->listen_address) ||
               take_value(argc, argv, &i, "--advertise", &options->advertise_address) ||
               take_value(argc, argv, &i, "--contacts", &options->contact_nodes) ||
               take_value(argc, argv, &i, "--data-dir", &options->data_dir) ||
               take_value(argc, argv, &i, "--cluster-id", &options->cluster_id) ||
               take_value(argc, argv, &i, "--tls-dir", &options->tls_dir) ||
               take_value(argc, argv, &i, "--admin", &options->admin_listen) ||
               take_value(argc, argv, &i, "--metrics", &options->metrics_listen)) {
      /* stored */
    } else if (take_value(argc, argv, &i, "--set", &value)) {
      if (strchr(value, '=') == NULL || value[0] == '=') usage_error("--set expects KEY=VALUE, not \"%s\"", value);
      options->sets[options->set_count++] = value;
    } else if (take_value(argc, argv, &i, "--status-interval-ms", &value)) {
      options->status_interval_ms = parse_interval_ms(value);
    } else if (arg[0] == '-') {
      usage_error("unknown option %s", arg);
    } else {
      usage_error("unexpected argument \"%s\"", arg);
    }
  }
}

/* ---- Configuration ---------------------------------------------------------- */

static void set_key(lashup_config_t *cfg, const char *key, const char *value) {
  char err[512] = "";
  int rc = lashup_config_set(cfg, key, value, err, sizeof err);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: %s\n", err[0] != '\0' ? err : lashup_strerror(rc));
    exit(EXIT_USAGE);
  }
}

static void set_tls_files(lashup_config_t *cfg, const char *tls_dir) {
  char *node_name = NULL;
  if (lashup_config_get(cfg, "node_name", &node_name) != LASHUP_OK || node_name[0] == '\0') {
    lashup_free(node_name);
    usage_error("--tls-dir needs the node name (--name, or node_name in the configuration file)");
  }
  static const struct {
    const char *key;
    const char *file;
    const char *suffix;
  } files[] = {{"tls.ca_file", "ca", ".pem"}, {"tls.cert_file", NULL, ".pem"}, {"tls.key_file", NULL, ".key"}};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    const char *file = files[i].file != NULL ? files[i].file : node_name;
    size_t len = strlen(tls_dir) + 1 + strlen(file) + strlen(files[i].suffix) + 1;
    char *path = malloc(len);
    if (path == NULL) {
      fputs("lashupd: out of memory\n", stderr);
      exit(EXIT_RUNTIME_FAILURE);
    }
    snprintf(path, len, "%s/%s%s", tls_dir, file, files[i].suffix);
    set_key(cfg, files[i].key, path);
    free(path);
  }
  lashup_free(node_name);
}

/* The configuration file first, then the named flags, then --tls-dir (which
 * needs the node name from either), then every --set in order. */
static lashup_config_t *build_config(const run_options *options) {
  lashup_config_t *cfg = NULL;
  int rc = lashup_config_new(&cfg);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: %s: %s\n", lashup_strerror(rc), lashup_last_error());
    exit(EXIT_RUNTIME_FAILURE);
  }
  if (options->config_file != NULL) {
    char err[512] = "";
    rc = lashup_config_load_file(cfg, options->config_file, err, sizeof err);
    if (rc != LASHUP_OK) {
      fprintf(stderr, "lashupd: %s\n", err[0] != '\0' ? err : lashup_strerror(rc));
      exit(EXIT_USAGE);
    }
  }
  const struct {
    const char *key;
    const char *value;
  } flags[] = {
      {"node_name", options->node_name},
      {"listen_address", options->listen_address},
      {"advertise_address", options->advertise_address},
      {"contact_nodes", options->contact_nodes},
      {"data_dir", options->data_dir},
      {"cluster_id", options->cluster_id},
      {"admin.listen", options->admin_listen},
      {"metrics.listen", options->metrics_listen},
  };
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    if (flags[i].value != NULL) set_key(cfg, flags[i].key, flags[i].value);
  }
  if (options->tls_dir != NULL) set_tls_files(cfg, options->tls_dir);
  for (size_t i = 0; i < options->set_count; i++) {
    const char *assignment = options->sets[i];
    size_t key_len = (size_t)(strchr(assignment, '=') - assignment);
    char *key = strndup(assignment, key_len);
    if (key == NULL) {
      fputs("lashupd: out of memory\n", stderr);
      exit(EXIT_RUNTIME_FAILURE);
    }
    set_key(cfg, key, assignment + key_len + 1);
    free(key);
  }
  return cfg;
}

/* ---- JSON lines --------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence starting at s (NUL-terminated), or 0
 * when s does not start one (RFC 3629: no overlong forms, no surrogates). */
static size_t utf8_sequence_length(const unsigned char *s) {
  unsigned char lead = s[0];
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
    return s[1] >= low && s[1] <= high && (s[2] & 0xC0) == 0x80 ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
    return s[1] >= low && s[1] <= high && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
  }
  return 0;
}

/* A JSON string. Bytes that are not UTF-8 are written as \u00XX, so every
 * line stays valid JSON whatever the names hold. */
static void put_json_string(const char *text) {
  const unsigned char *s = (const unsigned char *)text;
  putchar('"');
  while (*s != '\0') {
    size_t len = utf8_sequence_length(s);
    if (*s == '"' || *s == '\\') {
      putchar('\\');
      putchar(*s);
    } else if (*s == '\n') {
      fputs("\\n", stdout);
    } else if (*s == '\t') {
      fputs("\\t", stdout);
    } else if (*s < 0x20 || *s == 0x7F || len == 0) {
      printf("\\u%04x", (unsigned)*s);
    } else {
      fwrite(s, 1, len, stdout);
      s += len;
      continue;
    }
    s++;
  }
  putchar('"');
}

static void begin_line(uint64_t mono_us, const char *event) {
  printf("{\"mono_us\":%" PRIu64 ",\"event\":\"%s\"", mono_us, event);
}

static void put_string_field(const char *key, const char *value) {
  printf(",\"%s\":", key);
  put_json_string(value);
}

/* While a batch of events is printed, lines are flushed once at its end
 * (one write for many multicast messages) instead of one by one. */
static int batching_lines = 0;

static void end_line(void) {
  fputs("}\n", stdout);
  if (!batching_lines) fflush(stdout);
}

static void put_error_line(const char *command, int rc) {
  begin_line(monotonic_now_us(), "command_failed");
  put_string_field("command", command);
  put_string_field("error", lashup_strerror(rc));
  put_string_field("detail", lashup_last_error());
  end_line();
}

/* ,"value":{...} (the library's JSON rendering), or ,"deleted":true for
 * NULL. */
static void put_kv_value_field(const lashup_kv_value_t *value) {
  char *json = NULL;
  if (value == NULL) {
    fputs(",\"deleted\":true", stdout);
  } else if (lashup_kv_value_json(value, &json) == LASHUP_OK) {
    printf(",\"value\":%s", json);
  }
  lashup_free(json);
}

static const char *reachability_name(int state) {
  switch (state) {
    case LASHUP_REACHABLE: return "reachable";
    case LASHUP_UNREACHABLE: return "unreachable";
    case LASHUP_LEFT: return "left";
    default: return "unknown";
  }
}

static const char *json_bool(int value) { return value ? "true" : "false"; }

/* Payloads up to this size are printed; larger ones only by their size. */
enum { kPayloadPrintMax = 4096 };

/* A multicast payload: as text when every byte is printable ASCII, else in
 * hex. */
static void put_payload_field(const unsigned char *data, size_t len) {
  if (len > kPayloadPrintMax) return;
  int text = 1;
  for (size_t i = 0; i < len && text; i++) text = data[i] >= 0x20 && data[i] <= 0x7E;
  if (text) {
    fputs(",\"payload\":\"", stdout);
    for (size_t i = 0; i < len; i++) {
      if (data[i] == '"' || data[i] == '\\') putchar('\\');
      putchar(data[i]);
    }
  } else {
    fputs(",\"payload_hex\":\"", stdout);
    for (size_t i = 0; i < len; i++) printf("%02x", data[i]);
  }
  putchar('"');
}

/* A KV burst (command "kv-burst") counts the completions of its writes
 * instead of printing them: see drain_events. */
typedef struct kv_burst {
  int active;
  char prefix[256];
  uint64_t keys;
  uint64_t started_us;
  uint64_t end_us;    /* no write is queued after this */
  int once;           /* SECONDS 0: each key written once, however long it takes */
  double rate_per_s;  /* 0: as fast as the node takes them */
  uint64_t queued;
  uint64_t in_flight;
  uint64_t acked;     /* completed with LASHUP_OK */
  uint64_t failed;    /* completed with an error */
  uint64_t again;     /* LASHUP_ERR_AGAIN answers, retried */
  uint64_t last_ack_us;
} kv_burst;
static kv_burst kv_burst_state;

static void print_event(const lashup_event_t *ev) {
  uint64_t mono_us = lashup_event_time_us(ev);
  const char *node = lashup_event_node(ev);
  int type = lashup_event_type(ev);
  switch (type) {
    case LASHUP_EVENT_MEMBER_UPDATED:
      begin_line(mono_us, "member_updated");
      put_string_field("node", node);
      printf(",\"incarnation\":%" PRIu64, lashup_event_incarnation(ev));
      break;
    case LASHUP_EVENT_MEMBER_REMOVED:
      begin_line(mono_us, "member_removed");
      put_string_field("node", node);
      break;
    case LASHUP_EVENT_REACHABILITY:
      begin_line(mono_us, "reachability");
      put_string_field("node", node);
      put_string_field("state", reachability_name(lashup_event_state(ev)));
      break;
    case LASHUP_EVENT_LINK_REPORT:
      begin_line(mono_us, "link_report");
      put_string_field("reporter", node);
      put_string_field("target", lashup_event_peer(ev));
      printf(",\"present\":%s", json_bool(lashup_event_state(ev)));
      break;
    case LASHUP_EVENT_NEIGHBOR:
      begin_line(mono_us, "neighbor");
      put_string_field("node", node);
      printf(",\"up\":%s", json_bool(lashup_event_state(ev)));
      break;
    case LASHUP_EVENT_HEALTH_CHECK:
      begin_line(mono_us, "health_check");
      put_string_field("node", node);
      printf(",\"alive\":%s,\"rtt_us\":%" PRIu64 ",\"request_id\":%" PRIu64, json_bool(lashup_event_state(ev)),
             lashup_event_rtt_us(ev), lashup_event_request_id(ev));
      break;
    case LASHUP_EVENT_MC_MESSAGE: {
      size_t len = 0;
      const unsigned char *payload = lashup_event_payload(ev, &len);
      begin_line(mono_us, "mc_message");
      put_string_field("origin", node);
      printf(",\"incarnation\":%" PRIu64 ",\"sequence\":%" PRIu64, lashup_event_incarnation(ev),
             lashup_event_sequence(ev));
      put_string_field("topic", lashup_event_topic(ev));
      printf(",\"bytes\":%zu", len);
      put_payload_field(payload, len);
      break;
    }
    case LASHUP_EVENT_KV_CHANGED: {
      size_t len = 0;
      const char *key = lashup_event_key(ev, &len);
      begin_line(mono_us, "kv_changed");
      printf(",\"subscription\":%" PRIu64, lashup_event_subscription(ev));
      put_string_field("key", key);
      printf(",\"initial\":%s", lashup_event_state(ev) ? "true" : "false");
      put_kv_value_field(lashup_event_kv_value(ev));
      break;
    }
    case LASHUP_EVENT_KV_DUMP_DONE:
      begin_line(mono_us, "kv_dump_done");
      printf(",\"subscription\":%" PRIu64, lashup_event_subscription(ev));
      break;
    case LASHUP_EVENT_KV_UPDATE_DONE:
      begin_line(mono_us, "kv_update_done");
      printf(",\"request_id\":%" PRIu64, lashup_event_request_id(ev));
      put_string_field("key", lashup_event_key(ev, NULL));
      if (lashup_event_status(ev) != LASHUP_OK) {
        put_string_field("error", lashup_strerror(lashup_event_status(ev)));
        put_string_field("detail", lashup_event_error(ev));
      }
      break;
    default: /* a newer library than this program */
      begin_line(mono_us, "unknown");
      printf(",\"type\":%d", type);
      put_string_field("node", node);
      break;
  }
  end_line();
}

/* Events printed per call of drain_events, so that a stream of multicast
 * messages leaves room for signals, commands and publishing. */
enum { kDrainBatchMax = 1024 };

/* Takes the queued events, at most kDrainBatchMax. Returns LASHUP_ERR_AGAIN
 * when the queue is empty, LASHUP_OK when events may be left, or the error
 * that ended the drain (LASHUP_ERR_CLOSED once the node stopped and its
 * queue is empty). */
static int drain_events(lashup_node_t *node) {
  lashup_event_t *ev = NULL;
  int rc = LASHUP_OK;
  batching_lines = 1;
  for (int taken = 0; taken < kDrainBatchMax && (rc = lashup_node_poll(node, &ev, 0)) == LASHUP_OK; taken++) {
    if (kv_burst_state.active && lashup_event_type(ev) == LASHUP_EVENT_KV_UPDATE_DONE) {
      kv_burst *b = &kv_burst_state;
      b->in_flight--;
      if (lashup_event_status(ev) == LASHUP_OK) {
        b->acked++;
      } else if (b->failed++ == 0) {
        /* The first failure is told; the rest are counted. */
        begin_line(monotonic_now_us(), "command_failed");
        put_string_field("command", "kv-burst");
        put_string_field("error", lashup_strerror(lashup_event_status(ev)));
        put_string_field("detail", lashup_event_error(ev));
        end_line();
      }
      b->last_ack_us = monotonic_now_us();
    } else {
      print_event(ev);
    }
    lashup_event_destroy(ev);
  }
  batching_lines = 0;
  fflush(stdout);
  return rc;
}

static uint64_t resident_kb(void) {
  FILE *statm = fopen("/proc/self/statm", "r");
  if (statm == NULL) return 0;
  unsigned long size_pages = 0;
  unsigned long resident_pages = 0;
  int fields = fscanf(statm, "%lu %lu", &size_pages, &resident_pages);
  fclose(statm);
  long page_size = sysconf(_SC_PAGESIZE);
  if (fields != 2 || page_size <= 0) return 0;
  return (uint64_t)resident_pages * (uint64_t)page_size / 1024u;
}

static uint64_t cpu_ms(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  uint64_t us = (uint64_t)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000u +
                (uint64_t)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  return us / 1000u;
}

static void print_status(lashup_node_t *node) {
  const char *self = lashup_node_name(node);
  lashup_members_t *members = NULL;
  int rc = lashup_node_members(node, &members);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: members: %s: %s\n", lashup_strerror(rc), lashup_last_error());
    return;
  }
  size_t count = lashup_members_count(members);
  size_t reachable = 0;
  for (size_t i = 0; i < count; i++) {
    if (lashup_members_state(members, i) == LASHUP_REACHABLE && strcmp(lashup_members_name(members, i), self) != 0) {
      reachable++;
    }
  }
  begin_line(monotonic_now_us(), "status");
  put_string_field("node", self);
  printf(",\"members\":%zu,\"reachable\":%zu,\"unreachable\":[", count, reachable);
  const char *separator = "";
  for (size_t i = 0; i < count; i++) {
    if (lashup_members_state(members, i) != LASHUP_UNREACHABLE) continue;
    fputs(separator, stdout);
    put_json_string(lashup_members_name(members, i));
    separator = ",";
  }
  fputs("],\"link_reports\":[", stdout);
  separator = "";
  for (size_t i = 0; i < count; i++) {
    for (size_t n = 0; n < lashup_members_link_report_count(members, i); n++) {
      fputs(separator, stdout);
      putchar('[');
      put_json_string(lashup_members_name(members, i));
      putchar(',');
      put_json_string(lashup_members_link_report(members, i, n));
      putchar(']');
      separator = ",";
    }
  }
  lashup_members_destroy(members);
  printf("],\"rss_kb\":%" PRIu64 ",\"cpu_ms\":%" PRIu64 ",\"stats\":{", resident_kb(), cpu_ms());
  separator = "";
  for (size_t i = 0; i < lashup_node_stat_count(); i++) {
    const char *name = lashup_node_stat_name(i);
    if (name == NULL) break;
    uint64_t value = 0;
    fputs(separator, stdout);
    put_json_string(name);
    /* null keeps every name present even if one cannot be read. */
    if (lashup_node_stat(node, name, &value) == LASHUP_OK) {
      printf(":%" PRIu64, value);
    } else {
      fputs(":null", stdout);
    }
    separator = ",";
  }
  putchar('}');
  end_line();
}

static int print_started(lashup_node_t *node) {
  char *address = NULL;
  uint64_t incarnation = 0;
  int rc = lashup_node_address(node, &address);
  if (rc == LASHUP_OK) rc = lashup_node_incarnation(node, &incarnation);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: %s: %s\n", lashup_strerror(rc), lashup_last_error());
    lashup_free(address);
    return rc;
  }
  begin_line(monotonic_now_us(), "started");
  put_string_field("node", lashup_node_name(node));
  put_string_field("address", address);
  printf(",\"incarnation\":%" PRIu64 ",\"pid\":%ld", incarnation, (long)getpid());
  end_line();
  lashup_free(address);
  return LASHUP_OK;
}

/* ---- Signals -------------------------------------------------------------- */

/* Self-pipe: the handler (which may run on any thread, the node's included)
 * writes the signal number; the main loop polls the read end. */
static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo) {
  int saved_errno = errno;
  unsigned char byte = (unsigned char)signo;
  ssize_t ignored = write(signal_pipe[1], &byte, 1); /* full pipe: a signal is pending already */
  (void)ignored;
  errno = saved_errno;
}

static void install_signal_handlers(void) {
  if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    perror("lashupd: pipe2");
    exit(EXIT_RUNTIME_FAILURE);
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  const int handled[] = {SIGTERM, SIGINT, SIGUSR1};
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) {
    if (sigaction(handled[i], &action, NULL) != 0) {
      perror("lashupd: sigaction");
      exit(EXIT_RUNTIME_FAILURE);
    }
  }
  /* A peer closing a TLS connection while the node writes to it must fail
   * that write, not kill the daemon; so must a closed stdout. */
  signal(SIGPIPE, SIG_IGN);
}

/* Reads the pending signals. Returns 1 when one of them asks to stop. */
static int handle_signals(lashup_node_t *node) {
  unsigned char signals[64];
  ssize_t n;
  int stop = 0;
  while ((n = read(signal_pipe[0], signals, sizeof signals)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      if (signals[i] == SIGUSR1) {
        print_status(node);
      } else {
        stop = 1;
      }
    }
  }
  return stop;
}

/* Milliseconds from now until deadline_us for poll(), rounded up. */
static int poll_timeout_ms(uint64_t deadline_us) {
  uint64_t now = monotonic_now_us();
  if (deadline_us <= now) return 0;
  uint64_t ms = (deadline_us - now + 999) / 1000;
  return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* ---- Commands on stdin ----------------------------------------------------------
 *
 * With --stdin-commands, each line of stdin is a command (README.md):
 *   publish TOPIC [PAYLOAD]             one message; waits for its sequence
 *   burst TOPIC COUNT BYTES [RATE_PER_S] COUNT messages without waiting for
 *                                        each, at RATE_PER_S (0 or none: as
 *                                        fast as the node takes them)
 *   subscribe TOPIC, unsubscribe TOPIC, status
 * A burst runs inside the event loop, so events keep being printed; the
 * next command is read when it is done. */

enum {
  kCommandLineMax = 8192,
  kBurstBatchMax = 256,              /* publishes between two looks at the events */
  kBurstBytesMax = 64 * 1024 * 1024, /* refused above: the library's limit is lower anyway */
  kAgainRetryMs = 1                  /* after LASHUP_ERR_AGAIN (the node's command queue is full) */
};

typedef struct burst {
  int active;
  char topic[256];
  uint64_t count;
  uint64_t sent;
  uint64_t again; /* LASHUP_ERR_AGAIN answers, retried */
  double rate_per_s;
  uint64_t started_us;
  unsigned char *payload;
  size_t bytes;
} burst;

typedef struct commands {
  int fd; /* -1 when not reading commands, or after EOF */
  char line[kCommandLineMax];
  size_t used;
  int overlong; /* discarding the rest of a line that did not fit */
  burst burst;
} commands;

static void put_published_line(uint64_t mono_us, const char *topic, size_t bytes) {
  begin_line(mono_us, "published");
  put_string_field("topic", topic);
  printf(",\"bytes\":%zu", bytes);
}

static void command_publish(lashup_node_t *node, const char *topic, const char *payload) {
  size_t len = strlen(payload);
  uint64_t sequence = 0;
  uint64_t mono_us = monotonic_now_us();
  int rc = lashup_mc_publish_seq(node, topic, payload, len, &sequence);
  if (rc != LASHUP_OK) {
    put_error_line("publish", rc);
    return;
  }
  put_published_line(mono_us, topic, len);
  printf(",\"sequence\":%" PRIu64, sequence);
  end_line();
}

static int parse_u64(const char *text, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') return 0;
  *out = value;
  return 1;
}

static void command_burst(burst *b, char **args, int arg_count) {
  uint64_t count = 0;
  uint64_t bytes = 0;
  char *end = NULL;
  double rate = arg_count == 4 ? strtod(args[3], &end) : 0;
  if (arg_count < 3 || arg_count > 4 || strlen(args[0]) >= sizeof b->topic || !parse_u64(args[1], &count) ||
      !parse_u64(args[2], &bytes) || bytes > kBurstBytesMax || (arg_count == 4 && (*end != '\0' || rate < 0))) {
    begin_line(monotonic_now_us(), "command_failed");
    put_string_field("command", "burst");
    put_string_field("error", "usage: burst TOPIC COUNT BYTES [RATE_PER_S]");
    end_line();
    return;
  }
  free(b->payload);
  memset(b, 0, sizeof *b);
  b->payload = malloc(bytes > 0 ? bytes : 1);
  if (b->payload == NULL) {
    fputs("lashupd: out of memory\n", stderr);
    exit(EXIT_RUNTIME_FAILURE);
  }
  memcpy(b->topic, args[0], strlen(args[0]) + 1);
  b->count = count;
  b->bytes = (size_t)bytes;
  b->rate_per_s = rate;
  b->started_us = monotonic_now_us();
  b->active = 1;
}

/* The payload of the burst's index-th message: the index in decimal,
 * padded with '.' to the burst's size (truncated if shorter). */
static void fill_burst_payload(burst *b, uint64_t index) {
  char digits[24];
  int n = snprintf(digits, sizeof digits, "%" PRIu64, index);
  size_t copied = (size_t)n < b->bytes ? (size_t)n : b->bytes;
  memcpy(b->payload, digits, copied);
  memset(b->payload + copied, '.', b->bytes - copied);
}

/* Publishes what the burst may send now. Returns the milliseconds until it
 * can send more (0: at once), or -1 once it is done. */
static int burst_step(lashup_node_t *node, burst *b) {
  int wait_ms = 0;
  batching_lines = 1;
  for (int batch = 0; b->sent < b->count && batch < kBurstBatchMax; batch++) {
    uint64_t now = monotonic_now_us();
    if (b->rate_per_s > 0) {
      uint64_t due_us = b->started_us + (uint64_t)((double)b->sent * 1e6 / b->rate_per_s);
      if (due_us > now) {
        wait_ms = poll_timeout_ms(due_us);
        break;
      }
    }
    fill_burst_payload(b, b->sent + 1);
    int rc = lashup_mc_publish(node, b->topic, b->payload, b->bytes);
    if (rc == LASHUP_ERR_AGAIN) {
      b->again++;
      wait_ms = kAgainRetryMs;
      break;
    }
    if (rc != LASHUP_OK) {
      put_error_line("burst", rc);
      b->count = b->sent; /* ends it */
      break;
    }
    b->sent++;
    put_published_line(now, b->topic, b->bytes);
    printf(",\"index\":%" PRIu64, b->sent);
    end_line();
  }
  if (b->sent == b->count) {
    begin_line(monotonic_now_us(), "burst_done");
    put_string_field("topic", b->topic);
    printf(",\"published\":%" PRIu64 ",\"again\":%" PRIu64 ",\"elapsed_us\":%" PRIu64, b->sent, b->again,
           monotonic_now_us() - b->started_us);
    end_line();
    b->active = 0;
    wait_ms = -1;
  }
  batching_lines = 0;
  fflush(stdout);
  return wait_ms;
}

static void command_subscription(lashup_node_t *node, const char *command, const char *topic) {
  int subscribe = strcmp(command, "subscribe") == 0;
  int rc = subscribe ? lashup_mc_subscribe(node, topic) : lashup_mc_unsubscribe(node, topic);
  if (rc != LASHUP_OK) {
    put_error_line(command, rc);
    return;
  }
  begin_line(monotonic_now_us(), subscribe ? "subscribed" : "unsubscribed");
  put_string_field("topic", topic);
  end_line();
}

/* ---- KV commands: "kv-add KEY PATH AMOUNT", "kv-set KEY PATH VALUE" (a
 * register written with the wall clock in microseconds as its timestamp),
 * "kv-get KEY", "kv-delete KEY", "kv-keys PREFIX", "kv-subscribe PREFIX",
 * "kv-unsubscribe ID". */

static void put_kv_line(const char *event, const char *key, const lashup_kv_value_t *value) {
  begin_line(monotonic_now_us(), event);
  put_string_field("key", key);
  if (value != NULL) put_kv_value_field(value);
  end_line();
}

static void command_kv_write(lashup_node_t *node, const char *command, char **args) {
  lashup_kv_ops_t *ops = NULL;
  int rc = lashup_kv_ops_new(&ops);
  if (rc == LASHUP_OK && strcmp(command, "kv-add") == 0) {
    char *end = NULL;
    errno = 0;
    long long amount = strtoll(args[2], &end, 10);
    if (errno != 0 || end == args[2] || *end != '\0') {
      lashup_kv_ops_destroy(ops);
      begin_line(monotonic_now_us(), "command_failed");
      put_string_field("command", command);
      put_string_field("error", "usage: kv-add KEY PATH AMOUNT (a signed 64-bit number)");
      end_line();
      return;
    }
    rc = lashup_kv_ops_counter_add(ops, args[1], (int64_t)amount);
  } else if (rc == LASHUP_OK) {
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t timestamp = (uint64_t)wall.tv_sec * 1000000u + (uint64_t)wall.tv_nsec / 1000u;
    rc = lashup_kv_ops_register_set(ops, args[1], args[2], strlen(args[2]), timestamp);
  }
  lashup_kv_value_t *value = NULL;
  const uint64_t started_us = monotonic_now_us();
  if (rc == LASHUP_OK) rc = lashup_kv_update(node, args[0], strlen(args[0]), ops, NULL, &value);
  lashup_kv_ops_destroy(ops);
  if (rc != LASHUP_OK) {
    put_error_line(command, rc);
    return;
  }
  begin_line(monotonic_now_us(), "kv_written");
  put_string_field("key", args[0]);
  printf(",\"started_us\":%" PRIu64, started_us);
  put_kv_value_field(value);
  end_line();
  lashup_kv_value_destroy(value);
}

/* "kv-burst PREFIX KEYS SECONDS": for SECONDS, adds 1 to the counter "n" of
 * the keys PREFIX0 .. PREFIX<KEYS-1> in turn with lashup_kv_update_async, as
 * fast as the node takes them (at most kKvBurstInFlight pending), then waits
 * for every completion and prints kv_burst_done. SECONDS 0: each key once. */
enum { kKvBurstInFlight = 2048 };

static void command_kv_burst(char **args, int arg_count) {
  kv_burst *b = &kv_burst_state;
  uint64_t keys = 0, seconds = 0;
  char *end = NULL;
  double rate = arg_count == 4 ? strtod(args[3], &end) : 0;
  if (arg_count < 3 || arg_count > 4 || strlen(args[0]) + 24 >= sizeof b->prefix || !parse_u64(args[1], &keys) ||
      keys == 0 || !parse_u64(args[2], &seconds) || seconds > 3600 || (arg_count == 4 && (*end != '\0' || rate < 0))) {
    begin_line(monotonic_now_us(), "command_failed");
    put_string_field("command", "kv-burst");
    put_string_field("error", "usage: kv-burst PREFIX KEYS SECONDS [RATE_PER_S]");
    end_line();
    return;
  }
  memset(b, 0, sizeof *b);
  memcpy(b->prefix, args[0], strlen(args[0]) + 1);
  b->keys = keys;
  b->started_us = monotonic_now_us();
  b->end_us = b->started_us + seconds * 1000000u;
  b->once = seconds == 0;
  b->rate_per_s = rate;
  b->active = 1;
}

/* Queues what the burst may queue now. Returns the milliseconds until the
 * next step (0: at once), or -1 once it is done. */
static int kv_burst_step(lashup_node_t *node) {
  kv_burst *b = &kv_burst_state;
  int wait_ms = 0;
  lashup_kv_ops_t *ops = NULL;
  if (lashup_kv_ops_new(&ops) != LASHUP_OK || lashup_kv_ops_counter_add(ops, "n", 1) != LASHUP_OK) {
    fputs("lashupd: out of memory\n", stderr);
    exit(EXIT_RUNTIME_FAILURE);
  }
  char key[300];
  for (int batch = 0; batch < kBurstBatchMax && b->in_flight < kKvBurstInFlight; batch++) {
    if (b->once ? b->queued >= b->keys : monotonic_now_us() >= b->end_us) break;
    if (b->rate_per_s > 0) {
      uint64_t due_us = b->started_us + (uint64_t)((double)b->queued * 1e6 / b->rate_per_s);
      if (due_us > monotonic_now_us()) {
        wait_ms = poll_timeout_ms(due_us);
        break;
      }
    }
    int n = snprintf(key, sizeof key, "%s%" PRIu64, b->prefix, b->queued % b->keys);
    int rc = lashup_kv_update_async(node, key, (size_t)n, ops, NULL, NULL);
    if (rc == LASHUP_ERR_AGAIN) {
      b->again++;
      wait_ms = kAgainRetryMs;
      break;
    }
    if (rc != LASHUP_OK) {
      put_error_line("kv-burst", rc);
      b->end_us = monotonic_now_us(); /* ends it */
      b->once = 0;
      break;
    }
    b->queued++;
    b->in_flight++;
  }
  lashup_kv_ops_destroy(ops);
  if (b->in_flight >= kKvBurstInFlight) wait_ms = kAgainRetryMs;
  if (b->once ? b->queued >= b->keys : monotonic_now_us() >= b->end_us) {
    if (b->in_flight > 0) return kAgainRetryMs; /* completions arrive as events */
    begin_line(monotonic_now_us(), "kv_burst_done");
    put_string_field("prefix", b->prefix);
    printf(",\"keys\":%" PRIu64 ",\"written\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"again\":%" PRIu64
           ",\"started_us\":%" PRIu64 ",\"last_ack_us\":%" PRIu64,
           b->keys, b->acked, b->failed, b->again, b->started_us, b->last_ack_us);
    end_line();
    b->active = 0;
    return -1;
  }
  return wait_ms;
}

/* "kv-wait PREFIX TOTAL TIMEOUT_MS": waits until the counters "n" of the keys
 * starting with PREFIX add up to TOTAL in this node's replica (looking every
 * kKvWaitPeriodMs), then prints kv_complete; kv_wait_timeout after
 * TIMEOUT_MS. */
enum { kKvWaitPeriodMs = 2 };
static struct {
  int active;
  char prefix[256];
  uint64_t total;
  uint64_t started_us;
  uint64_t deadline_us;
} kv_wait_state;

static void command_kv_wait(char **args, int arg_count) {
  uint64_t total = 0, timeout_ms = 0;
  if (arg_count != 3 || strlen(args[0]) >= sizeof kv_wait_state.prefix || !parse_u64(args[1], &total) ||
      !parse_u64(args[2], &timeout_ms)) {
    begin_line(monotonic_now_us(), "command_failed");
    put_string_field("command", "kv-wait");
    put_string_field("error", "usage: kv-wait PREFIX TOTAL TIMEOUT_MS");
    end_line();
    return;
  }
  memcpy(kv_wait_state.prefix, args[0], strlen(args[0]) + 1);
  kv_wait_state.total = total;
  kv_wait_state.started_us = monotonic_now_us();
  kv_wait_state.deadline_us = kv_wait_state.started_us + timeout_ms * 1000u;
  kv_wait_state.active = 1;
}

/* The sum of the counters "n" of the keys starting with prefix, and how many
 * keys hold one. */
static uint64_t kv_counter_sum(lashup_node_t *node, const char *prefix, uint64_t *keys_out) {
  uint64_t sum = 0, keys = 0;
  lashup_kv_keys_t *list = NULL;
  if (lashup_kv_keys(node, prefix, 0, &list) != LASHUP_OK) return 0;
  for (size_t i = 0; i < lashup_kv_keys_count(list); i++) {
    size_t len = 0;
    const void *key = lashup_kv_keys_at(list, i, &len);
    lashup_kv_value_t *value = NULL;
    if (lashup_kv_get(node, key, len, &value) != LASHUP_OK) continue;
    for (size_t f = 0; f < lashup_kv_value_field_count(value); f++) {
      size_t name_len = 0;
      const char *name = lashup_kv_value_field_name(value, f, &name_len);
      if (lashup_kv_value_field_type(value, f) == LASHUP_KV_COUNTER && name_len == 1 && name[0] == 'n') {
        sum += (uint64_t)lashup_kv_value_counter(value, f);
        keys++;
      }
    }
    lashup_kv_value_destroy(value);
  }
  lashup_kv_keys_destroy(list);
  if (keys_out != NULL) *keys_out = keys;
  return sum;
}

/* Returns the milliseconds until the next look, or -1 once done. */
static int kv_wait_step(lashup_node_t *node) {
  uint64_t keys = 0;
  const uint64_t sum = kv_counter_sum(node, kv_wait_state.prefix, &keys);
  const uint64_t now = monotonic_now_us();
  const int complete = sum >= kv_wait_state.total;
  if (!complete && now < kv_wait_state.deadline_us) return kKvWaitPeriodMs;
  begin_line(now, complete ? "kv_complete" : "kv_wait_timeout");
  put_string_field("prefix", kv_wait_state.prefix);
  printf(",\"total\":%" PRIu64 ",\"sum\":%" PRIu64 ",\"keys\":%" PRIu64 ",\"waited_us\":%" PRIu64,
         kv_wait_state.total, sum, keys, now - kv_wait_state.started_us);
  end_line();
  kv_wait_state.active = 0;
  return -1;
}

/* A command that runs over several loop iterations is going on: the next
 * command waits for its end. */
static int busy(const commands *c) { return c->burst.active || kv_burst_state.active || kv_wait_state.active; }

static void command_kv_get(lashup_node_t *node, const char *key) {
  lashup_kv_value_t *value = NULL;
  int rc = lashup_kv_get(node, key, strlen(key), &value);
  if (rc != LASHUP_OK) {
    put_error_line("kv-get", rc);
    return;
  }
  put_kv_line("kv_value", key, value);
  lashup_kv_value_destroy(value);
}

static void command_kv_delete(lashup_node_t *node, const char *key) {
  int rc = lashup_kv_delete(node, key, strlen(key));
  if (rc != LASHUP_OK) {
    put_error_line("kv-delete", rc);
    return;
  }
  put_kv_line("kv_deleted", key, NULL);
}

static void command_kv_keys(lashup_node_t *node, const char *prefix) {
  lashup_kv_keys_t *keys = NULL;
  int rc = lashup_kv_keys(node, prefix, 0, &keys);
  if (rc != LASHUP_OK) {
    put_error_line("kv-keys", rc);
    return;
  }
  begin_line(monotonic_now_us(), "kv_keys");
  put_string_field("prefix", prefix);
  fputs(",\"keys\":[", stdout);
  for (size_t i = 0; i < lashup_kv_keys_count(keys); i++) {
    if (i > 0) putchar(',');
    put_json_string(lashup_kv_keys_at(keys, i, NULL));
  }
  putchar(']');
  end_line();
  lashup_kv_keys_destroy(keys);
}

static void command_kv_subscription(lashup_node_t *node, const char *command, const char *arg) {
  uint64_t id = 0;
  int subscribe = strcmp(command, "kv-subscribe") == 0;
  int rc = LASHUP_ERR_INVALID;
  if (subscribe) {
    rc = lashup_kv_subscribe(node, arg, 0, &id);
  } else if (parse_u64(arg, &id)) {
    rc = lashup_kv_unsubscribe(node, id);
  }
  if (rc != LASHUP_OK) {
    put_error_line(command, rc);
    return;
  }
  begin_line(monotonic_now_us(), subscribe ? "kv_subscribed" : "kv_unsubscribed");
  printf(",\"subscription\":%" PRIu64, id);
  end_line();
}

static void run_command(lashup_node_t *node, commands *c, char *line) {
  /* "publish TOPIC PAYLOAD": the payload is the rest of the line, spaces
   * included; the other commands split on single spaces. */
  char *args[5];
  int arg_count = 0;
  char *command = line;
  char *rest = strchr(line, ' ');
  if (rest != NULL) *rest++ = '\0';
  if (command[0] == '\0') return; /* a blank line */
  if (strcmp(command, "publish") == 0 && rest != NULL) {
    char *payload = strchr(rest, ' ');
    if (payload != NULL) *payload++ = '\0';
    command_publish(node, rest, payload != NULL ? payload : "");
    return;
  }
  while (rest != NULL && arg_count < 5) {
    args[arg_count++] = rest;
    rest = strchr(rest, ' ');
    if (rest != NULL) *rest++ = '\0';
  }
  if (strcmp(command, "burst") == 0 && rest == NULL) {
    command_burst(&c->burst, args, arg_count);
  } else if ((strcmp(command, "subscribe") == 0 || strcmp(command, "unsubscribe") == 0) && arg_count == 1) {
    command_subscription(node, command, args[0]);
  } else if (strcmp(command, "status") == 0 && arg_count == 0) {
    print_status(node);
  } else if ((strcmp(command, "kv-add") == 0 || strcmp(command, "kv-set") == 0) && arg_count == 3) {
    command_kv_write(node, command, args);
  } else if (strcmp(command, "kv-get") == 0 && arg_count == 1) {
    command_kv_get(node, args[0]);
  } else if (strcmp(command, "kv-delete") == 0 && arg_count == 1) {
    command_kv_delete(node, args[0]);
  } else if (strcmp(command, "kv-keys") == 0 && arg_count <= 1) {
    command_kv_keys(node, arg_count == 1 ? args[0] : "");
  } else if ((strcmp(command, "kv-subscribe") == 0 || strcmp(command, "kv-unsubscribe") == 0) && arg_count == 1) {
    command_kv_subscription(node, command, args[0]);
  } else if (strcmp(command, "kv-burst") == 0 && rest == NULL) {
    command_kv_burst(args, arg_count);
  } else if (strcmp(command, "kv-wait") == 0 && rest == NULL) {
    command_kv_wait(args, arg_count);
  } else {
    begin_line(monotonic_now_us(), "command_failed");
    put_string_field("command", command);
    put_string_field("error", "unknown command or wrong arguments");
    end_line();
  }
}

/* Runs the complete lines read so far, stopping when a burst starts (the
 * rest waits for its end). */
static void run_commands(lashup_node_t *node, commands *c) {
  char *newline;
  while (!busy(c) && (newline = memchr(c->line, '\n', c->used)) != NULL) {
    size_t length = (size_t)(newline - c->line);
    *newline = '\0';
    if (length > 0 && c->line[length - 1] == '\r') c->line[length - 1] = '\0';
    if (!c->overlong) run_command(node, c, c->line);
    c->overlong = 0;
    c->used -= length + 1;
    memmove(c->line, newline + 1, c->used);
  }
}

/* Reads what stdin holds (poll said it is readable, so read does not
 * block) and runs the complete lines. */
static void read_commands(lashup_node_t *node, commands *c) {
  if (c->used == sizeof c->line) {
    /* A line longer than the buffer: reported, then skipped to its end. */
    begin_line(monotonic_now_us(), "command_failed");
    put_string_field("command", "");
    put_string_field("error", "command line too long");
    end_line();
    c->used = 0;
    c->overlong = 1;
  }
  ssize_t n = read(c->fd, c->line + c->used, sizeof c->line - c->used);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {
    c->fd = -1; /* EOF or error: no more commands; the node keeps running */
    return;
  }
  c->used += (size_t)n;
  run_commands(node, c);
}

/* ---- Run -------------------------------------------------------------------- */

/* Prints events until a stop signal (returns 0) or until the node stops on
 * its own or polling fails (returns 1). Runs the commands of stdin when
 * c->fd is not -1. */
static int event_loop(lashup_node_t *node, long status_interval_ms, commands *c) {
  uint64_t interval_us = (uint64_t)status_interval_ms * 1000u;
  uint64_t next_status_us = monotonic_now_us() + interval_us;
  for (;;) {
    int timeout_ms = interval_us > 0 ? poll_timeout_ms(next_status_us) : -1;
    if (busy(c)) {
      int step_ms = c->burst.active    ? burst_step(node, &c->burst)
                    : kv_burst_state.active ? kv_burst_step(node)
                                            : kv_wait_step(node);
      if (step_ms < 0) run_commands(node, c); /* those that waited for it */
      if (step_ms >= 0 && (timeout_ms < 0 || step_ms < timeout_ms)) timeout_ms = step_ms;
      if (busy(c) && timeout_ms < 0) timeout_ms = 0;
    }
    /* While a burst runs, stdin waits (a negative fd is ignored by poll). */
    struct pollfd fds[3] = {{.fd = signal_pipe[0], .events = POLLIN},
                            {.fd = lashup_node_event_fd(node), .events = POLLIN},
                            {.fd = busy(c) ? -1 : c->fd, .events = POLLIN}};
    if (poll(fds, 3, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      perror("lashupd: poll");
      return 1;
    }
    if (fds[1].revents != 0) {
      int rc = drain_events(node);
      if (rc != LASHUP_ERR_AGAIN && rc != LASHUP_OK) {
        fprintf(stderr, "lashupd: the node stopped: %s: %s\n", lashup_strerror(rc), lashup_last_error());
        return 1;
      }
    }
    if (fds[2].revents != 0) read_commands(node, c);
    if (fds[0].revents != 0 && handle_signals(node)) return 0;
    if (interval_us > 0 && monotonic_now_us() >= next_status_us) {
      print_status(node);
      next_status_us += interval_us;
      /* After a stall, the next line comes one interval from now, not in a burst. */
      uint64_t now = monotonic_now_us();
      if (next_status_us <= now) next_status_us = now + interval_us;
    }
  }
}

/* Announces the leave, then keeps printing events for kLeaveGraceMs while
 * the announcement goes out. */
static void leave_cluster(lashup_node_t *node) {
  int rc = lashup_node_leave(node);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: leave: %s: %s\n", lashup_strerror(rc), lashup_last_error());
    return;
  }
  uint64_t deadline_us = monotonic_now_us() + (uint64_t)kLeaveGraceMs * 1000u;
  int timeout_ms;
  while ((timeout_ms = poll_timeout_ms(deadline_us)) > 0) {
    struct pollfd fd = {.fd = lashup_node_event_fd(node), .events = POLLIN};
    if (poll(&fd, 1, timeout_ms) > 0) {
      int drained = drain_events(node);
      if (drained != LASHUP_ERR_AGAIN && drained != LASHUP_OK) return;
    }
  }
}

/* The node's log messages ("text key=value ..."), as one structured line on
 * stderr each: UTC time, level, component, msg="text", then the fields. */
static void on_log(int level, const char *component, const char *message, void *userdata) {
  (void)userdata;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm utc;
  gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  /* The text ends where the first key=value field starts. */
  size_t text_len = strlen(message);
  for (const char *p = message; (p = strchr(p, ' ')) != NULL; p++) {
    const char *end = p + 1 + strcspn(p + 1, " ");
    const char *eq = memchr(p + 1, '=', (size_t)(end - p - 1));
    if (eq != NULL && eq > p + 1) {
      text_len = (size_t)(p - message);
      break;
    }
  }
  /* One write per line; the text quoted, with '"' and '\\' escaped. */
  char line[4096];
  int len = snprintf(line, sizeof line, "%s.%03ldZ level=%s component=%s msg=\"", stamp, now.tv_nsec / 1000000L,
                     lashup_log_level_name(level), component);
  for (size_t i = 0; i < text_len && len > 0 && (size_t)len + 3 < sizeof line; i++) {
    const char c = message[i];
    if (c == '"' || c == '\\') line[len++] = '\\';
    line[len++] = (unsigned char)c < 0x20 ? ' ' : c;
  }
  if (len > 0 && (size_t)len < sizeof line) {
    const int rest = snprintf(line + len, sizeof line - (size_t)len, "\"%s\n", message + text_len);
    if (rest < 0 || (size_t)rest >= sizeof line - (size_t)len) strcpy(line + sizeof line - 5, "...\n"); /* cut */
    fputs(line, stderr);
  }
}

static int run(const run_options *options) {
  lashup_config_t *cfg = build_config(options);
  lashup_node_t *node = NULL;
  char err[512] = "";
  int rc = lashup_node_new(&node, cfg, err, sizeof err);
  lashup_config_destroy(cfg);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: %s\n", err[0] != '\0' ? err : lashup_strerror(rc));
    return EXIT_USAGE;
  }
  install_signal_handlers();
  lashup_node_set_log_cb(node, on_log, NULL);
  for (size_t i = 0; i < options->topic_count; i++) {
    rc = lashup_mc_subscribe(node, options->topics[i]);
    if (rc != LASHUP_OK) {
      fprintf(stderr, "lashupd: --subscribe %s: %s\n", options->topics[i], lashup_last_error());
      lashup_node_destroy(node);
      return EXIT_USAGE;
    }
  }
  rc = lashup_node_start(node);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: cannot start: %s: %s\n", lashup_strerror(rc), lashup_last_error());
    lashup_node_destroy(node);
    return EXIT_RUNTIME_FAILURE;
  }
  int status = EXIT_RUNTIME_FAILURE;
  static commands stdin_commands; /* large: not on the stack */
  stdin_commands.fd = options->stdin_commands ? STDIN_FILENO : -1;
  if (print_started(node) == LASHUP_OK) {
    status = event_loop(node, options->status_interval_ms, &stdin_commands) == 0 ? 0 : EXIT_RUNTIME_FAILURE;
    if (status == 0 && options->leave_on_exit) leave_cluster(node);
  }
  free(stdin_commands.burst.payload);
  rc = lashup_node_stop(node);
  if (rc != LASHUP_OK) {
    fprintf(stderr, "lashupd: stop: %s: %s\n", lashup_strerror(rc), lashup_last_error());
    status = EXIT_RUNTIME_FAILURE;
  }
  while (drain_events(node) == LASHUP_OK) {
  } /* what was queued before the stop */
  begin_line(monotonic_now_us(), "stopped");
  put_string_field("node", lashup_node_name(node));
  end_line();
  lashup_node_destroy(node);
  return status;
}

/* ---- ca ---------------------------------------------------------------------- */

static const char *const kReservedNames[] = {"ca"}; /* would overwrite the CA's own files */

/* A certificate name must be a valid node name (the library's rule; it also
 * keeps '/' out of the file names). */
static void check_node_name(const char *name) {
  for (size_t i = 0; i < sizeof kReservedNames / sizeof kReservedNames[0]; i++) {
    if (strcmp(name, kReservedNames[i]) == 0) usage_error("--name %s: reserved for the CA's own files", name);
  }
  lashup_config_t *cfg = NULL;
  if (lashup_config_new(&cfg) != LASHUP_OK) {
    fputs("lashupd: out of memory\n", stderr);
    exit(EXIT_RUNTIME_FAILURE);
  }
  set_key(cfg, "node_name", name);
  lashup_config_destroy(cfg);
}

static int run_ca(int argc, char **argv) {
  if (argc < 3) usage_error("ca needs a command: init or issue");
  if (is_help(argv[2])) {
    fputs(kUsage, stdout);
    return 0;
  }
  const char *command = argv[2];
  int init = strcmp(command, "init") == 0;
  if (!init && strcmp(command, "issue") != 0) usage_error("unknown ca command \"%s\" (init or issue)", command);
  const char *dir = NULL;
  int force = 0;
  const char **names = calloc((size_t)argc, sizeof *names);
  size_t name_count = 0;
  if (names == NULL) {
    fputs("lashupd: out of memory\n", stderr);
    return EXIT_RUNTIME_FAILURE;
  }
  for (int i = 3; i < argc; i++) {
    const char *name = NULL;
    if (is_help(argv[i])) {
      fputs(kUsage, stdout);
      free(names);
      return 0;
    } else if (take_value(argc, argv, &i, "--dir", &dir)) {
      /* stored */
    } else if (init && strcmp(argv[i], "--force") == 0) {
      force = 1;
    } else if (!init && take_value(argc, argv, &i, "--name", &name)) {
      check_node_name(name);
      names[name_count++] = name;
    } else {
      usage_error("ca %s: unexpected argument %s", command, argv[i]);
    }
  }
  if (dir == NULL || dir[0] == '\0') usage_error("ca %s needs --dir DIR", command);
  if (!init && name_count == 0) usage_error("ca issue needs at least one --name NAME");

  char err[512] = "";
  int status = 0;
  if (init) {
    int rc = devca_init(dir, force, err, sizeof err);
    if (rc != DEVCA_OK) {
      fprintf(stderr, "lashupd: ca init: %s\n", err);
      status = rc == DEVCA_ERR_EXISTS ? EXIT_USAGE : EXIT_RUNTIME_FAILURE;
    }
  } else {
    for (size_t i = 0; i < name_count && status == 0; i++) {
      if (devca_issue(dir, names[i], err, sizeof err) != DEVCA_OK) {
        fprintf(stderr, "lashupd: ca issue %s: %s\n", names[i], err);
        status = EXIT_RUNTIME_FAILURE;
      }
    }
  }
  free(names);
  return status;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "ca") == 0) return run_ca(argc, argv);
  int first = argc >= 2 && strcmp(argv[1], "run") == 0 ? 2 : 1;
  run_options options;
  parse_run_options(argc, argv, first, &options);
  int status = run(&options);
  free(options.sets);
  free(options.topics);
  return status;
}
