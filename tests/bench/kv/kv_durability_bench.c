/* Local KV update throughput and latency per durability mode, through the
 * public C API on one running node (Berkeley DB underneath):
 *  - call: each of T threads calls lashup_kv_update in a loop (a counter add
 *    on one of 1,000 keys); each call returns once the update is applied and
 *    committed (with `sync`, fsynced);
 *  - async: one thread keeps up to 1,024 lashup_kv_update_async writes in
 *    flight and counts their KV_UPDATE_DONE events (latency: queued to
 *    completion event taken).
 * One JSON line per (durability, mode, threads):
 *   {"bench":"kv_update","durability":"group","mode":"call","threads":4,
 *    "updates_per_s":...,"p50_us":...,"p99_us":...}
 * usage: kv_durability_bench [seconds per run, default 3]
 * The data dir is a fresh directory under $TMPDIR (default /tmp); fsync
 * costs depend on that disk. */
#define _POSIX_C_SOURCE 200809L
#include <lashup/lashup.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 2000000

static double seconds_per_run = 3.0;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

struct worker {
  lashup_node_t *node;
  int id;
  uint64_t end_ns;
  uint64_t count;
  uint32_t *latency_us; /* per update, up to MAX_SAMPLES / threads */
  size_t capacity;
  int failed;
};

static void *run_worker(void *arg) {
  struct worker *w = arg;
  lashup_kv_ops_t *ops = NULL;
  if (lashup_kv_ops_new(&ops) != LASHUP_OK || lashup_kv_ops_counter_add(ops, "hits", 1) != LASHUP_OK) {
    w->failed = 1;
    return NULL;
  }
  char key[32];
  uint64_t i = 0;
  while (now_ns() < w->end_ns) {
    int n = snprintf(key, sizeof key, "bench/%d/%03u", w->id, (unsigned)(i % 1000));
    const uint64_t start = now_ns();
    if (lashup_kv_update(w->node, key, (size_t)n, ops, NULL, NULL) != LASHUP_OK) {
      fprintf(stderr, "kv_update: %s\n", lashup_last_error());
      w->failed = 1;
      break;
    }
    const uint64_t us = (now_ns() - start) / 1000u;
    if (w->count < w->capacity) w->latency_us[w->count] = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
    ++w->count;
    ++i;
  }
  lashup_kv_ops_destroy(ops);
  return NULL;
}

static int compare_u32(const void *a, const void *b) {
  const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Writes asynchronously for seconds_per_run with up to IN_FLIGHT pending;
 * returns the number completed, latencies into latency_us. */
#define IN_FLIGHT 1024
static uint64_t run_async(lashup_node_t *node, uint32_t *latency_us, size_t capacity, int *failed) {
  lashup_kv_ops_t *ops = NULL;
  if (lashup_kv_ops_new(&ops) != LASHUP_OK || lashup_kv_ops_counter_add(ops, "hits", 1) != LASHUP_OK) {
    *failed = 1;
    return 0;
  }
  static uint64_t started_ns[IN_FLIGHT * 4]; /* by request id, modulo */
  const size_t ring = sizeof started_ns / sizeof started_ns[0];
  const uint64_t end_ns = now_ns() + (uint64_t)(seconds_per_run * 1e9);
  uint64_t completed = 0, in_flight = 0, i = 0;
  char key[32];
  while (now_ns() < end_ns || in_flight > 0) {
    while (in_flight < IN_FLIGHT && now_ns() < end_ns) {
      int n = snprintf(key, sizeof key, "bench/a/%03u", (unsigned)(i % 1000));
      uint64_t id = 0;
      const uint64_t start = now_ns();
      const int rc = lashup_kv_update_async(node, key, (size_t)n, ops, NULL, &id);
      if (rc == LASHUP_ERR_AGAIN) break;
      if (rc != LASHUP_OK) {
        fprintf(stderr, "kv_update_async: %s\n", lashup_last_error());
        *failed = 1;
        lashup_kv_ops_destroy(ops);
        return completed;
      }
      started_ns[id % ring] = start;
      ++in_flight;
      ++i;
    }
    lashup_event_t *ev = NULL;
    int rc = lashup_node_poll(node, &ev, in_flight >= IN_FLIGHT || now_ns() >= end_ns ? 100 : 0);
    while (rc == LASHUP_OK) {
      if (lashup_event_type(ev) == LASHUP_EVENT_KV_UPDATE_DONE) {
        if (lashup_event_status(ev) != LASHUP_OK) {
          fprintf(stderr, "kv_update_async completion: %s\n", lashup_event_error(ev));
          *failed = 1;
        }
        const uint64_t us = (now_ns() - started_ns[lashup_event_request_id(ev) % ring]) / 1000u;
        if (completed < capacity) latency_us[completed] = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
        ++completed;
        --in_flight;
      }
      lashup_event_destroy(ev);
      rc = lashup_node_poll(node, &ev, 0);
    }
    if (rc != LASHUP_ERR_AGAIN) {
      *failed = 1;
      break;
    }
  }
  lashup_kv_ops_destroy(ops);
  return completed;
}

static int run(const char *durability, int threads) {
  const char *tmp = getenv("TMPDIR");
  char dir[256];
  snprintf(dir, sizeof dir, "%s/lashup-kv-bench-XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) return 1;
  lashup_config_t *cfg = NULL;
  char err[256];
  lashup_config_new(&cfg);
  const char *settings[][2] = {{"node_name", "bench"}, {"listen_address", "127.0.0.1:0"}, {"data_dir", dir},
                               {"tls", "off"},        {"durability", durability},           {"log.level", "error"}};
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; ++i) {
    if (lashup_config_set(cfg, settings[i][0], settings[i][1], err, sizeof err) != LASHUP_OK) {
      fprintf(stderr, "config: %s\n", err);
      return 1;
    }
  }
  lashup_node_t *node = NULL;
  if (lashup_node_new(&node, cfg, err, sizeof err) != LASHUP_OK || lashup_node_start(node) != LASHUP_OK) {
    fprintf(stderr, "node: %s %s\n", err, lashup_last_error());
    return 1;
  }
  lashup_config_destroy(cfg);
  struct worker workers[16];
  pthread_t ids[16];
  const uint64_t start = now_ns();
  const int async = threads == 0;
  if (async) {
    workers[0] = (struct worker){node, 0, 0, 0, malloc(MAX_SAMPLES * sizeof(uint32_t)), MAX_SAMPLES, 0};
    workers[0].count = run_async(node, workers[0].latency_us, workers[0].capacity, &workers[0].failed);
    threads = 1;
  }
  for (int t = 0; t < threads && !async; ++t) {
    workers[t] = (struct worker){node, t, start + (uint64_t)(seconds_per_run * 1e9), 0, NULL, 0, 0};
    workers[t].capacity = MAX_SAMPLES / (size_t)threads;
    workers[t].latency_us = malloc(workers[t].capacity * sizeof(uint32_t));
    pthread_create(&ids[t], NULL, run_worker, &workers[t]);
  }
  uint64_t total = 0;
  size_t samples = 0;
  int failed = 0;
  for (int t = 0; t < threads; ++t) {
    if (!async) pthread_join(ids[t], NULL);
    total += workers[t].count;
    samples += workers[t].count < workers[t].capacity ? workers[t].count : workers[t].capacity;
    failed |= workers[t].failed;
  }
  const double elapsed = (double)(now_ns() - start) / 1e9;
  uint32_t *all = malloc((samples ? samples : 1) * sizeof(uint32_t));
  size_t k = 0;
  for (int t = 0; t < threads; ++t) {
    const size_t n = workers[t].count < workers[t].capacity ? workers[t].count : workers[t].capacity;
    memcpy(all + k, workers[t].latency_us, n * sizeof(uint32_t));
    k += n;
    free(workers[t].latency_us);
  }
  qsort(all, samples, sizeof(uint32_t), compare_u32);
  printf("{\"bench\":\"kv_update\",\"durability\":\"%s\",\"mode\":\"%s\",\"threads\":%d,\"updates\":%llu,"
         "\"updates_per_s\":%.0f,\"p50_us\":%u,\"p99_us\":%u,\"failed\":%s}\n",
         durability, async ? "async" : "call", threads, (unsigned long long)total, (double)total / elapsed, samples ? all[samples / 2] : 0,
         samples ? all[samples * 99 / 100] : 0, failed ? "true" : "false");
  fflush(stdout);
  free(all);
  lashup_node_destroy(node);
  char command[300];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  return system(command) == 0 && !failed ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc > 1) seconds_per_run = atof(argv[1]);
  const char *modes[] = {"none", "group", "sync"};
  const int thread_counts[] = {1, 4, 0}; /* 0: one thread, asynchronous writes */
  int status = 0;
  for (size_t m = 0; m < 3; ++m) {
    for (size_t t = 0; t < 3; ++t) status |= run(modes[m], thread_counts[t]);
  }
  return status;
}
